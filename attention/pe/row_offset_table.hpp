// Where each row of a [..., D] operand starts, for the "x against cos/sin tables" ops (rotate_pairs,
// dimension_codes): x with any leading strides (as split_heads leaves it), or cos/sin tables
// broadcast over x's leading dims (stride 0). One table for both backends: the CPU loops
// (attention/pe/rotary.cpp, dimension_codes.cpp) call of() on the host, the GPU kernels
// (attention/cuda/*_kernels.cuh) get the table by value and call it on the device.
#pragma once

#include "tensor/error.hpp"
#include "tensor/scalar_functions.hpp"  // STRIPES_HOST_DEVICE
#include "tensor/strided_loop.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>

namespace stripes::attention {

constexpr int kMaxRowDims = 8;  // leading dims of x; the ops run composed beyond (table_op_fusable)

// Row r (its index over x's leading shape) -> the element offset where that row starts in a tensor
// whose last axis is contiguous.
struct RowOffsetTable {
  int ndim = 0;
  int64_t lead[kMaxRowDims] = {};
  int64_t strides[kMaxRowDims] = {};

  STRIPES_HOST_DEVICE int64_t of(int64_t r) const {
    int64_t out = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      out += (r % lead[d]) * strides[d];
      r /= lead[d];
    }
    return out;
  }
};

// The table of tensor t (x itself, or c or s broadcasting over x's leading dims), on the host.
inline RowOffsetTable row_offset_table(const Shape& x_shape, const Tensor& t) {
  const Shape lead(x_shape.begin(), x_shape.end() - 1);
  const Strides strides = broadcast_strides(Shape(t.shape().begin(), t.shape().end() - 1),
                                            Strides(t.strides().begin(), t.strides().end() - 1), lead);
  STRIPES_CHECK(lead.size() <= size_t(kMaxRowDims), "row offsets: {} leading dimensions, at most {}", lead.size(),
                kMaxRowDims);
  RowOffsetTable table;
  table.ndim = int(lead.size());
  for (size_t d = 0; d < lead.size(); ++d) {
    table.lead[d] = lead[d];
    table.strides[d] = strides[d];
  }
  return table;
}

}  // namespace stripes::attention
