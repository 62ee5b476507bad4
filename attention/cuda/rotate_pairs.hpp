// Launchers of rotate_pairs' GPU kernels (attention/cuda/rotate_pairs_kernels.cuh), called by the
// op in attention/pe/rotary.cpp when its tensors are on the GPU. Same contract as the CPU kernels
// there: x, c, s with a contiguous last axis, c and s broadcasting over x's leading dims.
#pragma once

#include "tensor/tensor.hpp"

namespace stripes::attention::cuda_kernels {

Tensor rotate_pairs_forward_cuda(const Tensor& x, const Tensor& c, const Tensor& s, bool pooled);
// Writes whichever of dx [x_shape], dc, ds [x's leading shape, D/2] is defined (contiguous, on the
// GPU); x is read only for dc/ds, c and s only for dx.
void rotate_pairs_backward_cuda(Tensor& dx, Tensor& dc, Tensor& ds, const Tensor& grad_y, const Shape& x_shape,
                                const Tensor& x, const Tensor& c, const Tensor& s, bool pooled);

}  // namespace stripes::attention::cuda_kernels
