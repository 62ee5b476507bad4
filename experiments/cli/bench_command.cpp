// `stripes bench ...`: benchmarks. Every line prints the achieved rate next to the machine's
// measured capability, so a figure can be judged without knowing the machine.
//   bench matmul   float32/float64 GEMM at n³ sizes, all cores (GFLOP/s), beside the measured
//                  copy bandwidth and the time floor it implies for the operands' bytes.
#include "experiments/cli/command_registry.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cstring>

namespace stripes::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Run `body` until at least `min_seconds` have passed (and at least `min_runs` times); best time.
template <typename Body>
double best_time(Body&& body, double min_seconds = 0.5, int min_runs = 3) {
  body();  // warm-up: page faults, thread pool start
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
double measure_copy_bandwidth() {
  const int64_t n = int64_t(64) << 20;  // floats
  Tensor src = Tensor::ones({n}), dst = Tensor::empty({n});
  const float* s = src.data<float>();
  float* d = dst.mutable_data<float>();
  const double t = best_time([&] {
    parallel_for(n, 1 << 20, [&](int64_t begin, int64_t end) {
      std::memcpy(d + begin, s + begin, size_t(end - begin) * sizeof(float));
    });
  });
  return 2.0 * double(n) * sizeof(float) / t;
}

// Device copy bandwidth (read + write) on 1 GiB.
double measure_device_copy_bandwidth() {
  const int64_t n = int64_t(256) << 20;  // floats
  Tensor src = Tensor::ones({n}, DType::Float32, Device::CUDA), dst = Tensor::empty({n}, DType::Float32, Device::CUDA);
  const double t = best_time([&] {
    dst.copy_(src);
    cuda::synchronize();
  });
  return 2.0 * double(n) * sizeof(float) / t;
}

}  // namespace

static void add_bench_commands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks (time, achieved FLOP/s and GB/s beside the machine's floor)");
  bench->require_subcommand(1);

  auto* matmul_cmd = bench->add_subcommand("matmul", "Square matrix products n x n x n on all cores");
  auto sizes = std::make_shared<std::vector<int64_t>>(std::vector<int64_t>{512, 1024});
  auto dtype_name = std::make_shared<std::string>("float32");
  auto threads = std::make_shared<int>(0);
  auto device_name_option = std::make_shared<std::string>("cpu");
  matmul_cmd->add_option("--sizes", *sizes, "Matrix sizes n")->delimiter(',');
  matmul_cmd->add_option("--dtype", *dtype_name, "float32 or float64")->check(CLI::IsMember({"float32", "float64"}));
  matmul_cmd->add_option("--threads", *threads, "OpenMP threads (0 = all cores)");
  matmul_cmd->add_option("--device", *device_name_option, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  matmul_cmd->callback([sizes, dtype_name, threads, device_name_option] {
    if (*threads > 0) omp_set_num_threads(*threads);
    const DType dtype = parse_dtype(*dtype_name);
    const Device device = parse_device(*device_name_option);
    STRIPES_CHECK(device == Device::CPU || cuda::available(), "bench matmul --device cuda: {}", cuda::device_description());
    const double bandwidth = device == Device::CPU ? measure_copy_bandwidth() : measure_device_copy_bandwidth();
    if (device == Device::CPU) {
      fmt::print("machine: {} threads, measured copy bandwidth {:.1f} GB/s\n", max_threads(), bandwidth / 1e9);
    } else {
      fmt::print("device: {}, measured device copy bandwidth {:.1f} GB/s\n", cuda::device_description(), bandwidth / 1e9);
    }
    fmt::print("{:>6}  {:>8}  {:>10}  {:>10}  {:>12}  {:>16}\n", "n", "dtype", "time ms", "GFLOP/s", "GFLOP/s/core",
               "byte floor ms");
    Generator generator(0);
    for (int64_t n : *sizes) {
      STRIPES_CHECK(n > 0, "bench matmul: size {} must be positive", n);
      const Tensor a = Tensor::randn({n, n}, generator, dtype, device), b = Tensor::randn({n, n}, generator, dtype, device);
      const double t = best_time([&] {
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
STRIPES_REGISTER_COMMANDS(add_bench_commands)

}  // namespace stripes::cli
