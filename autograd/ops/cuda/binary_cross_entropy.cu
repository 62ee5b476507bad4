// Launchers of the BCE-with-logits GPU kernels (autograd/ops/cuda/binary_cross_entropy_kernels.cuh,
// where the kernels and their equations are): each sizes the grid and checks the launch.
#include "autograd/ops/cuda/binary_cross_entropy_kernels.cuh"
#include "autograd/ops/cuda/fused_row_ops.hpp"
#include "tensor/cuda/indexer.cuh"

#include <climits>

namespace stripes::ag::cuda_kernels {

namespace {

void check_operands(const Tensor& logits, const Tensor& targets, const char* op) {
  STRIPES_CHECK(logits.device() == Device::CUDA && targets.device() == Device::CUDA && logits.is_contiguous() &&
                    targets.is_contiguous() && logits.dtype() == targets.dtype() && logits.shape() == targets.shape(),
                "{} (cuda): expected contiguous GPU logits and targets of one shape and dtype, got {} and {}", op,
                logits.description(), targets.description());
}

}  // namespace

Tensor bce_with_logits_forward_cuda(const Tensor& logits, const Tensor& targets) {
  check_operands(logits, targets, "binary_cross_entropy_with_logits");
  const int64_t count = logits.numel(), blocks = bce_partial_sum_blocks(count);
  STRIPES_CHECK(blocks <= INT_MAX, "binary_cross_entropy_with_logits (cuda): {} elements, over a grid of {} blocks of {}",
                count, INT_MAX, kBceElementsPerBlock);
  Tensor loss = Tensor::empty({}, logits.dtype(), Device::CUDA);
  Tensor partial_sums = Tensor::empty({blocks}, DType::Float64, Device::CUDA);
  const size_t shared = row_shared_bytes(kBceThreads);
  dispatch_floating(logits.dtype(), "binary_cross_entropy_with_logits", [&]<typename T>() {
    if (blocks > 0) {
      bce_with_logits_partial_sums_kernel<T><<<unsigned(blocks), kBceThreads, shared>>>(
          partial_sums.raw_mutable_data<double>(), logits.raw_data<T>(), targets.raw_data<T>(), count);
      STRIPES_CUDA_CHECK_LAUNCH(bce_with_logits_partial_sums_kernel);
    }
    bce_with_logits_mean_kernel<T><<<1, kBceThreads, shared>>>(loss.raw_mutable_data<T>(), partial_sums.raw_data<double>(),
                                                               blocks, count);
    STRIPES_CUDA_CHECK_LAUNCH(bce_with_logits_mean_kernel);
  });
  return loss;
}

Tensor bce_with_logits_backward_cuda(const Tensor& grad_loss, const Tensor& logits, const Tensor& targets) {
  check_operands(logits, targets, "binary_cross_entropy_with_logits backward");
  STRIPES_CHECK(grad_loss.numel() == 1, "binary_cross_entropy_with_logits backward (cuda): the loss's gradient {} is not one element",
                grad_loss.description());
  // on the device, in the logits' dtype (no copy when it is already)
  const Tensor scale = grad_loss.to(Device::CUDA).to(logits.dtype()).contiguous();
  const int64_t count = logits.numel();
  Tensor grad_logits = Tensor::empty(logits.shape(), logits.dtype(), Device::CUDA);
  if (count == 0) return grad_logits;
  const cuda::LaunchShape launch = cuda::launch_shape(count);  // elementwise, grid-stride
  dispatch_floating(logits.dtype(), "binary_cross_entropy_with_logits backward", [&]<typename T>() {
    bce_with_logits_backward_kernel<T><<<launch.blocks, launch.threads>>>(grad_logits.raw_mutable_data<T>(), scale.raw_data<T>(),
                                                                logits.raw_data<T>(), targets.raw_data<T>(), count);
    STRIPES_CUDA_CHECK_LAUNCH(bce_with_logits_backward_kernel);
  });
  return grad_logits;
}

}  // namespace stripes::ag::cuda_kernels
