// Launchers of convSPE's depthwise-filter GPU kernels (attention/cuda/depthwise_filter_kernels.cuh):
// the forward a 1-d grid-stride grid over the outputs, the backward one block per (channel, tap)
// (at most 65535·8 blocks, grid-stride); every launch checked.
#include "attention/cuda/depthwise_filter.hpp"
#include "attention/cuda/depthwise_filter_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

Tensor depthwise_filter_forward_cuda(const Tensor& filter_in, const Tensor& noise_in, int64_t steps) {
  const Tensor filter = filter_in.contiguous(), noise = noise_in.contiguous();
  const int64_t channels = filter.size(0), taps = filter.size(1), realizations = noise.size(2);
  Tensor y = Tensor::empty({channels, steps, realizations}, filter.dtype(), Device::CUDA);
  if (y.numel() == 0) return y;
  const cuda::LaunchShape launch = cuda::launch_shape(y.numel());
  dispatch_floating(filter.dtype(), "depthwise_filter", [&]<typename T>() {
    depthwise_filter_forward_kernel<T><<<launch.blocks, launch.threads>>>(y.raw_mutable_data<T>(), filter.raw_data<T>(),
                                                                          noise.raw_data<T>(), channels, steps, taps,
                                                                          realizations);
    STRIPES_CUDA_CHECK_LAUNCH(depthwise_filter_forward_kernel);
  });
  return y;
}

Tensor depthwise_filter_backward_cuda(const Tensor& grad_y_in, const Tensor& noise_in, int64_t taps) {
  const Tensor grad_y = grad_y_in.contiguous(), noise = noise_in.contiguous();
  const int64_t channels = grad_y.size(0), steps = grad_y.size(1), realizations = grad_y.size(2);
  Tensor grad_filter = Tensor::empty({channels, taps}, grad_y.dtype(), Device::CUDA);
  if (grad_filter.numel() == 0) return grad_filter;
  dispatch_floating(grad_y.dtype(), "depthwise_filter backward", [&]<typename T>() {
    depthwise_filter_backward_kernel<T><<<cuda::block_per_item_grid(channels * taps), kFilterThreads>>>(grad_filter.raw_mutable_data<T>(), grad_y.raw_data<T>(),
                                                                    noise.raw_data<T>(), channels, steps, taps, realizations);
    STRIPES_CUDA_CHECK_LAUNCH(depthwise_filter_backward_kernel);
  });
  return grad_filter;
}

}  // namespace stripes::attention::cuda_kernels
