#include "experiments/bench/attention_bench.hpp"

#include "attention/feature_maps.hpp"
#include "attention/linear_attention.hpp"
#include "attention/positional_encoding.hpp"
#include "autograd/ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/error.hpp"
#include "tensor/profile.hpp"
#include "tensor/storage.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

namespace stripes::bench {

namespace {

bool is_linear(const std::string& kind) {
  return kind == "linear-prefix" || kind == "linear-chunked" || kind == "linear-chunked-composed";
}

// FLOPs of one case, summed over the BH sequences (multiply-add = 2 FLOPs). Only the GEMM-like work
// is counted; elementwise work (the PE's rotations, exp of the feature map, the softmax itself,
// divisions) is not, so the flop floor is a lower bound that heavier PEs stay further above.
//   d = d_φ (the PE's output dim), Dv = D, Q = Dv + 1 (values and the column of ones), M features
// linear, forward:
//   feature map  u = x'W for q and k                              2 · 2·T·d·(M/2)  = 2·T·d·M
//   causal product (prefix-sum count, the minimum of both algorithms):
//                S_t += b_t c_tᵀ (2MQ), out_t = S_tᵀ a_t (2MQ)   4·T·M·Q
// linear, backward (added for forward+backward):
//   feature map  ∂x = ∂u Wᵀ for q and k (W is constant)           2·T·d·M
//   causal product: three permuted causal products                 12·T·M·Q
// softmax (the dense T×T products, without skipping the masked half), forward:
//   scores q kᵀ 2·T²·d,  weights · v 2·T²·Dv                       2·T²·(d + Dv)
// softmax backward: ∂scores = ∂y vᵀ, ∂v = Pᵀ ∂y, ∂q = ∂S k, ∂k = ∂Sᵀ q   4·T²·(d + Dv)
// noisy spectral PEs (spe-sine; the matmul of the pooled codes, per q and k):
//   forward  2 · (2·T·(2·D·K)·R + 2·T·D·R)   (codes @ weights, gated term),  backward twice that
double flop_count(const AttentionBenchResult& r, int64_t sines, int64_t realizations) {
  const double t = double(r.length), d = double(r.feature_dim), dv = double(r.head_dim), m = double(r.features);
  const double q = dv + 1;
  const bool backward = r.mode == "forward+backward";
  double per_sequence = 0;
  if (is_linear(r.kind)) {
    per_sequence = 2 * t * d * m + 4 * t * m * q;
    if (backward) per_sequence += 2 * t * d * m + 12 * t * m * q;
  } else {
    per_sequence = 2 * t * t * (d + dv);
    if (backward) per_sequence += 4 * t * t * (d + dv);
  }
  if (r.pe == "spe-sine") {
    const double pe_forward = 2 * (2 * t * (2 * dv * double(sines)) * double(realizations) + 2 * t * dv * double(realizations));
    per_sequence += backward ? 3 * pe_forward : pe_forward;
  }
  return per_sequence * double(r.sequences);
}

// Compulsory bytes (element size s): forward reads q, k, v and writes y: 4·T·D·s per sequence;
// forward+backward also reads ∂y, q, k, v and writes ∂q, ∂k, ∂v: 11·T·D·s. Intermediates (φ, the
// T×T matrices of softmax) are the implementation's business and are not counted.
double byte_count(const AttentionBenchResult& r, int64_t element_size) {
  const double per_sequence = (r.mode == "forward+backward" ? 11.0 : 4.0) * double(r.length) * double(r.head_dim);
  return per_sequence * double(element_size) * double(r.sequences);
}

void run_case(AttentionBenchResult& r, const AttentionBenchOptions& options, const MachineInfo& machine) {
  const DType dtype = DType::Float32;
  attention::PositionalEncodingConfig pe_config;
  pe_config.name = r.pe;
  pe_config.heads = r.sequences;
  pe_config.head_dim = r.head_dim;
  pe_config.model_dim = r.sequences * r.head_dim;
  pe_config.position_dim = 1;
  pe_config.dtype = dtype;
  pe_config.seed = 1;
  auto pe = attention::make_positional_encoding(pe_config);
  pe->to(options.device);
  r.feature_dim = pe->feature_dim();
  r.flops = flop_count(r, pe_config.num_sines, pe_config.realizations);
  r.bytes = byte_count(r, dtype_size(dtype));
  r.flop_floor = r.flops / machine.matmul_flops;
  r.byte_floor = r.bytes / machine.copy_bytes;

  if (r.kind == "softmax" && r.sequences * r.length * r.length > options.softmax_max_elements) {
    r.skipped = true;
    r.note = fmt::format("softmax skipped: BH·T² = {} > --softmax-max-elements {}", r.sequences * r.length * r.length,
                         options.softmax_max_elements);
    return;
  }
  if (is_linear(r.kind) && pe->uses_score_bias()) {
    r.skipped = true;
    r.note = fmt::format("{} is exact O(T²) attention (softmax only)", r.pe);
    return;
  }

  Generator generator(7);
  const Device device = options.device;
  const bool backward = r.mode == "forward+backward";
  const Shape shape = {1, r.sequences, r.length, r.head_dim};
  const Tensor q = Tensor::randn(shape, generator, dtype, device), k = Tensor::randn(shape, generator, dtype, device);
  const Tensor v = Tensor::randn(shape, generator, dtype, device), grad_y = Tensor::randn(shape, generator, dtype, device);
  const Tensor projection =
      is_linear(r.kind) ? attention::draw_random_projection(r.feature_dim, r.features / 2, generator, dtype).to(device) : Tensor();
  // linear-<algorithm>: prefix, chunked or chunked-composed
  const attention::CausalAlgorithm algorithm =
      is_linear(r.kind) ? attention::parse_causal_algorithm(r.kind.substr(std::string("linear-").size()))
                        : attention::CausalAlgorithm::Prefix;

  // The same steps and profile labels as attention::PositionalAttention::forward.
  auto attend = [&](const ag::Var& qv, const ag::Var& kv, const ag::Var& vv) {
    attention::PositionalEncoding::Encoded encoded;
    ag::Var bias;
    {
      profile::Scope scope("pe");
      encoded = pe->encode(qv, kv, Tensor());
      if (pe->uses_score_bias()) bias = pe->score_bias(qv, Tensor());
    }
    if (r.kind == "softmax") {
      profile::Scope scope("attention core");
      return attention::softmax_attention(encoded.query, encoded.key, vv, true, bias);
    }
    ag::Var phi_q, phi_k;
    {
      profile::Scope scope("feature map");
      phi_q = attention::favor_features(encoded.query, projection, true);
      phi_k = attention::favor_features(encoded.key, projection, false);
    }
    profile::Scope scope("attention core");
    return attention::linear_attention(phi_q, phi_k, vv, true, attention::kLinearAttentionEpsilon, nullptr, algorithm,
                                       options.chunk);
  };
  auto one_run = [&] {
    if (backward) {
      const ag::Var qv(q, true), kv(k, true), vv(v, true);
      attend(qv, kv, vv).backward(grad_y);
    } else {
      ag::NoGradGuard no_grad;
      attend(ag::Var(q), ag::Var(k), ag::Var(v));
    }
    if (device == Device::CUDA) cuda::synchronize();  // the time of the work, not of its launch
  };
  if (device == Device::CUDA) {
    try {
      one_run();  // warm-up
    } catch (const std::exception& e) {
      r.skipped = true;
      r.note = fmt::format("failed on cuda: {}", e.what());
      return;
    }
    const size_t before = cuda::memory_stats().in_use;
    cuda::reset_peak();
    one_run();
    r.peak_bytes = double(cuda::memory_stats().peak - before);
  } else {
    one_run();  // warm-up, and the memory high-water mark of one run
    const size_t before = Storage::cpu_bytes_in_use();
    Storage::reset_cpu_peak();
    one_run();
    r.peak_bytes = double(Storage::cpu_bytes_peak() - before);
  }
  r.seconds = best_time(one_run, options.min_seconds, options.min_runs);
  if (options.breakdown) {
    profile::reset();
    {
      profile::set_synchronize_device(device == Device::CUDA);  // each kernel's time in the scope that launched it
      profile::EnableGuard on;
      profile::Scope total("other");
      one_run();
    }
    profile::set_synchronize_device(false);
    for (const profile::Entry& e : profile::entries()) r.components.emplace_back(e.label, e.seconds);
    profile::reset();
  }
}

}  // namespace

const std::vector<std::string>& linear_pe_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const std::string& name : attention::positional_encoding_names()) {
      if (name != "stripe") out.push_back(name);
    }
    return out;
  }();
  return names;
}

