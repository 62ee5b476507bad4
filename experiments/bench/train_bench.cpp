#include "experiments/bench/train_bench.hpp"

#include "attention/causal_product.hpp"
#include "attention/positional_encoding.hpp"
#include "autograd/ops.hpp"
#include "experiments/harmonization/model.hpp"
#include "nn/optim/clip.hpp"
#include "nn/optim/optimizer.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/error.hpp"
#include "tensor/profile.hpp"
#include "tensor/storage.hpp"

#include <algorithm>
#include <map>

namespace stripes::bench {

namespace {

harmonization::HarmonizationConfig bench_config(const TrainBenchOptions& options, const std::string& preset,
                                                const std::string& pe, int64_t length) {
  harmonization::HarmonizationConfig config = harmonization::preset_config(preset);
  if (!pe.empty()) config.pe = pe;
  if (!options.attention.empty()) config.attention = options.attention;
  if (!options.context.empty()) config.context = options.context;
  if (!options.causal_algorithm.empty()) config.causal_algorithm = options.causal_algorithm;
  if (length > 0) config.sequence_length = int(length);
  if (options.batch > 0) config.batch_size = int(options.batch);
  if (config.pe == "stripe") config.attention = "softmax";                      // exact S-RPE only exists there
  if (config.pe == "ape" && config.position_dim() != 1) config.context = "TIME";  // APE needs scalar positions
  config.validate();
  return config;
}

TrainBenchResult run_one(const TrainBenchOptions& options, const harmonization::HarmonizationConfig& config) {
  TrainBenchResult r;
  r.preset = config.preset;
  r.pe = config.pe;
  r.context = config.context;
  r.attention = config.attention;
  if (config.attention == "linear") {  // auto is shown with what it runs here
    const std::string_view resolved = attention::causal_algorithm_name(
        attention::resolve_causal_algorithm(attention::parse_causal_algorithm(config.causal_algorithm), options.device));
    r.causal_algorithm = config.causal_algorithm == "auto" ? fmt::format("auto: {}", resolved) : config.causal_algorithm;
  }
  r.length = config.sequence_length;
  r.batch = config.batch_size;
  r.steps = options.steps;

  harmonization::HarmonizationModel model(config);
  model.to(options.device);
  model.train();
  r.parameters = model.parameter_count();
  const nn::NamedParameters parameters = model.named_parameters();
  nn::Adam optimizer(parameters, nn::AdamOptions{.learning_rate = config.learning_rate});

  Generator generator(config.seed + 17);
  const int64_t b = config.batch_size, t = config.sequence_length, width = config.position_dim();
  const Tensor input = Tensor::bernoulli({b, t, data::kInputRows}, 0.05, generator).to(options.device);
  const Tensor target = Tensor::bernoulli({b, t, data::kTargetRows}, 0.05, generator).to(options.device);
  const Tensor positions = (width == 1 ? Tensor::arange(t, DType::Float32).unsqueeze(0).expand({b, t}).contiguous()
                                       : Tensor::bernoulli({b, t, width}, 0.3, generator))
                               .to(options.device);
  const bool gpu = options.device == Device::CUDA;

  auto step = [&] {
    optimizer.zero_grad();
    const ag::Var loss = model.loss(input, target, positions);
    loss.backward();
    {
      profile::Scope scope("optimizer");
      if (config.clip_grad_norm > 0) nn::clip_grad_norm(parameters, config.clip_grad_norm);
      optimizer.step();
    }
    const double value = loss.item();
    if (gpu) cuda::synchronize();  // the step ends when the GPU is done with it
    return value;
  };
  // The allocator of the step's device: bytes in use, and the high-water mark since the reset.
  auto bytes_in_use = [gpu] { return gpu ? cuda::memory_stats().in_use : Storage::cpu_bytes_in_use(); };
  auto bytes_peak = [gpu] { return gpu ? cuda::memory_stats().peak : Storage::cpu_bytes_peak(); };
  auto reset_peak = [gpu] { gpu ? cuda::reset_peak() : Storage::reset_cpu_peak(); };

  step();  // warm-up: first-touch page faults, thread start (CPU); the caching allocator's first cudaMallocs (GPU)
  profile::reset();
  double total = 0;
  {
    // On the CPU the timed steps are also the profiled ones (a scope costs two clock reads). On the
    // GPU a profiled scope waits for the device, so the timed steps run unprofiled and one more step
    // below gives the breakdown.
    profile::EnableGuard on(!gpu);
    for (int i = 0; i < options.steps; ++i) {
      const size_t before = bytes_in_use();
      reset_peak();
      const auto start = Clock::now();
      r.loss = step();
      total += seconds_since(start);
      const size_t peak = bytes_peak();
      r.resident_bytes = double(before);
      r.peak_bytes = std::max(r.peak_bytes, double(peak));
      r.step_peak_bytes = std::max(r.step_peak_bytes, double(peak - before));
    }
  }
  r.seconds_per_step = total / options.steps;
  r.tokens_per_second = double(b * t) / r.seconds_per_step;
  int profiled_steps = options.steps;
  if (gpu) {
    profile::set_synchronize_device(true);
    profile::EnableGuard on;
    const auto start = Clock::now();
    step();
    total = seconds_since(start);  // the breakdown's own total: the profiled step, with its waits
    profile::set_synchronize_device(false);
    profiled_steps = 1;
  }
  double attributed = 0;
  for (const profile::Entry& e : profile::entries()) {
    r.components.emplace_back(e.label, e.seconds / profiled_steps);
    attributed += e.seconds;
  }
  r.components.emplace_back("other", std::max(0.0, total - attributed) / profiled_steps);
  const profile::MatmulTotals matmul = profile::matmul_totals();
  r.matmul_flops = matmul.flops / profiled_steps;
  r.matmul_seconds = matmul.seconds / profiled_steps;  // 0 on the GPU: a cuBLAS call returns before its kernel ends
  profile::reset();
  return r;
}

}  // namespace

std::vector<TrainBenchResult> run_train_bench(const TrainBenchOptions& options,
                                              const std::function<void(const TrainBenchResult&)>& on_result) {
  STRIPES_CHECK(options.steps >= 1, "bench train: --steps must be >= 1, got {}", options.steps);
  STRIPES_CHECK(options.batch >= 0, "bench train: --batch must be >= 0, got {}", options.batch);
  std::vector<TrainBenchResult> results;
  const std::vector<std::string> pes = options.pes.empty() ? std::vector<std::string>{""} : options.pes;
  const std::vector<int64_t> lengths = options.lengths.empty() ? std::vector<int64_t>{0} : options.lengths;
  for (const std::string& preset : options.presets) {
    for (const std::string& pe : pes) {
      for (int64_t length : lengths) {
        const harmonization::HarmonizationConfig config = bench_config(options, preset, pe, length);
        results.push_back(run_one(options, config));
        if (on_result) on_result(results.back());
      }
    }
  }
  return results;
}

nlohmann::json to_json(const TrainBenchResult& r) {
  nlohmann::json components = nlohmann::json::object();
  double total = 0;
  for (const auto& [label, seconds] : r.components) total += seconds;
  for (const auto& [label, seconds] : r.components) {
    components[label] = {{"seconds", seconds}, {"share", total > 0 ? seconds / total : 0.0}};
  }
  return {{"preset", r.preset},
          {"pe", r.pe},
          {"context", r.context},
          {"attention", r.attention},
          {"causal_algorithm", r.causal_algorithm},
          {"T", r.length},
          {"batch", r.batch},
          {"parameters", r.parameters},
          {"steps", r.steps},
          {"seconds_per_step", r.seconds_per_step},
          {"tokens_per_second", r.tokens_per_second},
          {"peak_bytes", r.peak_bytes},
          {"step_peak_bytes", r.step_peak_bytes},
          {"resident_bytes", r.resident_bytes},
          {"matmul_flops_per_step", r.matmul_flops},
          {"matmul_seconds_per_step", r.matmul_seconds},
          {"loss", r.loss},
          {"components", components}};
}

}  // namespace stripes::bench
