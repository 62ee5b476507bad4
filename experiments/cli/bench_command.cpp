// `stripes bench ...`: benchmarks. Every line prints the achieved rate next to the machine's
// measured capability, so a figure can be judged without knowing the machine.
//   bench matmul     float32/float64 GEMM at n³ sizes, all cores (GFLOP/s), beside the measured
//                    copy bandwidth and the time floor it implies for the operands' bytes.
//   bench attention  softmax / linear (prefix, chunked) attention with any PE, forward and
//                    forward+backward, beside the flop and byte floors (experiments/bench/attention_bench.hpp).
//   bench train      one training step of the harmonization model: tokens/s, peak memory, share of
//                    time per component (experiments/bench/train_bench.hpp).
// `--json FILE` writes what the table shows (and the machine's measured rates) for comparing runs.
#include "experiments/bench/attention_bench.hpp"
#include "experiments/bench/machine.hpp"
#include "experiments/bench/train_bench.hpp"
#include "experiments/cli/command_registry.hpp"
#include "experiments/cli/device_option.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/error.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace stripes::cli {

namespace {

void write_json(const std::string& path, const nlohmann::json& json) {
  std::ofstream out(path);
  STRIPES_CHECK(out.good(), "bench: cannot write '{}'", path);
  out << json.dump(2) << "\n";
  STRIPES_CHECK(out.good(), "bench: error writing '{}'", path);
  fmt::print("wrote {}\n", path);
}

void print_machine(const bench::MachineInfo& machine) {
  fmt::print("machine: {} threads ({}), load average {:.2f} at start\n", machine.threads,
             machine.cpu.empty() ? "cpu ?" : machine.cpu, machine.load_average);
  if (machine.device == Device::CUDA) {
    fmt::print("device: {}; measured: float32 matmul 4096³ {:.1f} GFLOP/s (cuBLAS), device copy bandwidth {:.1f} GB/s (read + write)\n",
               machine.gpu, machine.matmul_flops / 1e9, machine.copy_bytes / 1e9);
    return;
  }
  fmt::print("measured: float32 matmul 1024³ {:.1f} GFLOP/s ({:.0f}% of the {:.1f} GFLOP/s FMA peak), copy bandwidth {:.1f} GB/s (read + write)\n",
             machine.matmul_flops / 1e9, 100.0 * machine.matmul_flops / machine.fma_peak_flops,
             machine.fma_peak_flops / 1e9, machine.copy_bytes / 1e9);
}

std::string megabytes(double bytes) { return fmt::format("{:.1f}", bytes / (1024.0 * 1024.0)); }

void add_matmul_command(CLI::App& bench) {
  auto* matmul_cmd = bench.add_subcommand("matmul", "Square matrix products n x n x n on all cores");
  auto sizes = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{512, 1024});
  auto dtype_name = std::make_shared<std::string>("float32");
  auto threads = std::make_shared<int>(0);
  auto device_name_option = std::make_shared<std::string>("cpu");
  matmul_cmd->add_option("--sizes", *sizes, "Matrix sizes n")->delimiter(',');
  matmul_cmd->add_option("--dtype", *dtype_name, "float32 or float64")->check(CLI::IsMember({"float32", "float64"}));
  matmul_cmd->add_option("--threads", *threads, "OpenMP threads (0 = all cores)");
  add_device_option(*matmul_cmd, *device_name_option, "Where the products run");
  matmul_cmd->callback([sizes, dtype_name, threads, device_name_option] {
    if (*threads > 0) omp_set_num_threads(*threads);
    const DType dtype = parse_dtype(*dtype_name);
    const Device device = usable_device("bench matmul", *device_name_option);
    const double bandwidth = device == Device::CPU ? bench::measure_copy_bandwidth() : bench::measure_device_copy_bandwidth();
    if (device == Device::CPU) {
      fmt::print("machine: {} threads, measured copy bandwidth {:.1f} GB/s, float32 FMA peak {:.1f} GFLOP/s\n", max_threads(),
                 bandwidth / 1e9, bench::measure_fma_peak() / 1e9);
    } else {
      fmt::print("device: {}, measured device copy bandwidth {:.1f} GB/s\n", cuda::device_description(), bandwidth / 1e9);
    }
    fmt::print("{:>6}  {:>8}  {:>10}  {:>10}  {:>12}  {:>16}\n", "n", "dtype", "time ms", "GFLOP/s", "GFLOP/s/core",
               "byte floor ms");
    Generator generator(0);
    for (int64_t n : *sizes) {
      STRIPES_CHECK(n > 0, "bench matmul: size {} must be positive", n);
      const Tensor a = Tensor::randn({n, n}, generator, dtype, device), b = Tensor::randn({n, n}, generator, dtype, device);
      const double t = bench::best_time([&] {
        matmul(a, b);
        if (device == Device::CUDA) cuda::synchronize();
      });
      const double flops = 2.0 * double(n) * double(n) * double(n);
      const double bytes = 3.0 * double(n * n) * double(dtype_size(dtype));  // read A, B; write C
      fmt::print("{:>6}  {:>8}  {:>10.3f}  {:>10.1f}  {:>12.1f}  {:>16.3f}\n", n, *dtype_name, t * 1e3, flops / t / 1e9,
                 device == Device::CPU ? flops / t / 1e9 / max_threads() : NAN, bytes / bandwidth * 1e3);
    }
  });
}

