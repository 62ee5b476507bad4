// Scans and integer indexing on the GPU. Operands are viewed as [outer, n, inner] around the
// axis, as on the CPU (tensor/indexing.cpp). Accumulating ops (index_add_, scatter_add_) use
// atomicAdd, so repeated indices add up whatever the thread order (float sums may round
// differently from the CPU's sequential order).
#include "tensor/cuda/indexer.cuh"

namespace stripes::cuda {

// y[o, t, j] = Σ_{s ≤ t} x[o, s, j]  (reverse: s ≥ t); one thread per (o, j) column
template <typename T>
__global__ void cumsum_kernel(T* y, const T* x, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  STRIPES_GRID_STRIDE_LOOP(column, outer * inner) {
    const int64_t o = column / inner, j = column % inner;
    T running = T(0);
    for (int64_t step = 0; step < n; ++step) {
      const int64_t t = reverse ? n - 1 - step : step;
      const int64_t at = (o * n + t) * inner + j;
      running += x[at];
      y[at] = running;
    }
  }
}

Tensor cumsum(const Tensor& x_in, int64_t axis, bool reverse) {
  const Tensor x = x_in.contiguous();
  const AxisView v = axis_view(x.shape(), axis);
  Tensor y = Tensor::empty(x.shape(), x.dtype(), Device::CUDA);
  if (y.numel() == 0) return y;
  const LaunchShape launch = launch_shape(v.outer * v.inner);
  dispatch_floating(x.dtype(), "cumsum", [&]<typename T>() {
    cumsum_kernel<T><<<launch.blocks, launch.threads>>>(y.raw_mutable_data<T>(), x.raw_data<T>(), v.outer, v.n, v.inner, reverse);
    STRIPES_CUDA_CHECK_LAUNCH(cumsum_kernel);
  });
  return y;
}

// out[o, i, j] = x[o, index[i], j]
template <typename T>
__global__ void index_select_kernel(T* out, const T* x, const int64_t* index, int64_t outer, int64_t n, int64_t inner,
                                    int64_t k) {
  STRIPES_GRID_STRIDE_LOOP(e, outer * k * inner) {
    const int64_t j = e % inner, i = (e / inner) % k, o = e / (inner * k);
    out[e] = x[(o * n + index[i]) * inner + j];
  }
}

Tensor index_select(const Tensor& x_in, int64_t axis, const Tensor& index_in) {
  const Tensor x = x_in.contiguous(), index = index_in.contiguous();
  const AxisView v = axis_view(x.shape(), axis);
  const int64_t k = index.numel();
  Shape out_shape(x.shape().begin(), x.shape().begin() + axis);
  out_shape.insert(out_shape.end(), index.shape().begin(), index.shape().end());
  out_shape.insert(out_shape.end(), x.shape().begin() + axis + 1, x.shape().end());
  Tensor out = Tensor::empty(out_shape, x.dtype(), Device::CUDA);
  if (out.numel() == 0) return out;
  const LaunchShape launch = launch_shape(out.numel());
  dispatch_any(x.dtype(), [&]<typename T>() {
    index_select_kernel<T><<<launch.blocks, launch.threads>>>(out.raw_mutable_data<T>(), x.raw_data<T>(),
                                                              index.raw_data<int64_t>(), v.outer, v.n, v.inner, k);
    STRIPES_CUDA_CHECK_LAUNCH(index_select_kernel);
  });
  return out;
}

// target[o, index[i], j] += source[o, i, j]
template <typename T>
__global__ void index_add_kernel(T* target, const T* source, const int64_t* index, int64_t outer, int64_t n, int64_t inner,
                                 int64_t k) {
  STRIPES_GRID_STRIDE_LOOP(e, outer * k * inner) {
    const int64_t j = e % inner, i = (e / inner) % k, o = e / (inner * k);
    atomicAdd(target + (o * n + index[i]) * inner + j, source[e]);
  }
}

void index_add_into(Tensor& target, int64_t axis, const Tensor& index_in, const Tensor& source_in) {
  const Tensor index = index_in.contiguous(), source = source_in.contiguous();
  const AxisView v = axis_view(target.shape(), axis);
  const int64_t k = index.numel();
  if (source.numel() == 0) return;
  const LaunchShape launch = launch_shape(source.numel());
  dispatch_floating(target.dtype(), "index_add_", [&]<typename T>() {
    index_add_kernel<T><<<launch.blocks, launch.threads>>>(target.raw_mutable_data<T>(), source.raw_data<T>(),
                                                           index.raw_data<int64_t>(), v.outer, v.n, v.inner, k);
    STRIPES_CUDA_CHECK_LAUNCH(index_add_kernel);
  });
}

// For element e of `index` (contiguous, shape `shape`), the offset in a contiguous tensor of
// `target_shape` where the axis coordinate is index[e].
struct GatherGeometry {
  int ndim;
  int64_t shape[kMaxDims];
  int64_t target_strides[kMaxDims];
  int axis;
  __device__ int64_t target_offset(int64_t e, int64_t index_value) const {
    int64_t offset = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t coordinate = e % shape[d];
      e /= shape[d];
      offset += (d == axis ? index_value : coordinate) * target_strides[d];
    }
    return offset;
  }
};

