// `stripes bench train`: one training step of the harmonization model (experiments/harmonization/
// model.hpp) on synthetic data of the real shapes, timed on the CPU or (--device cuda) the GPU:
//
//   input [B, T, 256] and target [B, T, 384]: Bernoulli(0.05) pianorolls; positions: the time index
//   (scalar contexts) or Bernoulli(0.3) vectors [B, T, L] (BIN, MCP)
//   step = zero_grad; loss = BCE(model(input, positions), target); loss.backward();
//          clip_grad_norm(config.clip_grad_norm); Adam step
//
// Reported per configuration: seconds per step (mean of the timed steps, after one warm-up step),
// tokens/s (B·T per step), the tensor allocator's high-water mark during a step (absolute, and
// above what was allocated before the step: parameters, gradients of the previous step are freed
// by zero_grad, Adam moments), and the share of the step per component from the profile labels
// (tensor/profile.hpp): forward labels as opened by the modules, backward attributed to the label
// under which each node was recorded, "optimizer" (clipping and Adam), "other" (the rest); and the
// GEMM work of stripes::matmul per step, FLOPs and time (profile::matmul_totals), which the command
// prints beside its floor at the measured matmul rate.
// On the GPU: the step ends with a device synchronization; memory is the CUDA caching allocator's
// (bytes held by live tensors); the timed steps run without profiling and one more step, with every
// scope waiting for the device (profile::set_synchronize_device), gives the component shares and
// the GEMM FLOPs (not their time: cuBLAS calls return before their kernels end).
#pragma once

#include "experiments/bench/machine.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace stripes::bench {

struct TrainBenchOptions {
  std::vector<std::string> presets = {"small", "paper"};
  std::vector<std::string> pes;          // empty: each preset's PE
  std::vector<int64_t> lengths;          // empty: each preset's sequence_length
  int64_t batch = 0;                     // 0: the preset's batch size
  int steps = 2;                         // timed steps, after one warm-up step
  std::string causal_algorithm;          // "" : the preset's (prefix | chunked)
  std::string attention;                 // "" : the preset's (linear | softmax)
  std::string context;                   // "" : the preset's (TIME, REP, KEY, BIN, MCP)
  Device device = Device::CPU;           // where the model and the batch live
};

struct TrainBenchResult {
  std::string preset, pe, context, attention, causal_algorithm;
  int64_t length = 0, batch = 0, parameters = 0;
  int steps = 0;
  double seconds_per_step = 0;
  double tokens_per_second = 0;
  double peak_bytes = 0;        // allocator high-water mark during a step (max over the timed steps)
  double step_peak_bytes = 0;   // the same above the bytes in use when the step started
  double resident_bytes = 0;    // bytes in use before a step (parameters, optimizer moments)
  double loss = 0;              // loss of the last step (a sanity check: ≈ 0.69 at the start)
  double matmul_flops = 0;      // per step: FLOPs of stripes::matmul (Linear layers and PE products, forward and backward)
  double matmul_seconds = 0;    // per step: their wall time
  std::vector<std::pair<std::string, double>> components;  // seconds per step, largest first ("other" last)
};

std::vector<TrainBenchResult> run_train_bench(const TrainBenchOptions& options,
                                              const std::function<void(const TrainBenchResult&)>& on_result);

nlohmann::json to_json(const TrainBenchResult& result);

}  // namespace stripes::bench
