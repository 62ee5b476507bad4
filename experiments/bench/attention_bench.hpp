// `stripes bench attention`: the attention computation of one layer, from per-head q, k, v to the
// per-head output y, for every attention kind and PE, forward and forward+backward, on the CPU or
// (`--device cuda`) the GPU.
//
//   q, k, v: [1, BH, T, D] float32 (BH = batch × heads), positions: the time index
//   softmax:          y = softmax(PE(q) PE(k)ᵀ/√d_φ + PE bias, causal) v                 O(T²)
//   linear-prefix:    y = linear_attention(φ(PE(q)), φ(PE(k)), v), per-token prefix sum    O(T)
//   linear-chunked:   the same with the chunked causal product (chunk C = 64)               O(T)
//   linear-chunked-composed: the chunk equations composed from tensor ops over every chunk at
//                     once (the GPU kernel's reference; cuBLAS batched GEMMs on the GPU)      O(T)
//   φ: FAVOR+ with M features (one fixed projection W [d_φ, M/2]); d_φ = the PE's feature dim
//
// For each case: the best time, achieved GFLOP/s and GB/s, the allocator's high-water mark above
// the inputs, and the floors (see flop_count / byte_count in attention_bench.cpp for the formulas):
//   flop floor = FLOPs / measured matmul rate,  byte floor = bytes / measured copy bandwidth,
//   floor = the larger; "× floor" = time / floor.
#pragma once

#include "experiments/bench/machine.hpp"
#include "tensor/dtype.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace stripes::bench {

struct AttentionBenchOptions {
  std::vector<int64_t> lengths = {256, 1024, 4096};  // T
  std::vector<int64_t> features = {128};             // M
  std::vector<int64_t> head_dims = {64};             // D
  std::vector<int64_t> sequences = {8};              // batch × heads
  std::vector<std::string> kinds = {"softmax", "linear-prefix", "linear-chunked"};
  std::vector<std::string> pes = {"nope"};
  std::vector<std::string> modes = {"forward", "forward+backward"};
  int64_t chunk = 64;
  // Device::CUDA: inputs, random features, the PE's parameters (Module::to) and every op on the
  // GPU, each run ended by a synchronize; peak memory from the CUDA caching allocator. A case that
  // fails there is reported as skipped with the error it raised, so one bad kernel does not hide
  // the others' figures.
  Device device = Device::CPU;
  double min_seconds = 0.3;  // per case: repeat until this much time was spent (after a warm-up run)
  int min_runs = 2;
  // Softmax is skipped when BH·T² exceeds this (its T×T matrices: 4 bytes each, several alive in
  // backward), with a printed note.
  int64_t softmax_max_elements = int64_t(1) << 27;
  // One more run with the profile labels on (tensor/profile.hpp): seconds per component.
  bool breakdown = false;
};

struct AttentionBenchResult {
  std::string kind, pe, mode;
  int64_t length = 0, features = 0, head_dim = 0, sequences = 0, feature_dim = 0;
  bool skipped = false;
  std::string note;           // why it was skipped
  double seconds = 0;         // best time of one run
  double flops = 0;           // the formula count (attention_bench.cpp)
  double bytes = 0;           // compulsory bytes (inputs read, outputs written)
  double flop_floor = 0;      // flops / machine matmul rate (s)
  double byte_floor = 0;      // bytes / machine copy bandwidth (s)
  double peak_bytes = 0;      // allocator high-water mark during one run, above what was allocated before it
  std::vector<std::pair<std::string, double>> components;  // with breakdown: seconds per profile label
  double floor() const { return std::max(flop_floor, byte_floor); }
};

// Throws naming the first unknown kind, PE or mode, or bad size.
void check_attention_bench_options(const AttentionBenchOptions& options);
// Every kind, PE, mode and shape the options list; `on_result` is called after each case (printing).
std::vector<AttentionBenchResult> run_attention_bench(const AttentionBenchOptions& options, const MachineInfo& machine,
                                                      const std::function<void(const AttentionBenchResult&)>& on_result);

// The positional encodings the attention bench can run with a linear kind (every one but stripe).
const std::vector<std::string>& linear_pe_names();

nlohmann::json machine_json(const MachineInfo& machine);
nlohmann::json to_json(const AttentionBenchResult& result);

}  // namespace stripes::bench