void check_attention_bench_options(const AttentionBenchOptions& options) {
  const auto& pe_names = attention::positional_encoding_names();
  for (const std::string& kind : options.kinds) {
    STRIPES_CHECK(kind == "softmax" || is_linear(kind), "bench attention: unknown kind '{}' (softmax, linear-prefix, linear-chunked, linear-chunked-composed)",
                  kind);
  }
  for (const std::string& pe : options.pes) {
    STRIPES_CHECK(std::find(pe_names.begin(), pe_names.end(), pe) != pe_names.end(),
                  "bench attention: unknown positional encoding '{}' (valid: {})", pe, fmt::join(pe_names, ", "));
  }
  for (const std::string& mode : options.modes) {
    STRIPES_CHECK(mode == "forward" || mode == "forward+backward",
                  "bench attention: unknown mode '{}' (forward, forward+backward)", mode);
  }
  for (int64_t m : options.features) STRIPES_CHECK(m > 0 && m % 2 == 0, "bench attention: M = {} must be even and positive", m);
  for (int64_t d : options.head_dims) STRIPES_CHECK(d > 0 && d % 2 == 0, "bench attention: D = {} must be even and positive", d);
  for (int64_t t : options.lengths) STRIPES_CHECK(t > 0, "bench attention: T = {} must be positive", t);
  for (int64_t s : options.sequences) STRIPES_CHECK(s > 0, "bench attention: batch × heads = {} must be positive", s);
  STRIPES_CHECK(options.chunk > 0, "bench attention: chunk = {} must be positive", options.chunk);
}

