#include "tensor/shape.hpp"

#include "tensor/error.hpp"

#include <algorithm>

namespace stripes {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const size_t ndim = std::max(a.size(), b.size());
  Shape out(ndim);
  for (size_t i = 0; i < ndim; ++i) {
    // i counts from the right
    const int64_t sa = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t sb = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (sa != sb && sa != 1 && sb != 1) {
      throw_error("{}: shapes {} and {} cannot be broadcast together (dimension {} from the right: {} vs {})",
                  op, shape_str(a), shape_str(b), i, sa, sb);
    }
    out[ndim - 1 - i] = sa == 1 ? sb : sa;
  }
  return out;
}

int64_t normalize_axis(std::string_view op, int64_t axis, int64_t ndim) {
  const int64_t normalized = axis < 0 ? axis + ndim : axis;
  if (normalized < 0 || normalized >= ndim) {
    throw_error("{}: axis {} is out of range for a tensor with {} dimensions", op, axis, ndim);
  }
  return normalized;
}

AxisView axis_view(const Shape& shape, int64_t axis) {
  AxisView v;
  for (int64_t d = 0; d < int64_t(shape.size()); ++d) {
    if (d < axis) v.outer *= shape[size_t(d)];
    else if (d == axis) v.n = shape[size_t(d)];
    else v.inner *= shape[size_t(d)];
  }
  return v;
}

std::vector<int64_t> normalize_axes(std::string_view op, const std::vector<int64_t>& axes, int64_t ndim) {
  std::vector<int64_t> out;
  if (axes.empty()) {
    for (int64_t i = 0; i < ndim; ++i) out.push_back(i);
    return out;
  }
  for (int64_t axis : axes) out.push_back(normalize_axis(op, axis, ndim));
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end()) {
    throw_error("{}: axis list [{}] names an axis twice", op, fmt::join(axes, ", "));
  }
  return out;
}

}  // namespace stripes