void add_attention_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "attention", "Attention from per-head q, k, v to y: softmax and linear (prefix-sum, chunked), any PE, on the CPU or GPU");
  auto options = std::make_shared<bench::AttentionBenchOptions>();
  auto json_path = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  auto device_name_option = std::make_shared<std::string>("cpu");
  cmd->add_option("--T", options->lengths, "Sequence lengths (comma-separated)")->delimiter(',')->capture_default_str();
  cmd->add_option("--M", options->features, "Random features of φ")->delimiter(',')->capture_default_str();
  cmd->add_option("--D", options->head_dims, "Head dimensions")->delimiter(',')->capture_default_str();
  cmd->add_option("--bh", options->sequences, "Batch × heads (independent sequences)")->delimiter(',')->capture_default_str();
  cmd->add_option("--kinds", options->kinds, "softmax, linear-prefix, linear-chunked, linear-chunked-composed")->delimiter(',')->capture_default_str();
  cmd->add_option("--pes", options->pes, "Positional encodings (or 'all': every PE a linear kind takes)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--modes", options->modes, "forward, forward+backward")->delimiter(',')->capture_default_str();
  cmd->add_option("--chunk", options->chunk, "Chunk size of linear-chunked")->capture_default_str();
  cmd->add_option("--min-time", options->min_seconds, "Seconds to spend per case (best time reported)")->capture_default_str();
  cmd->add_option("--min-runs", options->min_runs, "Timed runs per case at least")->capture_default_str();
  cmd->add_option("--softmax-max-elements", options->softmax_max_elements,
                  "Skip softmax when batch·heads·T² exceeds this")
      ->capture_default_str();
  cmd->add_flag("--breakdown", options->breakdown, "One more run per case with profile labels: time per component");
  cmd->add_option("--threads", *threads, "OpenMP threads (0 = all cores)");
  add_device_option(*cmd, *device_name_option, "Where q, k, v and the kernels live");
  cmd->add_option("--json", *json_path, "Also write the results as JSON to this file");
  cmd->callback([options, json_path, threads, device_name_option] {
    if (*threads > 0) omp_set_num_threads(*threads);
    if (options->pes.size() == 1 && options->pes[0] == "all") options->pes = bench::linear_pe_names();
    options->device = usable_device("bench attention", *device_name_option);
    bench::check_attention_bench_options(*options);  // before the machine is measured (a second)
    const bench::MachineInfo machine = bench::measure_machine(DType::Float32, options->device);
    print_machine(machine);
    fmt::print("causal attention, float32, q k v [1, BH, T, D]; FAVOR+ φ; floor = max(FLOPs / matmul rate, bytes / copy bandwidth)\n");
    fmt::print("{:<23} {:<9} {:<8} {:>6} {:>4} {:>4} {:>4} {:>10} {:>9} {:>8} {:>7} {:>10} {:>10} {:>8} {:>9}\n", "kind", "pe",
               "mode", "T", "M", "D", "BH", "time ms", "ns/token", "GFLOP/s", "GB/s", "flop fl ms", "byte fl ms", "x floor",
               "peak MB");
    const auto results = bench::run_attention_bench(*options, machine, [](const bench::AttentionBenchResult& r) {
      const std::string mode = r.mode == "forward" ? "fwd" : "fwd+bwd";
      if (r.skipped) {
        fmt::print("{:<23} {:<9} {:<8} {:>6} {:>4} {:>4} {:>4}  ({})\n", r.kind, r.pe, mode, r.length, r.features, r.head_dim,
                   r.sequences, r.note);
      } else {
        fmt::print("{:<23} {:<9} {:<8} {:>6} {:>4} {:>4} {:>4} {:>10.2f} {:>9.1f} {:>8.1f} {:>7.2f} {:>10.2f} {:>10.3f} {:>8.2f} {:>9}\n",
                   r.kind, r.pe, mode, r.length, r.features, r.head_dim, r.sequences, r.seconds * 1e3,
                   r.seconds / double(r.length * r.sequences) * 1e9, r.flops / r.seconds / 1e9, r.bytes / r.seconds / 1e9,
                   r.flop_floor * 1e3, r.byte_floor * 1e3, r.seconds / r.floor(), megabytes(r.peak_bytes));
        if (!r.components.empty()) {
          std::string line = "    breakdown (ms, one profiled run):";
          for (const auto& [label, seconds] : r.components) line += fmt::format(" {} {:.1f};", label, seconds * 1e3);
          fmt::print("{}\n", line);
        }
      }
      std::fflush(stdout);
    });
    if (!json_path->empty()) {
      nlohmann::json json;
      json["benchmark"] = "attention";
      json["machine"] = bench::machine_json(machine);
      json["machine"]["load_average_end"] = bench::load_average();
      json["dtype"] = "float32";
      json["device"] = *device_name_option;
      json["chunk"] = options->chunk;
      json["results"] = nlohmann::json::array();
      for (const auto& r : results) json["results"].push_back(bench::to_json(r));
      write_json(*json_path, json);
    }
  });
}

