// Launchers of FAVOR+'s GPU kernels (attention/cuda/favor_features_kernels.cuh): one block of
// kFavorThreads per row, at most 65535·8 blocks walking the rows grid-stride; every launch checked.
#include "attention/cuda/favor_features.hpp"
#include "attention/cuda/favor_features_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

void favor_exponentials_cuda(Tensor& phi, Tensor& argmax, const Tensor& u, const Tensor& x, double scale,
                             double log_half_m, bool stabilize) {
  const int64_t half = u.size(-1), rows = u.numel() / std::max<int64_t>(half, 1);
  const int64_t d = stabilize ? 0 : x.size(-1);
  STRIPES_CHECK(phi.is_contiguous() && u.is_contiguous() && (stabilize ? argmax.is_contiguous() : x.is_contiguous()),
                "favor_features (cuda): operands must be contiguous");
  if (rows == 0 || half == 0) return;
  dispatch_floating(u.dtype(), "favor_features", [&]<typename T>() {
    favor_exponentials_kernel<T><<<cuda::block_per_item_grid(rows), kFavorThreads>>>(
        phi.raw_mutable_data<T>(), stabilize ? argmax.raw_mutable_data<int64_t>() : nullptr, u.raw_data<T>(),
        stabilize ? nullptr : x.raw_data<T>(), rows, half, d, T(scale), T(log_half_m), stabilize);
    STRIPES_CUDA_CHECK_LAUNCH(favor_exponentials_kernel);
  });
}

void favor_backward_rows_cuda(Tensor& grad_u, Tensor& sigma, const Tensor& grad_phi, const Tensor& phi,
                              const Tensor& argmax, double scale, bool stabilize) {
  const int64_t half = grad_u.size(-1), rows = grad_u.numel() / std::max<int64_t>(half, 1);
  STRIPES_CHECK(grad_u.is_contiguous() && grad_phi.is_contiguous() && phi.is_contiguous(),
                "favor_features backward (cuda): operands must be contiguous");
  if (rows == 0 || half == 0) return;
  dispatch_floating(grad_u.dtype(), "favor_features backward", [&]<typename T>() {
    favor_backward_rows_kernel<T><<<cuda::block_per_item_grid(rows), kFavorThreads>>>(
        grad_u.raw_mutable_data<T>(), stabilize ? nullptr : sigma.raw_mutable_data<T>(), grad_phi.raw_data<T>(),
        phi.raw_data<T>(), stabilize ? argmax.raw_data<int64_t>() : nullptr, rows, half, T(scale), stabilize);
    STRIPES_CUDA_CHECK_LAUNCH(favor_backward_rows_kernel);
  });
}

}  // namespace stripes::attention::cuda_kernels
