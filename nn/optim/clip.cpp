#include "nn/optim/clip.hpp"

#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace stripes::nn {

namespace {
// The gradient of a parameter as a writable handle on the same storage (undefined if none).
Tensor gradient_of(const std::string& name, const ag::Var& parameter) {
  Tensor grad = parameter.grad();
  if (grad.defined()) {
    STRIPES_CHECK(grad.is_contiguous(), "clip: gradient of '{}' is not contiguous", name);
  }
  return grad;
}
}  // namespace

double grad_norm(const NamedParameters& parameters) {
  double sum_of_squares = 0.0;
  Tensor device_sum_of_squares;  // GPU gradients: summed on the device, read back once (one wait)
  for (const auto& [name, parameter] : parameters) {
    const Tensor grad = gradient_of(name, parameter);
    if (!grad.defined()) continue;
    if (grad.device() != Device::CPU) {  // the device's own reduction, in float64 like the loop below
      const Tensor g = grad.to(DType::Float64);
      const Tensor part = sum(g * g);
      device_sum_of_squares = device_sum_of_squares.defined() ? device_sum_of_squares + part : part;
      continue;
    }
    dispatch_floating(grad.dtype(), "grad_norm", [&]<typename T>() {
      // Blocks of kBlock elements summed on the threads, then the block sums in order: the same
      // norm whatever the thread count; 8 running sums per block keep the additions pipelined.
      constexpr int64_t kBlock = 1 << 16;
      const T* g = grad.data<T>();
      const int64_t n = grad.numel(), blocks = (n + kBlock - 1) / kBlock;
      std::vector<double> block_sums(size_t(blocks), 0.0);
      parallel_for(blocks, 1, [&](int64_t first_block, int64_t last_block) {
        for (int64_t block = first_block; block < last_block; ++block) {
          double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          const int64_t begin = block * kBlock, end = std::min(n, begin + kBlock);
          int64_t i = begin;
          for (; i + 8 <= end; i += 8) {
            for (int lane = 0; lane < 8; ++lane) lanes[lane] += double(g[i + lane]) * double(g[i + lane]);
          }
          for (; i < end; ++i) lanes[0] += double(g[i]) * double(g[i]);
          double total = 0.0;
          for (double lane : lanes) total += lane;
          block_sums[size_t(block)] = total;
        }
      });
      for (double block_sum : block_sums) sum_of_squares += block_sum;
    });
  }
  if (device_sum_of_squares.defined()) sum_of_squares += device_sum_of_squares.item();
  return std::sqrt(sum_of_squares);
}

double clip_grad_norm(const NamedParameters& parameters, double max_norm) {
  STRIPES_CHECK(max_norm > 0, "clip_grad_norm: max_norm must be positive, got {}", max_norm);
  const double norm = grad_norm(parameters);
  if (!(norm > max_norm)) return norm;  // also leaves NaN norms alone: the NaN guard reports them
  const double factor = max_norm / (norm + 1e-6);
  for (const auto& [name, parameter] : parameters) {
    Tensor grad = gradient_of(name, parameter);
    if (!grad.defined()) continue;
    if (grad.device() != Device::CPU) {
      grad.copy_(grad * factor);
      continue;
    }
    dispatch_floating(grad.dtype(), "clip_grad_norm", [&]<typename T>() {
      T* g = grad.mutable_data<T>();
      parallel_for(grad.numel(), kParallelGrain, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) g[i] = T(double(g[i]) * factor);
      });
    });
  }
  return norm;
}

void clip_grad_value(const NamedParameters& parameters, double clip_value) {
  STRIPES_CHECK(clip_value > 0, "clip_grad_value: the clip value must be positive, got {}", clip_value);
  for (const auto& [name, parameter] : parameters) {
    Tensor grad = gradient_of(name, parameter);
    if (!grad.defined()) continue;
    if (grad.device() != Device::CPU) {
      grad.copy_(minimum(maximum(grad, Tensor::scalar(-clip_value, grad.dtype())), Tensor::scalar(clip_value, grad.dtype())));
      continue;
    }
    dispatch_floating(grad.dtype(), "clip_grad_value", [&]<typename T>() {
      T* g = grad.mutable_data<T>();
      const T c = T(clip_value);
      for (int64_t i = 0; i < grad.numel(); ++i) g[i] = std::clamp(g[i], -c, c);
    });
  }
}

}  // namespace stripes::nn
