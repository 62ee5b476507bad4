// What the two fused "x against cos/sin tables" ops share — rotate_pairs (rotary.cpp) and
// dimension_codes (dimension_codes.cpp): y = op(x, cos, sin), x: [..., D] with any leading strides
// (as split_heads leaves it), cos/sin tables broadcast over x's leading dims.
//  - RowOffsets: where each of x's rows starts in x and in the tables, for the CPU loops (their GPU
//    kernels use attention/cuda/row_offset_table.cuh, the same table by value);
//  - table_op_fusable: whether the fused kernels take the operands (else the composed form runs);
//  - make_table_op: the autograd node, saving x only when a table wants a gradient and the
//    tables only when x does.
#pragma once

#include "autograd/ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/shape.hpp"
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


// The fused kernels' device (the CPU loop, or with CUDA the GPU kernel), one device and dtype for
// all three, contiguous last axes, tables broadcasting to `table_shape` (x's leading dims and the
// tables' last one).
inline bool table_op_fusable(const char* op, const Tensor& x, const Tensor& c, const Tensor& s, const Shape& table_shape) {
  const bool kernel_device =
      x.device() == Device::CPU || (cuda::kBuiltWithCuda && cuda::fused_kernels_enabled() && x.device() == Device::CUDA);
  return kernel_device && c.device() == x.device() && s.device() == x.device() && last_axis_contiguous(x) &&
         last_axis_contiguous(c) && last_axis_contiguous(s) && c.dtype() == x.dtype() && s.dtype() == x.dtype() &&
         broadcast_shapes(op, c.shape(), table_shape) == table_shape;
}

// backward(grad_x, grad_cos, grad_sin, ∂L/∂y, x's shape, x, cos, sin): x undefined when no table
// gradient is wanted, the tables undefined when no ∂x is.
template <class Backward>
ag::Var make_table_op(const char* op, Tensor y, const ag::Var& x, const ag::Var& c, const ag::Var& s, Backward backward) {
  const bool keep_x = c.requires_grad() || s.requires_grad();
  const bool keep_tables = x.requires_grad();
  ag::SavedTensor saved_x = keep_x ? ag::SavedTensor(x.value(), op, "x") : ag::SavedTensor();
  ag::SavedTensor saved_c = keep_tables ? ag::SavedTensor(c.value(), op, "cos") : ag::SavedTensor();
  ag::SavedTensor saved_s = keep_tables ? ag::SavedTensor(s.value(), op, "sin") : ag::SavedTensor();
  const Shape x_shape = x.shape();
  return ag::make_result(op, std::move(y), {x, c, s}, [=](ag::BackwardContext& ctx) {
    backward(ctx.grad_target(0), ctx.grad_target(1), ctx.grad_target(2), ctx.grad_output(), x_shape,
             keep_x ? saved_x.get() : Tensor(), keep_tables ? saved_c.get() : Tensor(), keep_tables ? saved_s.get() : Tensor());
  });
}

}  // namespace stripes::attention