GatherGeometry gather_geometry(const Shape& index_shape, const Shape& target_shape, int64_t axis) {
  STRIPES_CHECK(index_shape.size() <= size_t(kMaxDims), "gather (cuda): at most {} dimensions", kMaxDims);
  GatherGeometry g{};
  g.ndim = int(index_shape.size());
  g.axis = int(axis);
  const Strides strides = contiguous_strides(target_shape);
  for (int d = 0; d < g.ndim; ++d) {
    g.shape[d] = index_shape[size_t(d)];
    g.target_strides[d] = strides[size_t(d)];
  }
  return g;
}

template <typename T>
__global__ void gather_kernel(T* out, const T* x, const int64_t* index, GatherGeometry g, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(e, n) { out[e] = x[g.target_offset(e, index[e])]; }
}

template <typename T>
__global__ void scatter_add_kernel(T* target, const T* source, const int64_t* index, GatherGeometry g, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(e, n) { atomicAdd(target + g.target_offset(e, index[e]), source[e]); }
}

Tensor gather(const Tensor& x_in, int64_t axis, const Tensor& index_in) {
  const Tensor x = x_in.contiguous(), index = index_in.contiguous();
  Tensor out = Tensor::empty(index.shape(), x.dtype(), Device::CUDA);
  if (out.numel() == 0) return out;
  const GatherGeometry g = gather_geometry(index.shape(), x.shape(), axis);
  const LaunchShape launch = launch_shape(out.numel());
  dispatch_any(x.dtype(), [&]<typename T>() {
    gather_kernel<T><<<launch.blocks, launch.threads>>>(out.raw_mutable_data<T>(), x.raw_data<T>(), index.raw_data<int64_t>(),
                                                        g, out.numel());
    STRIPES_CUDA_CHECK_LAUNCH(gather_kernel);
  });
  return out;
}

void scatter_add_into(Tensor& target, int64_t axis, const Tensor& index_in, const Tensor& source_in) {
  const Tensor index = index_in.contiguous(), source = source_in.contiguous();
  if (source.numel() == 0) return;
  const GatherGeometry g = gather_geometry(index.shape(), target.shape(), axis);
  const LaunchShape launch = launch_shape(source.numel());
  dispatch_floating(target.dtype(), "scatter_add_", [&]<typename T>() {
    scatter_add_kernel<T><<<launch.blocks, launch.threads>>>(target.raw_mutable_data<T>(), source.raw_data<T>(),
                                                             index.raw_data<int64_t>(), g, source.numel());
    STRIPES_CUDA_CHECK_LAUNCH(scatter_add_kernel);
  });
}

}  // namespace stripes::cuda
