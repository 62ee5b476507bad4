#include "experiments/bench/machine.hpp"

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/error.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <cmath>
#include <cstring>
#include <fstream>
#include <vector>

#if defined(__AVX512F__) || defined(__FMA__)
#include <immintrin.h>
#endif

namespace stripes::bench {

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

double measure_device_copy_bandwidth() {
  const int64_t n = int64_t(256) << 20;  // floats
  Tensor src = Tensor::ones({n}, DType::Float32, Device::CUDA), dst = Tensor::empty({n}, DType::Float32, Device::CUDA);
  const double t = best_time([&] {
    dst.copy_(src);
    cuda::synchronize();
  });
  return 2.0 * double(n) * sizeof(float) / t;
}

double measure_matmul_rate(int64_t n, DType dtype, Device device) {
  Generator generator(0);
  const Tensor a = Tensor::randn({n, n}, generator, dtype, device), b = Tensor::randn({n, n}, generator, dtype, device);
  const double t = best_time(
      [&] {
        matmul(a, b);
        if (device == Device::CUDA) cuda::synchronize();
      },
      0.3, 3);
  return 2.0 * double(n) * double(n) * double(n) / t;
}

namespace {
// One register of float32 lanes at the widest width compiled for, and an explicit FMA on it (the
// intrinsics stay fused under -ffp-contract=off).
#if defined(__AVX512F__)
using Vector = __m512;
Vector broadcast(float x) { return _mm512_set1_ps(x); }
Vector fused_multiply_add(Vector a, Vector b, Vector c) { return _mm512_fmadd_ps(a, b, c); }
float first_lane(Vector a) { return _mm512_cvtss_f32(a); }
#elif defined(__FMA__)
using Vector = __m256;
Vector broadcast(float x) { return _mm256_set1_ps(x); }
Vector fused_multiply_add(Vector a, Vector b, Vector c) { return _mm256_fmadd_ps(a, b, c); }
float first_lane(Vector a) { return _mm256_cvtss_f32(a); }
#else
using Vector = float;
Vector broadcast(float x) { return x; }
Vector fused_multiply_add(Vector a, Vector b, Vector c) { return std::fma(a, b, c); }
float first_lane(Vector a) { return a; }
#endif
constexpr int64_t kFloatsPerVector = int64_t(sizeof(Vector) / sizeof(float));

// Twelve independent accumulators: enough to cover the FMA latency (4 cycles) of two FMA units.
// Returns a sum so the compiler cannot drop the loop.
float fma_chain(int64_t iterations) {
  Vector acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = broadcast(1.0f + 1e-6f * float(i));
  const Vector scale = broadcast(0.999999f), shift = broadcast(1e-7f);
  for (int64_t n = 0; n < iterations; ++n) {
    for (int i = 0; i < 12; ++i) acc[i] = fused_multiply_add(acc[i], scale, shift);
  }
  float sum = 0;
  for (int i = 0; i < 12; ++i) sum += first_lane(acc[i]);
  return sum;
}
}  // namespace

double measure_fma_peak() {
  const int threads = max_threads();
  const int64_t iterations = int64_t(1) << 22;
  std::vector<float> sink(size_t(threads), 0.0f);
  const double t = best_time(
      [&] {
        parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) sink[size_t(i)] += fma_chain(iterations);
        });
      },
      0.2, 3);
  volatile float keep = sink[0];
  (void)keep;
  return 2.0 * 12.0 * double(kFloatsPerVector) * double(iterations) * double(threads) / t;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (in) in >> load;
  return load;
}

MachineInfo measure_machine(DType dtype, Device device) {
  MachineInfo info;
  info.device = device;
  info.threads = max_threads();
  info.load_average = load_average();
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) info.cpu = line.substr(colon + 2);
      break;
    }
  }
  if (device == Device::CUDA) {
    STRIPES_CHECK(cuda::available(), "no usable GPU: {}", cuda::device_description());
    info.gpu = cuda::device_description();
    info.copy_bytes = measure_device_copy_bandwidth();
    info.matmul_flops = measure_matmul_rate(4096, dtype, Device::CUDA);
    return info;
  }
  info.copy_bytes = measure_copy_bandwidth();
  info.matmul_flops = measure_matmul_rate(1024, dtype);
  info.fma_peak_flops = measure_fma_peak();
  return info;
}

}  // namespace stripes::bench
