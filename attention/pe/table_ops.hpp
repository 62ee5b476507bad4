// What the two fused "x against cos/sin tables" ops share — rotate_pairs (rotary.cpp) and
// dimension_codes (dimension_codes.cpp): y = op(x, cos, sin), x: [..., D] with any leading strides
// (as split_heads leaves it), cos/sin tables broadcast over x's leading dims.
//  - their rows, through RowOffsetTable (row_offset_table.hpp), on both backends;
//  - table_op_fusable: whether the fused kernels take the operands (else the composed form runs);
//  - make_table_op: the autograd node, saving x only when a table wants a gradient and the
//    tables only when x does.
#pragma once

#include "attention/pe/row_offset_table.hpp"
#include "autograd/ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/shape.hpp"
#include "tensor/tensor.hpp"

namespace stripes::attention {

inline bool last_axis_contiguous(const Tensor& t) { return t.size(-1) == 1 || t.strides().back() == 1; }

// The fused kernels' device (the CPU loop, or with CUDA the GPU kernel), one device and dtype for
// all three, contiguous last axes, at most kMaxRowDims leading dims, tables broadcasting to
// `table_shape` (x's leading dims and the tables' last one).
inline bool table_op_fusable(const char* op, const Tensor& x, const Tensor& c, const Tensor& s, const Shape& table_shape) {
  const bool kernel_device =
      x.device() == Device::CPU || (cuda::kBuiltWithCuda && cuda::fused_kernels_enabled() && x.device() == Device::CUDA);
  return kernel_device && x.dim() - 1 <= kMaxRowDims && c.device() == x.device() && s.device() == x.device() &&
         last_axis_contiguous(x) && last_axis_contiguous(c) && last_axis_contiguous(s) && c.dtype() == x.dtype() &&
         s.dtype() == x.dtype() && broadcast_shapes(op, c.shape(), table_shape) == table_shape;
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
