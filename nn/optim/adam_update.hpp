// One Adam / AdamW update of one parameter element, written once for the CPU loop
// (nn/optim/optimizer.cpp) and the CUDA kernel (nn/optim/cuda/adam_update.cu), so that the two
// backends cannot disagree on the formula (see the equations in nn/optim/optimizer.hpp).
#pragma once

#include "tensor/scalar_functions.hpp"  // STRIPES_HOST_DEVICE
#include "tensor/tensor.hpp"

namespace stripes::nn {

// The step's constants, the same for every element.
struct AdamStep {
  double learning_rate, beta1, beta2, eps, weight_decay;
  double bias_correction1, bias_correction2;  // 1 − β₁ᵗ, 1 − β₂ᵗ
  bool decoupled;                             // AdamW
};

// θ, m, v updated in place from the gradient g; arithmetic in T (the parameter's dtype). The step
// is taken by value: a local copy cannot alias the parameter, so a loop over elements keeps its
// constants in registers and vectorizes (a reference to doubles could alias a float64 parameter).
template <typename T>
STRIPES_HOST_DEVICE inline void adam_update_element(T& param, T& m, T& v, T g, const AdamStep s) {
  using std::sqrt;
  const T lr = T(s.learning_rate), beta1 = T(s.beta1), beta2 = T(s.beta2), eps = T(s.eps), wd = T(s.weight_decay);
  if (s.decoupled) param -= lr * wd * param;  // θ ← θ − η λ θ
  else g += wd * param;                       // g ← g + λ θ
  m = beta1 * m + (T(1) - beta1) * g;         // m ← β₁ m + (1 − β₁) g
  v = beta2 * v + (T(1) - beta2) * g * g;     // v ← β₂ v + (1 − β₂) g²
  const T m_hat = m / T(s.bias_correction1);  // m̂ = m / (1 − β₁ᵗ)
  const T v_hat = v / T(s.bias_correction2);  // v̂ = v / (1 − β₂ᵗ)
  param -= lr * m_hat / (sqrt(v_hat) + eps);  // θ ← θ − η m̂ / (√v̂ + ε)
}

#ifdef STRIPES_HAVE_CUDA
// The update of a whole CUDA parameter: param, m, v, grad contiguous, one shape and dtype, all on
// the GPU (a build without CUDA has no CUDA tensors to update).
void adam_update_cuda(Tensor& param, Tensor& m, Tensor& v, const Tensor& grad, const AdamStep& step);
#endif

}  // namespace stripes::nn
