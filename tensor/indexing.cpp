// Scans, concatenation and integer indexing. Each views its operands as [outer, n, inner] around
// the axis it works on, so one loop nest serves every axis.
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/math.hpp"

namespace stripes {

namespace {


const int64_t* checked_indices(std::string_view op, const Tensor& index, int64_t limit, Tensor& holder) {
  STRIPES_CHECK(index.defined(), "{}: index tensor is undefined", op);
  STRIPES_CHECK(index.dtype() == DType::Int64, "{}: index must be int64, got {}", op, index.description());
  holder = index.to(Device::CPU).contiguous();  // bounds are checked on the host, on every backend
  const int64_t* p = holder.data<int64_t>();
  for (int64_t i = 0; i < holder.numel(); ++i) {
    STRIPES_CHECK(p[i] >= 0 && p[i] < limit, "{}: index {} at position {} is out of range [0, {})", op, p[i], i, limit);
  }
  return p;
}

}  // namespace

// y_t = Σ_{s ≤ t} x_s   (reverse: y_t = Σ_{s ≥ t} x_s)
Tensor cumsum(const Tensor& x, int64_t axis, bool reverse) {
  STRIPES_CHECK(x.defined(), "cumsum: input tensor is undefined");
  const int64_t a = normalize_axis("cumsum", axis, x.dim());
  if (x.device() == Device::CUDA) {
    dispatch_floating(x.dtype(), "cumsum", []<typename T>() {});
    return cuda::cumsum(x, a, reverse);
  }
  require_cpu("cumsum", x);
  const AxisView v = axis_view(x.shape(), a);
  const Tensor src_tensor = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), "cumsum", [&]<typename T>() {
    const T* src = src_tensor.data<T>();
    T* dst = out.mutable_data<T>();
    parallel_for(v.outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(v.n * v.inner, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t o = begin; o < end; ++o) {
                     const T* in = src + o * v.n * v.inner;
                     T* y = dst + o * v.n * v.inner;
                     for (int64_t step = 0; step < v.n; ++step) {
                       const int64_t t = reverse ? v.n - 1 - step : step;
                       const T* x_t = in + t * v.inner;
                       T* y_t = y + t * v.inner;
                       if (step == 0) {
                         for (int64_t j = 0; j < v.inner; ++j) y_t[j] = x_t[j];
                       } else {
                         const T* y_prev = y + (reverse ? t + 1 : t - 1) * v.inner;
                         for (int64_t j = 0; j < v.inner; ++j) y_t[j] = y_prev[j] + x_t[j];
                       }
                     }
                   }
                 });
  });
  return out;
}

Tensor concat(const std::vector<Tensor>& tensors, int64_t axis) {
  STRIPES_CHECK(!tensors.empty(), "concat: no tensors given");
  const Tensor& first = tensors.front();
  const int64_t a = normalize_axis("concat", axis, first.dim());
  Shape out_shape = first.shape();
  out_shape[size_t(a)] = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    STRIPES_CHECK(t.device() == first.device(), "concat: tensor {} is on {}, tensor 0 on {}", i, device_name(t.device()),
                  device_name(first.device()));
    require_same_dtype("concat", first, t);
    STRIPES_CHECK(t.dim() == first.dim(), "concat: tensor {} is {} but tensor 0 is {}", i, t.description(),
                  first.description());
    for (int64_t d = 0; d < t.dim(); ++d) {
      STRIPES_CHECK(d == a || t.shape()[size_t(d)] == first.shape()[size_t(d)],
                    "concat: along axis {}, tensor {} {} does not match tensor 0 {} on axis {}", a, i,
                    shape_str(t.shape()), shape_str(first.shape()), d);
    }
    out_shape[size_t(a)] += t.shape()[size_t(a)];
  }
  Tensor out = Tensor::empty(out_shape, first.dtype(), first.device());
  int64_t start = 0;
  for (const Tensor& t : tensors) {
    const int64_t n = t.shape()[size_t(a)];
    if (n > 0) out.slice(a, start, start + n).copy_(t);
    start += n;
  }
  return out;
}

Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index) {
  STRIPES_CHECK(x.defined(), "index_select: input tensor is undefined");
  const int64_t a = normalize_axis("index_select", axis, x.dim());
  const AxisView v = axis_view(x.shape(), a);
  Tensor index_holder;
  const int64_t* idx = checked_indices("index_select", index, v.n, index_holder);
  if (x.device() == Device::CUDA) return cuda::index_select(x, a, index.to(Device::CUDA));
  require_cpu("index_select", x);
  const int64_t k = index.numel();
  Shape out_shape(x.shape().begin(), x.shape().begin() + a);
  out_shape.insert(out_shape.end(), index.shape().begin(), index.shape().end());
  out_shape.insert(out_shape.end(), x.shape().begin() + a + 1, x.shape().end());
  Tensor out = Tensor::empty(out_shape, x.dtype());
  const Tensor src_tensor = x.contiguous();
  dispatch_any(x.dtype(), [&]<typename T>() {
    const T* src = src_tensor.data<T>();
    T* dst = out.mutable_data<T>();
    parallel_for(v.outer * k, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(v.inner, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) {
                     const int64_t o = r / k, i = r % k;
                     const T* row = src + (o * v.n + idx[i]) * v.inner;
                     T* out_row = dst + r * v.inner;
                     for (int64_t j = 0; j < v.inner; ++j) out_row[j] = row[j];
                   }
                 });
  });
  return out;
}

