// Rows of a [..., D] tensor for the fused CPU ops of the rotation-based PEs (rotate_pairs in
// rotary.cpp, dimension_codes in dimension_codes.cpp), whose operands have a contiguous last axis but
// any leading strides: x as split_heads leaves it, and cos/sin tables broadcast over the batch.
// (Their GPU kernels use attention/cuda/row_offset_table.cuh, the same table by value.)
#pragma once

#include "tensor/strided_loop.hpp"
#include "tensor/tensor.hpp"

namespace stripes::attention {

// Row r of the output (its leading index over x's leading shape) -> where that row starts in a
// tensor whose last axis is contiguous: x (any leading strides, e.g. a split_heads view) or c and
// s (0 strides on broadcast dimensions).
struct RowOffsets {
  Shape lead;       // x's leading shape
  Strides strides;  // the tensor's element strides over `lead`
  int64_t of(int64_t r) const {
    int64_t out = 0;
    for (size_t d = lead.size(); d-- > 0;) {
      out += (r % lead[d]) * strides[d];
      r /= lead[d];
    }
    return out;
  }
};

inline RowOffsets row_offsets(const Shape& x_shape, const Tensor& t) {
  RowOffsets a;
  a.lead.assign(x_shape.begin(), x_shape.end() - 1);
  a.strides = broadcast_strides(Shape(t.shape().begin(), t.shape().end() - 1),
                                Strides(t.strides().begin(), t.strides().end() - 1), a.lead);
  return a;
}

inline bool last_axis_contiguous(const Tensor& t) { return t.size(-1) == 1 || t.strides().back() == 1; }

}  // namespace stripes::attention
