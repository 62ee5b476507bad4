// Where each row of a [..., D] operand starts, for the GPU kernels of the rotation-based PEs
// (rotate_pairs_kernels.cuh, dimension_codes_kernels.cuh): x with any leading strides, or cos/sin tables
// broadcast over x's leading dims (stride 0). Built on the host, passed to kernels by value.
#pragma once

#include "tensor/cuda/kernel_language.hpp"
#include "tensor/error.hpp"
#include "tensor/strided_loop.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>

namespace stripes::attention::cuda_kernels {

constexpr int kMaxRowDims = 8;

// Row r (its index over x's leading shape) -> the element offset where that row starts in a tensor
// whose last axis is contiguous: x with any leading strides, or c and s with stride 0 on the
// dimensions they broadcast over. Passed to kernels by value.
struct RowOffsetTable {
  int ndim = 0;
  int64_t lead[kMaxRowDims] = {};
  int64_t strides[kMaxRowDims] = {};

  STRIPES_DEVICE_FUNCTION int64_t of(int64_t r) const {
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
  STRIPES_CHECK(lead.size() <= size_t(kMaxRowDims), "cuda kernel rows: {} leading dimensions, at most {}", lead.size(),
                kMaxRowDims);
  RowOffsetTable table;
  table.ndim = int(lead.size());
  for (size_t d = 0; d < lead.size(); ++d) {
    table.lead[d] = lead[d];
    table.strides[d] = strides[d];
  }
  return table;
}

}  // namespace stripes::attention::cuda_kernels
