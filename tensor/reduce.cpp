// Reductions over axes. The tensor is viewed as [kept..., reduced...]: when the reduced axes are
// the trailing ones each output is one contiguous row; when they are the leading ones (the common
// case of summing a gradient over batch and time) rows are accumulated column-wise; any other
// layout is first permuted into the trailing form.
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/math.hpp"

#include <cmath>
#include <limits>

namespace stripes {

namespace {

enum class ReduceKind { Sum, Max, Min };

template <typename T>
T reduce_row(ReduceKind kind, const T* row, int64_t count) {
  switch (kind) {
    case ReduceKind::Sum: {
      double acc = 0.0;  // accumulate float32 sums in double
      for (int64_t i = 0; i < count; ++i) acc += double(row[i]);
      return T(acc);
    }
    case ReduceKind::Max: {
      T acc = -std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < count; ++i) acc = row[i] > acc || std::isnan(row[i]) ? row[i] : acc;
      return acc;
    }
    case ReduceKind::Min: {
      T acc = std::numeric_limits<T>::infinity();
      for (int64_t i = 0; i < count; ++i) acc = row[i] < acc || std::isnan(row[i]) ? row[i] : acc;
      return acc;
    }
  }
  return T(0);
}

Tensor reduce(std::string_view op, ReduceKind kind, const Tensor& x, const std::vector<int64_t>& axes_in, bool keepdim) {
  STRIPES_CHECK(x.defined(), "{}: input tensor is undefined", op);
  const std::vector<int64_t> axes = normalize_axes(op, axes_in, x.dim());
  std::vector<bool> reduced(size_t(x.dim()), false);
  for (int64_t a : axes) reduced[size_t(a)] = true;
  Shape out_shape, kept_shape;
  std::vector<int64_t> order;
  int64_t inner = 1;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (reduced[size_t(d)]) {
      inner *= x.shape()[size_t(d)];
      if (keepdim) out_shape.push_back(1);
    } else {
      order.push_back(d);
      kept_shape.push_back(x.shape()[size_t(d)]);
      out_shape.push_back(x.shape()[size_t(d)]);
    }
  }
  const int64_t outer = shape_numel(kept_shape);
  if (kind != ReduceKind::Sum && inner == 0) {
    throw_error("{}: cannot reduce over an empty axis of {}", op, x.description());
  }
  bool leading = true;  // are the reduced axes exactly 0..k-1?
  for (size_t i = 0; i < axes.size(); ++i) leading = leading && axes[i] == int64_t(i);
  for (int64_t a : axes) order.push_back(a);
  if (x.device() == Device::CUDA) {
    dispatch_floating(x.dtype(), op, []<typename T>() {});
    const cuda::Reduction reduction = kind == ReduceKind::Sum ? cuda::Reduction::Sum
                                      : kind == ReduceKind::Max ? cuda::Reduction::Max : cuda::Reduction::Min;
    return cuda::reduce_rows(reduction, x.permute(order).contiguous(), outer, inner, out_shape);
  }
  require_cpu(op, x);

  return dispatch_floating(x.dtype(), op, [&]<typename T>() {
    Tensor out = Tensor::empty(out_shape, x.dtype());
    T* dst = out.mutable_data<T>();
    if (leading && x.is_contiguous() && kind == ReduceKind::Sum && !axes.empty()) {
      // x is [inner, outer] row-major: accumulate rows into the output, column blocks in parallel.
      const T* src = x.data<T>();
      parallel_for(outer, grain_for(inner), [&](int64_t begin, int64_t end) {
        std::vector<double> acc(size_t(end - begin), 0.0);
        for (int64_t r = 0; r < inner; ++r) {
          const T* row = src + r * outer;
          for (int64_t j = begin; j < end; ++j) acc[size_t(j - begin)] += double(row[j]);
        }
        for (int64_t j = begin; j < end; ++j) dst[j] = T(acc[size_t(j - begin)]);
      });
      return out;
    }
    const Tensor rows = x.permute(order).contiguous();  // [kept..., reduced...]
    const T* src = rows.data<T>();
    parallel_for(outer, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner, 1)),
                 [&](int64_t begin, int64_t end) {
                   for (int64_t r = begin; r < end; ++r) dst[r] = reduce_row<T>(kind, src + r * inner, inner);
                 });
    return out;
  });
}

}  // namespace

Tensor sum(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce("sum", ReduceKind::Sum, x, axes, keepdim);
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  Tensor total = reduce("mean", ReduceKind::Sum, x, axes, keepdim);
  const int64_t count = x.numel() / std::max<int64_t>(total.numel(), 1);
  STRIPES_CHECK(count > 0, "mean: cannot average over an empty axis of {}", x.description());
  return total * (1.0 / double(count));
}

Tensor max(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce("max", ReduceKind::Max, x, axes, keepdim);
}

Tensor min(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) {
  return reduce("min", ReduceKind::Min, x, axes, keepdim);
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  STRIPES_CHECK(broadcast_shapes("sum_to", shape, x.shape()) == x.shape(),
                "sum_to: shape {} does not broadcast to {}", shape_str(shape), x.description());
  const int64_t lead = x.dim() - int64_t(shape.size());
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead || (shape[size_t(d - lead)] == 1 && x.shape()[size_t(d)] != 1)) axes.push_back(d);
  }
  if (axes.empty()) return x.reshape(shape);
  return sum(x, axes, false).reshape(shape);
}

bool all_finite(const Tensor& x) {
  if (!is_floating(x.dtype())) return true;
  if (x.device() == Device::CUDA) return cuda::all_finite(x);
  require_cpu("all_finite", x);
  return dispatch_floating(x.dtype(), "all_finite", [&]<typename T>() {
    const Tensor c = x.contiguous();
    const T* p = c.data<T>();
    const int64_t n = c.numel();
    bool finite = true;
#pragma omp parallel for reduction(&& : finite) if (n > kParallelGrain)
    for (int64_t i = 0; i < n; ++i) finite = finite && std::isfinite(p[i]);
    return finite;
  });
}

double max_abs(const Tensor& x) {
  if (x.numel() == 0) return 0.0;
  return max(abs(x)).item();
}

}  // namespace stripes
