#include "nn/optim/clip.hpp"

#include <algorithm>
#include <cmath>

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
  for (const auto& [name, parameter] : parameters) {
    const Tensor grad = gradient_of(name, parameter);
    if (!grad.defined()) continue;
    dispatch_floating(grad.dtype(), "grad_norm", [&]<typename T>() {
      const T* g = grad.data<T>();
      for (int64_t i = 0; i < grad.numel(); ++i) sum_of_squares += double(g[i]) * double(g[i]);
    });
  }
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
    dispatch_floating(grad.dtype(), "clip_grad_norm", [&]<typename T>() {
      T* g = grad.mutable_data<T>();
      for (int64_t i = 0; i < grad.numel(); ++i) g[i] = T(double(g[i]) * factor);
    });
  }
  return norm;
}

void clip_grad_value(const NamedParameters& parameters, double clip_value) {
  STRIPES_CHECK(clip_value > 0, "clip_grad_value: the clip value must be positive, got {}", clip_value);
  for (const auto& [name, parameter] : parameters) {
    Tensor grad = gradient_of(name, parameter);
    if (!grad.defined()) continue;
    dispatch_floating(grad.dtype(), "clip_grad_value", [&]<typename T>() {
      T* g = grad.mutable_data<T>();
      const T c = T(clip_value);
      for (int64_t i = 0; i < grad.numel(); ++i) g[i] = std::clamp(g[i], -c, c);
    });
  }
}

}  // namespace stripes::nn