void index_add_(Tensor& target, int64_t axis, const Tensor& index, const Tensor& source) {
  require_same_dtype("index_add_", target, source);
  STRIPES_CHECK(target.is_contiguous(), "index_add_: target {} must be contiguous", target.description());
  const int64_t a = normalize_axis("index_add_", axis, target.dim());
  const AxisView v = axis_view(target.shape(), a);
  Tensor index_holder;
  const int64_t* idx = checked_indices("index_add_", index, v.n, index_holder);
  const int64_t k = index.numel();
  STRIPES_CHECK(source.numel() == v.outer * k * v.inner,
                "index_add_: source {} does not match target {} with {} indices on axis {}", source.description(),
                target.description(), k, a);
  if (target.device() == Device::CUDA) {
    cuda::index_add_into(target, a, index.to(Device::CUDA), source.to(Device::CUDA));
    return;
  }
  require_cpu("index_add_", target);
  require_cpu("index_add_", source);
  const Tensor src_tensor = source.contiguous();
  dispatch_floating(target.dtype(), "index_add_", [&]<typename T>() {
    const T* src = src_tensor.data<T>();
    T* dst = target.mutable_data<T>();
    // Repeated indices accumulate into the same row: rows of one `outer` slice stay on one thread.
    parallel_for(v.outer, grain_for(k * v.inner), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) {
        for (int64_t i = 0; i < k; ++i) {
          const T* row = src + (o * k + i) * v.inner;
          T* out_row = dst + (o * v.n + idx[i]) * v.inner;
          for (int64_t j = 0; j < v.inner; ++j) out_row[j] += row[j];
        }
      }
    });
  });
}

namespace {

// Visit every element of `index` (contiguous), giving its linear position and the linear position
// in a tensor of shape `target_shape` where the axis coordinate is replaced by the index value.
template <typename Visit>
void for_each_indexed_element(std::string_view op, const Shape& target_shape, int64_t axis, const Tensor& index,
                              Visit&& visit) {
  Tensor holder;
  const int64_t* idx = checked_indices(op, index, target_shape[size_t(axis)], holder);
  const Shape& shape = index.shape();
  const Strides target_strides = contiguous_strides(target_shape);
  std::vector<int64_t> coord(shape.size(), 0);
  const int64_t n = index.numel();
  for (int64_t i = 0; i < n; ++i) {
    int64_t target = 0;
    for (size_t d = 0; d < shape.size(); ++d) {
      target += (int64_t(d) == axis ? idx[i] : coord[d]) * target_strides[d];
    }
    visit(i, target);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
}

void check_gather_shapes(std::string_view op, const Shape& x_shape, int64_t axis, const Tensor& index) {
  STRIPES_CHECK(index.dim() == int64_t(x_shape.size()), "{}: index {} must have the rank of {}", op,
                index.description(), shape_str(x_shape));
  for (int64_t d = 0; d < index.dim(); ++d) {
    STRIPES_CHECK(d == axis || index.shape()[size_t(d)] <= x_shape[size_t(d)],
                  "{}: index {} is larger than {} on axis {}", op, index.description(), shape_str(x_shape), d);
  }
}

}  // namespace

Tensor gather(const Tensor& x, int64_t axis, const Tensor& index) {
  STRIPES_CHECK(x.defined(), "gather: input tensor is undefined");
  const int64_t a = normalize_axis("gather", axis, x.dim());
  check_gather_shapes("gather", x.shape(), a, index);
  if (x.device() == Device::CUDA) {
    Tensor holder;
    checked_indices("gather", index, x.shape()[size_t(a)], holder);
    return cuda::gather(x, a, index.to(Device::CUDA));
  }
  require_cpu("gather", x);
  const Tensor src_tensor = x.contiguous();
  Tensor out = Tensor::empty(index.shape(), x.dtype());
  dispatch_any(x.dtype(), [&]<typename T>() {
    const T* src = src_tensor.data<T>();
    T* dst = out.mutable_data<T>();
    for_each_indexed_element("gather", x.shape(), a, index, [&](int64_t i, int64_t s) { dst[i] = src[s]; });
  });
  return out;
}

void scatter_add_(Tensor& target, int64_t axis, const Tensor& index, const Tensor& source) {
  require_same_dtype("scatter_add_", target, source);
  STRIPES_CHECK(target.is_contiguous(), "scatter_add_: target {} must be contiguous", target.description());
  const int64_t a = normalize_axis("scatter_add_", axis, target.dim());
  check_gather_shapes("scatter_add_", target.shape(), a, index);
  STRIPES_CHECK(source.shape() == index.shape(), "scatter_add_: source {} must have the shape of index {}",
                source.description(), index.description());
  if (target.device() == Device::CUDA) {
    Tensor holder;
    checked_indices("scatter_add_", index, target.shape()[size_t(a)], holder);
    cuda::scatter_add_into(target, a, index.to(Device::CUDA), source.to(Device::CUDA));
    return;
  }
  require_cpu("scatter_add_", target);
  const Tensor src_tensor = source.contiguous();
  dispatch_floating(target.dtype(), "scatter_add_", [&]<typename T>() {
    const T* src = src_tensor.data<T>();
    T* dst = target.mutable_data<T>();
    for_each_indexed_element("scatter_add_", target.shape(), a, index, [&](int64_t i, int64_t t) { dst[t] += src[i]; });
  });
}

}  // namespace stripes
