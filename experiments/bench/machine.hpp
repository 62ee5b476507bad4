// What a benchmark measures the machine with, so that every figure can be printed beside the
// machine's own capability (its "floor"):
//   matmul rate     float32 (or float64) GEMM n×n×n through tensor/matmul (Eigen), all threads, FLOP/s
//   copy bandwidth  memcpy of 256 MiB over all threads, read + write bytes per second
//   FMA peak        float32 fused multiply-adds on registers only, all threads: the most any
//                   kernel could do (printed for context; floors use the matmul rate)
// and the timing helper they all use.
#pragma once

#include "tensor/dtype.hpp"

#include <chrono>
#include <string>

namespace stripes::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `body` once (warm-up: page faults, thread start), then until at least `min_seconds` have
// passed and at least `min_runs` times; returns the best time in seconds.
template <typename Body>
double best_time(Body&& body, double min_seconds = 0.5, int min_runs = 3) {
  body();
  double best = 1e30, total = 0;
  int runs = 0;
  while (runs < min_runs || total < min_seconds) {
    const auto start = Clock::now();
    body();
    const double t = seconds_since(start);
    best = std::min(best, t);
    total += t;
    ++runs;
  }
  return best;
}

// Copy bandwidth (read + write bytes per second) on 256 MiB, all threads.
double measure_copy_bandwidth();
// Device copy bandwidth (read + write) on 1 GiB (CUDA builds with a device).
double measure_device_copy_bandwidth();
// GEMM rate (FLOP/s, 2n³ per product) of matmul on n×n operands, all threads, best of a few runs.
// On Device::CUDA the product runs on the GPU (cuBLAS) and each run ends with a synchronize.
double measure_matmul_rate(int64_t n = 1024, DType dtype = DType::Float32, Device device = Device::CPU);
// float32 FLOP/s (2 per fused multiply-add) of independent register FMAs at the widest vector
// width compiled for (AVX-512, else AVX2+FMA, else scalar std::fma), all threads, best of a few runs.
double measure_fma_peak();

struct MachineInfo {
  Device device = Device::CPU;  // what the rates below were measured on
  int threads = 0;              // CPU threads (OpenMP)
  double matmul_flops = 0;      // FLOP/s
  double copy_bytes = 0;        // bytes/s (read + write)
  double fma_peak_flops = 0;    // float32 FLOP/s of register-only FMAs, all threads (CPU only; 0 on CUDA)
  double load_average = -1;     // 1-minute load average when the benchmark started (/proc/loadavg)
  std::string cpu;              // model name from /proc/cpuinfo
  std::string gpu;              // cuda::device_description() on Device::CUDA
};
// Measures the rates (a second or two) and reads the load and CPU name. On Device::CUDA the matmul
// rate is cuBLAS's at 4096³ (1024³ is too small to fill a GPU) and the bandwidth the device's own
// copy bandwidth; throws naming the reason when no GPU is usable.
MachineInfo measure_machine(DType dtype = DType::Float32, Device device = Device::CPU);
// The 1-minute load average now, or -1 where /proc/loadavg is missing.
double load_average();

}  // namespace stripes::bench
