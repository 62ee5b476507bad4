// Launchers of F-StrIPE₁'s GPU kernels (attention/cuda/fstripe1_kernels.cuh): a 1-d grid-stride
// grid over rows (pooled forward) or (row, d); every launch checked.
#include "attention/cuda/fstripe1.hpp"
#include "attention/cuda/fstripe1_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

namespace {
template <typename T>
T* data_or_null(Tensor& t) {
  return t.defined() ? t.raw_mutable_data<T>() : nullptr;
}
}  // namespace

Tensor fstripe1_features_forward_cuda(const Tensor& a, const Tensor& c, const Tensor& s, bool pooled) {
  const int64_t dims = a.size(-1), rows = a.numel() / std::max<int64_t>(dims, 1);
  Shape out_shape = a.shape();
  out_shape.back() = pooled ? 2 : 2 * dims;
  Tensor y = Tensor::empty(out_shape, a.dtype(), Device::CUDA);
  if (y.numel() == 0) return y;
  if (dims == 0) return y.fill_(0.0);  // pooled over no dimensions: the empty sums
  const cuda::LaunchShape launch = cuda::launch_shape(pooled ? rows : rows * dims);
  dispatch_floating(a.dtype(), "fstripe1_features", [&]<typename T>() {
    fstripe1_features_forward_kernel<T><<<launch.blocks, launch.threads>>>(
        y.raw_mutable_data<T>(), a.raw_data<T>(), c.raw_data<T>(), s.raw_data<T>(), row_offset_table(a.shape(), a),
        row_offset_table(a.shape(), c), row_offset_table(a.shape(), s), rows, dims, pooled);
    STRIPES_CUDA_CHECK_LAUNCH(fstripe1_features_forward_kernel);
  });
  return y;
}

void fstripe1_features_backward_cuda(Tensor& da, Tensor& dc, Tensor& ds, const Tensor& grad_y, const Shape& a_shape,
                                     const Tensor& a, const Tensor& c, const Tensor& s, bool pooled) {
  const int64_t dims = a_shape.back(), rows = shape_numel(a_shape) / std::max<int64_t>(dims, 1);
  if (rows * dims == 0) return;
  const bool want_a = da.defined(), want_tables = dc.defined() || ds.defined();
  const cuda::LaunchShape launch = cuda::launch_shape(rows * dims);
  dispatch_floating(grad_y.dtype(), "fstripe1_features backward", [&]<typename T>() {
    fstripe1_features_backward_kernel<T><<<launch.blocks, launch.threads>>>(
        data_or_null<T>(da), data_or_null<T>(dc), data_or_null<T>(ds), grad_y.raw_data<T>(),
        want_tables ? a.raw_data<T>() : nullptr, want_a ? c.raw_data<T>() : nullptr, want_a ? s.raw_data<T>() : nullptr,
        want_tables ? row_offset_table(a_shape, a) : RowOffsetTable{}, want_a ? row_offset_table(a_shape, c) : RowOffsetTable{},
        want_a ? row_offset_table(a_shape, s) : RowOffsetTable{}, rows, dims, pooled);
    STRIPES_CUDA_CHECK_LAUNCH(fstripe1_features_backward_kernel);
  });
}

}  // namespace stripes::attention::cuda_kernels