std::vector<AttentionBenchResult> run_attention_bench(const AttentionBenchOptions& options, const MachineInfo& machine,
                                                      const std::function<void(const AttentionBenchResult&)>& on_result) {
  check_attention_bench_options(options);
  std::vector<AttentionBenchResult> results;
  for (int64_t sequences : options.sequences) {
    for (int64_t head_dim : options.head_dims) {
      for (int64_t features : options.features) {
        for (const std::string& pe : options.pes) {
          for (const std::string& mode : options.modes) {
            for (const std::string& kind : options.kinds) {
              for (int64_t length : options.lengths) {
                AttentionBenchResult r;
                r.kind = kind;
                r.pe = pe;
                r.mode = mode;
                r.length = length;
                r.features = kind == "softmax" ? 0 : features;
                r.head_dim = head_dim;
                r.sequences = sequences;
                // softmax does not depend on M: run it once per shape (for the first M)
                if (kind == "softmax" && features != options.features.front()) continue;
                run_case(r, options, machine);
                if (on_result) on_result(r);
                results.push_back(r);
              }
            }
          }
        }
      }
    }
  }
  return results;
}

nlohmann::json machine_json(const MachineInfo& machine) {
  return {{"device", std::string(device_name(machine.device))},
          {"threads", machine.threads},
          {"cpu", machine.cpu},
          {"gpu", machine.gpu},
          {"matmul_gflops", machine.matmul_flops / 1e9},
          {"fma_peak_gflops", machine.fma_peak_flops / 1e9},
          {"copy_gbs", machine.copy_bytes / 1e9},
          {"load_average", machine.load_average}};
}

nlohmann::json to_json(const AttentionBenchResult& r) {
  nlohmann::json j = {{"kind", r.kind},
                      {"pe", r.pe},
                      {"mode", r.mode},
                      {"T", r.length},
                      {"M", r.features},
                      {"D", r.head_dim},
                      {"bh", r.sequences},
                      {"feature_dim", r.feature_dim},
                      {"skipped", r.skipped},
                      {"flops", r.flops},
                      {"bytes", r.bytes},
                      {"flop_floor_s", r.flop_floor},
                      {"byte_floor_s", r.byte_floor},
                      {"floor_s", r.floor()}};
  if (r.skipped) {
    j["note"] = r.note;
    j["seconds"] = nullptr;
    return j;
  }
  j["seconds"] = r.seconds;
  j["gflops"] = r.flops / r.seconds / 1e9;
  j["gbs"] = r.bytes / r.seconds / 1e9;
  j["times_floor"] = r.seconds / r.floor();
  j["ns_per_token"] = r.seconds / double(r.length * r.sequences) * 1e9;
  j["peak_bytes"] = r.peak_bytes;
  if (!r.components.empty()) {
    j["components"] = nlohmann::json::object();
    for (const auto& [label, seconds] : r.components) j["components"][label] = seconds;
  }
  return j;
}

}  // namespace stripes::bench
