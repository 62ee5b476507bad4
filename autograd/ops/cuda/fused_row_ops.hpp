// The GPU's fused kernels for layer norm, softmax / log_softmax over the last axis and BCE with
// logits, as host launchers (autograd/ops/cuda/*.cu; the kernels and their equations are in the
// *_kernels.cuh beside them). autograd/ops/{layer_norm,softmax,losses}.cpp call them, in a build
// with CUDA (STRIPES_HAVE_CUDA), for contiguous device tensors of one dtype; their composed forms
// stay the reference and serve every other case.
//
// Every argument is a contiguous float32 or float64 tensor on Device::CUDA, all of one dtype; every
// result is a fresh one. "rows" are the leading positions of a [..., C] tensor.
#pragma once

#include "tensor/tensor.hpp"

#include <utility>

namespace stripes::ag::cuda_kernels {

// ---- layer norm (ops/layer_norm.cpp) -------------------------------------------------------------
// y = x̂ ⊙ w + b; also sets normalized = x̂ [..., C] and reciprocal_std = r [..., 1].
Tensor layer_norm_forward_cuda(Tensor& normalized, Tensor& reciprocal_std, const Tensor& x, const Tensor& weight,
                               const Tensor& bias, double eps);
// ∂L/∂x = r (g - mean_c g - x̂ mean_c(g ⊙ x̂)), g = ∂L/∂y ⊙ w   [..., C]
Tensor layer_norm_backward_input_cuda(const Tensor& grad_y, const Tensor& normalized, const Tensor& reciprocal_std,
                                      const Tensor& weight);
// {∂L/∂w, ∂L/∂b} = {Σ_rows ∂L/∂y ⊙ x̂, Σ_rows ∂L/∂y}   [C] each, summed in a fixed order
std::pair<Tensor, Tensor> layer_norm_backward_parameters_cuda(const Tensor& grad_y, const Tensor& normalized);

// ---- softmax and log_softmax over the last axis (ops/softmax.cpp) ---------------------------------
Tensor softmax_forward_cuda(const Tensor& x);
Tensor softmax_backward_cuda(const Tensor& grad_y, const Tensor& y);
Tensor log_softmax_forward_cuda(const Tensor& x);
Tensor log_softmax_backward_cuda(const Tensor& grad_y, const Tensor& y);

// ---- BCE with logits, the mean over every element (ops/losses.cpp) --------------------------------
// ℓ, a 0-d tensor on the device
Tensor bce_with_logits_forward_cuda(const Tensor& logits, const Tensor& targets);
// (σ(z) - y) ∂L/∂ℓ / N; grad_loss (one element, on the device) is read there
Tensor bce_with_logits_backward_cuda(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets);

}  // namespace stripes::ag::cuda_kernels
