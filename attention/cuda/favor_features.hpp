// Launchers of FAVOR+'s GPU kernels (attention/cuda/favor_features_kernels.cuh), called by
// favor_features (attention/favor_features.cpp) for GPU tensors around its cuBLAS GEMMs.
#pragma once

#include "tensor/tensor.hpp"

namespace stripes::attention::cuda_kernels {

// phi [rows, 2h] and (stabilize) argmax int64 [rows] from u = x W [rows, h] and (plain) x [rows, d];
// all contiguous on the GPU, phi and argmax written.
void favor_exponentials_cuda(Tensor& phi, Tensor& argmax, const Tensor& u, const Tensor& x, double scale,
                             double log_half_m, bool stabilize);
// grad_u [rows, h] = ∂L/∂(xW) and (plain) sigma [rows] = σ, from ∂L/∂φ, φ [rows, 2h] and
// (stabilized) argmax [rows]; all contiguous on the GPU.
void favor_backward_rows_cuda(Tensor& grad_u, Tensor& sigma, const Tensor& grad_phi, const Tensor& phi,
                              const Tensor& argmax, double scale, bool stabilize);

}  // namespace stripes::attention::cuda_kernels
