// The one loop every elementwise kernel, copy and cast runs on: walk a shape in row-major order
// while tracking, for each of N operands, the element offset given by that operand's strides
// (stride 0 = broadcast). Adjacent dimensions that are contiguous for every operand are merged
// first, so [B, T, D] + [D] runs as a 2-d loop and same-shape contiguous operands as one flat loop.
// The innermost dimension is handed to `inner` as a run (count, per-operand strides), which keeps
// the hot loop free of index arithmetic.
#pragma once

#include "tensor/parallel.hpp"
#include "tensor/shape.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace stripes {

template <size_t N>
struct StridedLayout {
  Shape shape;                          // after merging dimensions
  std::array<Strides, N> strides;       // per operand, same length as shape
};

// Merge dimension i into i+1 whenever stride[i] == stride[i+1] * shape[i+1] for every operand.
template <size_t N>
StridedLayout<N> merge_dimensions(const Shape& shape, const std::array<Strides, N>& strides) {
  StridedLayout<N> layout;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;  // size-1 dims never move any offset
    bool mergeable = !layout.shape.empty();
    for (size_t k = 0; k < N && mergeable; ++k) {
      mergeable = layout.strides[k].back() == strides[k][d] * shape[d];
    }
    if (mergeable) {
      layout.shape.back() *= shape[d];
      for (size_t k = 0; k < N; ++k) layout.strides[k].back() = strides[k][d];
    } else {
      layout.shape.push_back(shape[d]);
      for (size_t k = 0; k < N; ++k) layout.strides[k].push_back(strides[k][d]);
    }
  }
  if (layout.shape.empty()) {  // a scalar or all-ones shape: one element
    layout.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) layout.strides[k].push_back(0);
  }
  return layout;
}

// inner(offsets, count, inner_strides): process `count` elements of the innermost dimension
// starting at per-operand element offsets `offsets`, stepping by `inner_strides`.
template <size_t N, typename Inner>
void strided_loop(const Shape& shape, const std::array<Strides, N>& strides, Inner&& inner) {
  const StridedLayout<N> layout = merge_dimensions<N>(shape, strides);
  const size_t ndim = layout.shape.size();
  const int64_t inner_count = layout.shape[ndim - 1];
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = layout.strides[k][ndim - 1];
  int64_t outer_count = 1;
  for (size_t d = 0; d + 1 < ndim; ++d) outer_count *= layout.shape[d];

  const int64_t grain = std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(inner_count, 1));
  if (outer_count == 1) {  // one long run: split it across threads
    parallel_for(inner_count, kParallelGrain, [&](int64_t begin, int64_t end) {
      std::array<int64_t, N> offsets;
      for (size_t k = 0; k < N; ++k) offsets[k] = begin * inner_strides[k];
      inner(offsets, end - begin, inner_strides);
    });
    return;
  }
  parallel_for(outer_count, grain, [&](int64_t begin, int64_t end) {
    // Decompose the first outer index into a multi-index, then increment it like an odometer.
    std::vector<int64_t> index(ndim - 1);
    std::array<int64_t, N> offsets{};
    int64_t rest = begin;
    for (size_t d = ndim - 1; d-- > 0;) {
      index[d] = rest % layout.shape[d];
      rest /= layout.shape[d];
      for (size_t k = 0; k < N; ++k) offsets[k] += index[d] * layout.strides[k][d];
    }
    for (int64_t outer = begin; outer < end; ++outer) {
      inner(offsets, inner_count, inner_strides);
      for (size_t d = ndim - 1; d-- > 0;) {
        ++index[d];
        for (size_t k = 0; k < N; ++k) offsets[k] += layout.strides[k][d];
        if (index[d] < layout.shape[d]) break;
        for (size_t k = 0; k < N; ++k) offsets[k] -= index[d] * layout.strides[k][d];
        index[d] = 0;
      }
    }
  });
}

// Strides of `tensor_shape`/`tensor_strides` broadcast to `out_shape` (0 where broadcast).
inline Strides broadcast_strides(const Shape& tensor_shape, const Strides& tensor_strides, const Shape& out_shape) {
  Strides out(out_shape.size(), 0);
  const size_t lead = out_shape.size() - tensor_shape.size();
  for (size_t i = 0; i < tensor_shape.size(); ++i) {
    out[lead + i] = tensor_shape[i] == 1 ? 0 : tensor_strides[i];
  }
  return out;
}

}  // namespace stripes
