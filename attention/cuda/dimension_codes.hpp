// Launchers of dimension_codes' GPU kernels (attention/cuda/dimension_codes_kernels.cuh), called
// by the op (attention/pe/dimension_codes.cpp) when its tensors are on the GPU.
#pragma once

#include "tensor/tensor.hpp"

namespace stripes::attention::cuda_kernels {

Tensor dimension_codes_forward_cuda(const Tensor& a, const Tensor& c, const Tensor& s, bool pooled);
// Writes whichever of da [a_shape], dc, ds [a's leading shape, D·K] is defined (contiguous, on the GPU).
void dimension_codes_backward_cuda(Tensor& da, Tensor& dc, Tensor& ds, const Tensor& grad_y, const Shape& a_shape,
                                   const Tensor& a, const Tensor& c, const Tensor& s, bool pooled);

}  // namespace stripes::attention::cuda_kernels
