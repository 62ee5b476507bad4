// Launchers of convSPE's depthwise-filter GPU kernels (attention/cuda/depthwise_filter_kernels.cuh),
// called by depthwise_filter (attention/pe/spe_conv.cpp) for GPU tensors.
#pragma once

#include "tensor/tensor.hpp"

namespace stripes::attention::cuda_kernels {

// y [C, T, R] from filter [C, K] and noise [C, T + K − 1, R].
Tensor depthwise_filter_forward_cuda(const Tensor& filter, const Tensor& noise, int64_t steps);
// ∂L/∂f [C, K] (fresh) from ∂L/∂y [C, T, R] and the noise.
Tensor depthwise_filter_backward_cuda(const Tensor& grad_y, const Tensor& noise, int64_t taps);

}  // namespace stripes::attention::cuda_kernels
