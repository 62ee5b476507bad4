// Launchers of layer norm's GPU kernels (autograd/ops/cuda/layer_norm_kernels.cuh, where the kernels
// and their equations are): each sizes the grid and checks the launch.
#include "autograd/ops/cuda/fused_row_ops.hpp"
#include "autograd/ops/cuda/layer_norm_kernels.cuh"
#include "tensor/cuda/cuda_check.hpp"

namespace stripes::ag::cuda_kernels {

Tensor layer_norm_forward_cuda(Tensor& normalized, Tensor& reciprocal_std, const Tensor& x, const Tensor& weight,
                               const Tensor& bias, double eps) {
  const int64_t channels = x.size(-1), rows = row_count(x, "layer_norm");
  Shape stat_shape = x.shape();
  stat_shape.back() = 1;
  Tensor y = Tensor::empty(x.shape(), x.dtype(), Device::CUDA);
  normalized = Tensor::empty(x.shape(), x.dtype(), Device::CUDA);
  reciprocal_std = Tensor::empty(stat_shape, x.dtype(), Device::CUDA);
  if (rows == 0) return y;
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    const unsigned threads = row_threads(channels);
    layer_norm_forward_rows_kernel<T><<<unsigned(rows), threads, row_shared_bytes(threads)>>>(
        y.raw_mutable_data<T>(), normalized.raw_mutable_data<T>(), reciprocal_std.raw_mutable_data<T>(), x.raw_data<T>(),
        weight.raw_data<T>(), bias.raw_data<T>(), channels, eps);
    STRIPES_CUDA_CHECK_LAUNCH(layer_norm_forward_rows_kernel);
  });
  return y;
}

Tensor layer_norm_backward_input_cuda(const Tensor& grad_y, const Tensor& normalized, const Tensor& reciprocal_std,
                                      const Tensor& weight) {
  const int64_t channels = grad_y.size(-1), rows = row_count(grad_y, "layer_norm backward");
  Tensor grad_x = Tensor::empty(grad_y.shape(), grad_y.dtype(), Device::CUDA);
  if (rows == 0) return grad_x;
  dispatch_floating(grad_y.dtype(), "layer_norm backward", [&]<typename T>() {
    const unsigned threads = row_threads(channels);
    layer_norm_backward_input_rows_kernel<T><<<unsigned(rows), threads, row_shared_bytes(threads)>>>(
        grad_x.raw_mutable_data<T>(), grad_y.raw_data<T>(), normalized.raw_data<T>(), reciprocal_std.raw_data<T>(),
        weight.raw_data<T>(), channels);
    STRIPES_CUDA_CHECK_LAUNCH(layer_norm_backward_input_rows_kernel);
  });
  return grad_x;
}

std::pair<Tensor, Tensor> layer_norm_backward_parameters_cuda(const Tensor& grad_y, const Tensor& normalized) {
  const int64_t channels = grad_y.size(-1), rows = row_count(grad_y, "layer_norm backward");
  Tensor grad_weight = Tensor::empty({channels}, grad_y.dtype(), Device::CUDA);
  Tensor grad_bias = Tensor::empty({channels}, grad_y.dtype(), Device::CUDA);
  if (channels == 0) return {grad_weight, grad_bias};
  const int64_t row_blocks = layer_norm_row_blocks(rows);
  Tensor partial_sums = Tensor::empty({row_blocks, 2, channels}, DType::Float64, Device::CUDA);
  dispatch_floating(grad_y.dtype(), "layer_norm backward", [&]<typename T>() {
    const unsigned threads = row_threads(channels);
    const unsigned column_tiles = unsigned((channels + threads - 1) / threads);
    STRIPES_CHECK(column_tiles <= 65535, "layer_norm backward (cuda): {} channels, over a grid's 65535 tiles of {}", channels,
                  threads);
    if (row_blocks > 0) {
      layer_norm_parameter_partial_sums_kernel<T><<<dim3(unsigned(row_blocks), column_tiles), threads>>>(
          partial_sums.raw_mutable_data<double>(), grad_y.raw_data<T>(), normalized.raw_data<T>(), rows, channels);
      STRIPES_CUDA_CHECK_LAUNCH(layer_norm_parameter_partial_sums_kernel);
    }
    layer_norm_parameter_sums_kernel<T><<<column_tiles, threads>>>(grad_weight.raw_mutable_data<T>(),
                                                                   grad_bias.raw_mutable_data<T>(),
                                                                   partial_sums.raw_data<double>(), row_blocks, channels);
    STRIPES_CUDA_CHECK_LAUNCH(layer_norm_parameter_sums_kernel);
  });
  return {grad_weight, grad_bias};
}

}  // namespace stripes::ag::cuda_kernels
