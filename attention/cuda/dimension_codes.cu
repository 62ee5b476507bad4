// Launchers of dimension_codes' GPU kernels (attention/cuda/dimension_codes_kernels.cuh): a 1-d
// grid-stride grid over (row, k) (pooled forward), (row, d, k) (interleaved forward) or (row, d)
// (backward); every launch checked.
#include "attention/cuda/dimension_codes.hpp"
#include "attention/cuda/dimension_codes_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

Tensor dimension_codes_forward_cuda(const Tensor& a, const Tensor& c, const Tensor& s, bool pooled) {
  const int64_t dims = a.size(-1), rows = a.numel() / std::max<int64_t>(dims, 1);
  const int64_t sines = dims > 0 ? c.size(-1) / dims : 0;
  Shape out_shape = a.shape();
  out_shape.back() = pooled ? 2 * sines : 2 * dims * sines;
  Tensor y = Tensor::empty(out_shape, a.dtype(), Device::CUDA);
  if (y.numel() == 0) return y;
  const cuda::LaunchShape launch = cuda::launch_shape(pooled ? rows * sines : rows * dims * sines);
  dispatch_floating(a.dtype(), "dimension_codes", [&]<typename T>() {
    dimension_codes_forward_kernel<T><<<launch.blocks, launch.threads>>>(
        y.raw_mutable_data<T>(), a.raw_data<T>(), c.raw_data<T>(), s.raw_data<T>(), row_offset_table(a.shape(), a),
        row_offset_table(a.shape(), c), row_offset_table(a.shape(), s), rows, dims, sines, pooled);
    STRIPES_CUDA_CHECK_LAUNCH(dimension_codes_forward_kernel);
  });
  return y;
}

void dimension_codes_backward_cuda(Tensor& da, Tensor& dc, Tensor& ds, const Tensor& grad_y, const Shape& a_shape,
                                   const Tensor& a, const Tensor& c, const Tensor& s, bool pooled) {
  const int64_t dims = a_shape.back(), rows = shape_numel(a_shape) / std::max<int64_t>(dims, 1);
  const int64_t sines = dims > 0 ? c.size(-1) / dims : 0;
  if (rows * dims == 0) return;
  const bool want_a = da.defined(), want_tables = dc.defined() || ds.defined();
  const cuda::LaunchShape launch = cuda::launch_shape(rows * dims);
  dispatch_floating(grad_y.dtype(), "dimension_codes backward", [&]<typename T>() {
    dimension_codes_backward_kernel<T><<<launch.blocks, launch.threads>>>(
        cuda::data_or_null<T>(da), cuda::data_or_null<T>(dc), cuda::data_or_null<T>(ds), grad_y.raw_data<T>(),
        want_tables ? a.raw_data<T>() : nullptr, want_a ? c.raw_data<T>() : nullptr, want_a ? s.raw_data<T>() : nullptr,
        want_tables ? row_offset_table(a_shape, a) : RowOffsetTable{}, want_a ? row_offset_table(a_shape, c) : RowOffsetTable{},
        want_a ? row_offset_table(a_shape, s) : RowOffsetTable{}, rows, dims, sines, pooled);
    STRIPES_CUDA_CHECK_LAUNCH(dimension_codes_backward_kernel);
  });
}

}  // namespace stripes::attention::cuda_kernels
