// Launchers of rotate_pairs' GPU kernels (attention/cuda/rotate_pairs_kernels.cuh): one thread per
// (row, pair), a 1-d grid-stride grid; every launch checked.
#include "attention/cuda/rotate_pairs.hpp"
#include "attention/cuda/rotate_pairs_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

Tensor rotate_pairs_forward_cuda(const Tensor& x, const Tensor& c, const Tensor& s, bool pooled) {
  const int64_t d = x.size(-1), pairs = d / 2, rows = x.numel() / std::max<int64_t>(d, 1);
  Shape out_shape = x.shape();
  if (pooled) out_shape.back() = pairs;
  Tensor y = Tensor::empty(out_shape, x.dtype(), Device::CUDA);
  if (rows * pairs == 0) return y;
  const cuda::LaunchShape launch = cuda::launch_shape(rows * pairs);
  dispatch_floating(x.dtype(), "rotate_pairs", [&]<typename T>() {
    rotate_pairs_forward_kernel<T><<<launch.blocks, launch.threads>>>(
        y.raw_mutable_data<T>(), x.raw_data<T>(), c.raw_data<T>(), s.raw_data<T>(), row_offset_table(x.shape(), x),
        row_offset_table(x.shape(), c), row_offset_table(x.shape(), s), rows, pairs, pooled);
    STRIPES_CUDA_CHECK_LAUNCH(rotate_pairs_forward_kernel);
  });
  return y;
}

void rotate_pairs_backward_cuda(Tensor& dx, Tensor& dc, Tensor& ds, const Tensor& grad_y, const Shape& x_shape,
                                const Tensor& x, const Tensor& c, const Tensor& s, bool pooled) {
  const int64_t d = x_shape.back(), pairs = d / 2, rows = shape_numel(x_shape) / std::max<int64_t>(d, 1);
  if (rows * pairs == 0) return;
  const bool want_x = dx.defined(), want_angles = dc.defined() || ds.defined();
  const cuda::LaunchShape launch = cuda::launch_shape(rows * pairs);
  dispatch_floating(grad_y.dtype(), "rotate_pairs backward", [&]<typename T>() {
    rotate_pairs_backward_kernel<T><<<launch.blocks, launch.threads>>>(
        cuda::data_or_null<T>(dx), cuda::data_or_null<T>(dc), cuda::data_or_null<T>(ds), grad_y.raw_data<T>(),
        want_angles ? x.raw_data<T>() : nullptr, want_x ? c.raw_data<T>() : nullptr, want_x ? s.raw_data<T>() : nullptr,
        want_angles ? row_offset_table(x_shape, x) : RowOffsetTable{}, want_x ? row_offset_table(x_shape, c) : RowOffsetTable{},
        want_x ? row_offset_table(x_shape, s) : RowOffsetTable{}, rows, pairs, pooled);
    STRIPES_CUDA_CHECK_LAUNCH(rotate_pairs_backward_kernel);
  });
}

}  // namespace stripes::attention::cuda_kernels