void add_train_command(CLI::App& bench) {
  auto* cmd = bench.add_subcommand(
      "train", "One training step of the harmonization model on synthetic data: tokens/s, peak memory, time per component");
  auto options = std::make_shared<bench::TrainBenchOptions>();
  auto json_path = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(0);
  cmd->add_option("--preset", options->presets, "Model presets (paper, small)")->delimiter(',')->capture_default_str();
  cmd->add_option("--pes", options->pes, "Positional encodings (default: the preset's; 'all-linear' for every linear PE)")
      ->delimiter(',');
  cmd->add_option("--T", options->lengths, "Sequence lengths (default: the preset's)")->delimiter(',');
  cmd->add_option("--batch", options->batch, "Batch size (default: the preset's)");
  cmd->add_option("--steps", options->steps, "Timed steps per configuration (after one warm-up step)")->capture_default_str();
  cmd->add_option("--causal", options->causal_algorithm, "Causal product: auto, prefix, chunked or chunked-composed (default: the preset's)")
      ->check(CLI::IsMember({"prefix", "chunked", "chunked-composed", "auto"}));
  cmd->add_option("--attention", options->attention, "linear or softmax (default: the preset's)")
      ->check(CLI::IsMember({"linear", "softmax"}));
  cmd->add_option("--context", options->context, "TIME, REP, KEY, BIN or MCP (default: the preset's)");
  cmd->add_option("--threads", *threads, "OpenMP threads (0 = all cores)");
  auto device_name_option = std::make_shared<std::string>("cpu");
  add_device_option(*cmd, *device_name_option, "Where the model and the batch live");
  cmd->add_option("--json", *json_path, "Also write the results as JSON to this file");
  cmd->callback([options, json_path, threads, device_name_option] {
    if (*threads > 0) omp_set_num_threads(*threads);
    if (options->pes.size() == 1 && options->pes[0] == "all-linear") options->pes = bench::linear_pe_names();
    options->device = usable_device("bench train", *device_name_option);
    bench::MachineInfo machine = bench::measure_machine(DType::Float32, options->device);
    print_machine(machine);
    const auto results = bench::run_train_bench(*options, [&machine](const bench::TrainBenchResult& r) {
      fmt::print("\n{} preset, pe {}, context {}, {} attention{}, T {}, batch {}, {} parameters, {} timed steps\n", r.preset,
                 r.pe, r.context, r.attention, r.causal_algorithm.empty() ? "" : " (" + r.causal_algorithm + ")", r.length,
                 r.batch, r.parameters, r.steps);
      fmt::print("  step {:.3f} s, {:.0f} tokens/s, loss {:.4f}\n", r.seconds_per_step, r.tokens_per_second, r.loss);
      fmt::print("  memory: peak {} MB during a step ({} MB above the {} MB resident before it; {:.1f} KB per token)\n",
                 megabytes(r.peak_bytes), megabytes(r.step_peak_bytes), megabytes(r.resident_bytes),
                 r.step_peak_bytes / double(r.length * r.batch) / 1024.0);
      if (r.matmul_seconds > 0) {
        const double floor = r.matmul_flops / machine.matmul_flops;
        fmt::print("  matmul (every stripes::matmul: the Linear layers, PE products): {:.1f} GFLOP per step in {:.3f} s, {:.1f} GFLOP/s; floor at the measured "
                   "matmul rate {:.3f} s (x{:.2f}); the rest of the step {:.3f} s\n",
                   r.matmul_flops / 1e9, r.matmul_seconds, r.matmul_flops / r.matmul_seconds / 1e9, floor,
                   r.matmul_seconds / floor, r.seconds_per_step - r.matmul_seconds);
      }
      double total = 0;
      for (const auto& [label, seconds] : r.components) total += seconds;
      fmt::print("  {:<36} {:>9} {:>7}\n", "component", "ms/step", "share");
      for (const auto& [label, seconds] : r.components) {
        fmt::print("  {:<36} {:>9.1f} {:>6.1f}%\n", label, seconds * 1e3, total > 0 ? 100.0 * seconds / total : 0.0);
      }
      std::fflush(stdout);
    });
    if (!json_path->empty()) {
      nlohmann::json json;
      json["benchmark"] = "train";
      json["machine"] = bench::machine_json(machine);
      json["machine"]["load_average_end"] = bench::load_average();
      json["results"] = nlohmann::json::array();
      for (const auto& r : results) json["results"].push_back(bench::to_json(r));
      write_json(*json_path, json);
    }
  });
}

}  // namespace

static void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks (time, achieved FLOP/s and GB/s beside the machine's floor)");
  bench->require_subcommand(1);
  add_matmul_command(*bench);
  add_attention_command(*bench);
  add_train_command(*bench);
}
STRIPES_REGISTER_COMMANDS(add_bench_commands)

}  // namespace stripes::cli
