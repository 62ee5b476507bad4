// Launchers of F-StrIPE₁'s GPU kernels (attention/cuda/fstripe1_kernels.cuh), called by
// fstripe1_features (attention/pe/fstripe1.cpp) when its tensors are on the GPU.
#pragma once

#include "tensor/tensor.hpp"

namespace stripes::attention::cuda_kernels {

Tensor fstripe1_features_forward_cuda(const Tensor& a, const Tensor& c, const Tensor& s, bool pooled);
// Writes whichever of da [a_shape], dc, ds [a_shape] is defined (contiguous, on the GPU).
void fstripe1_features_backward_cuda(Tensor& da, Tensor& dc, Tensor& ds, const Tensor& grad_y, const Shape& a_shape,
                                     const Tensor& a, const Tensor& c, const Tensor& s, bool pooled);

}  // namespace stripes::attention::cuda_kernels
