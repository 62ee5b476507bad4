// Shapes and strides. A shape is a list of sizes, outermost first (row-major); strides are in
// elements, not bytes. A stride of 0 is a broadcast (expanded) dimension.
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stripes {

using Shape = std::vector<int64_t>;
using Strides = std::vector<int64_t>;

int64_t shape_numel(const Shape& shape);
Strides contiguous_strides(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[2, 3, 4]"

// NumPy broadcasting: align trailing dims; sizes must match or be 1. Throws naming `op`.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

// Map a possibly negative axis into [0, ndim). Throws naming `op` when out of range.
int64_t normalize_axis(std::string_view op, int64_t axis, int64_t ndim);

// A shape seen around one axis as [outer, n, inner]: the view every scan and indexing kernel
// (CPU and CUDA) loops over.
struct AxisView {
  int64_t outer = 1, n = 1, inner = 1;
};
AxisView axis_view(const Shape& shape, int64_t axis);

// Normalize a list of axes (empty = all axes), sorted, without duplicates.
std::vector<int64_t> normalize_axes(std::string_view op, const std::vector<int64_t>& axes, int64_t ndim);

}  // namespace stripes
