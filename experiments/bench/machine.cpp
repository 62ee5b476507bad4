#include "experiments/bench/machine.hpp"

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <cstring>
#include <fstream>

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

double measure_matmul_rate(int64_t n, DType dtype) {
  Generator generator(0);
  const Tensor a = Tensor::randn({n, n}, generator, dtype), b = Tensor::randn({n, n}, generator, dtype);
  const double t = best_time([&] { matmul(a, b); }, 0.3, 3);
  return 2.0 * double(n) * double(n) * double(n) / t;
}

double load_average() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  if (in) in >> load;
  return load;
}

MachineInfo measure_machine(DType dtype) {
  MachineInfo info;
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
  info.copy_bytes = measure_copy_bandwidth();
  info.matmul_flops = measure_matmul_rate(1024, dtype);
  return info;
}

}  // namespace stripes::bench
