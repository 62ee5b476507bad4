// Shape ops: reshape, permute, transpose, slice, concat, unsqueeze, squeeze. Their forwards are
// views or copies; their backwards move the gradient back to where each element came from.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

#include <numeric>

namespace stripes::ag {

// ---- reshape -------------------------------------------------------------------------------------
// y = x viewed as `shape`  (same elements in row-major order)
static Tensor reshape_forward(const Tensor& x, const Shape& shape) { return x.reshape(shape); }
// ∂L/∂x = ∂L/∂y viewed as x's shape
static void reshape_backward(GradTarget grad_x, Tensor grad_y, const Shape& x_shape) {
  Tensor view = grad_y.reshape(x_shape);
  grad_y = Tensor();  // the view alone holds the gradient now, so it can become x's buffer
  grad_x += std::move(view);
}
Var reshape(const Var& x, const Shape& shape) {
  return make_result("reshape", reshape_forward(x.value(), shape), {x}, [x_shape = x.shape()](BackwardContext& ctx) {
    reshape_backward(ctx.grad_target(0), ctx.take_grad_output(), x_shape);  // the view is handed on, not copied
  });
}
Var unsqueeze(const Var& x, int64_t axis) { return reshape(x, x.value().unsqueeze(axis).shape()); }
Var squeeze(const Var& x, int64_t axis) { return reshape(x, x.value().squeeze(axis).shape()); }
Var stack(const std::vector<Var>& xs, int64_t axis) {
  std::vector<Var> parts;
  parts.reserve(xs.size());
  for (const Var& x : xs) parts.push_back(unsqueeze(x, axis));
  return concat(parts, axis);
}

// ---- permute -------------------------------------------------------------------------------------
// y[i_order[0], ..., i_order[n-1]] = x[i_0, ..., i_{n-1}]
static Tensor permute_forward(const Tensor& x, const std::vector<int64_t>& order) { return x.permute(order); }
// ∂L/∂x = ∂L/∂y permuted by the inverse order
static void permute_backward(GradTarget grad_x, const Tensor& grad_y, const std::vector<int64_t>& order) {
  std::vector<int64_t> inverse(order.size());
  for (size_t i = 0; i < order.size(); ++i) inverse[size_t(normalize_axis("permute", order[i], int64_t(order.size())))] = int64_t(i);
  grad_x += grad_y.permute(inverse);
}
Var permute(const Var& x, const std::vector<int64_t>& order) {
  return make_result("permute", permute_forward(x.value(), order), {x}, [order](BackwardContext& ctx) {
    permute_backward(ctx.grad_target(0), ctx.grad_output(), order);
  });
}
Var transpose(const Var& x, int64_t axis_a, int64_t axis_b) {
  std::vector<int64_t> order(size_t(x.dim()));
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[size_t(normalize_axis("transpose", axis_a, x.dim()))],
            order[size_t(normalize_axis("transpose", axis_b, x.dim()))]);
  return permute(x, order);
}

// ---- slice ---------------------------------------------------------------------------------------
// y = x[..., start:end:step, ...] along `axis`
static Tensor slice_forward(const Tensor& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  return x.slice(axis, start, end, step);
}
// ∂L/∂x[..., start:end:step, ...] += ∂L/∂y, zero elsewhere
static void slice_backward(Tensor& grad_x, const Tensor& grad_y, int64_t axis, int64_t start, int64_t end, int64_t step) {
  Tensor window = grad_x.slice(axis, start, end, step);
  window.add_(grad_y);
}
Var slice(const Var& x, int64_t axis, int64_t start, int64_t end, int64_t step) {
  return make_result("slice", slice_forward(x.value(), axis, start, end, step), {x},
                     [axis, start, end, step](BackwardContext& ctx) {
                       slice_backward(ctx.grad_input(0), ctx.grad_output(), axis, start, end, step);
                     });
}

// ---- concat --------------------------------------------------------------------------------------
// y = [x_0, x_1, ...] joined along `axis`
static Tensor concat_forward(const std::vector<Tensor>& xs, int64_t axis) { return concat(xs, axis); }
// ∂L/∂x_i = the slice of ∂L/∂y that x_i occupies
static void concat_backward(BackwardContext& ctx, const Tensor& grad_y, int64_t axis, const std::vector<int64_t>& sizes) {
  int64_t start = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    Tensor& grad_x = ctx.grad_input(i);
    if (grad_x.defined()) grad_x.add_(grad_y.slice(axis, start, start + sizes[i]));
    start += sizes[i];
  }
}
Var concat(const std::vector<Var>& xs, int64_t axis) {
  std::vector<Tensor> values;
  std::vector<int64_t> sizes;
  STRIPES_CHECK(!xs.empty(), "concat: no tensors given");
  const int64_t a = normalize_axis("concat", axis, xs.front().dim());
  for (const Var& x : xs) {
    values.push_back(x.value());
    sizes.push_back(x.dim() > a ? x.shape()[size_t(a)] : 0);
  }
  return make_result("concat", concat_forward(values, a), xs,
                     [a, sizes](BackwardContext& ctx) { concat_backward(ctx, ctx.grad_output(), a, sizes); });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_shape_gradchecks(GradcheckRegistry& r) {
  r.add({"reshape", "[2, 3, 4] -> [6, -1]", {normal({2, 3, 4})}, [](const std::vector<Var>& v) { return reshape(v[0], {6, -1}); }});
  r.add({"reshape", "transposed [3, 4] -> [12] (copies)", {normal({4, 3})},
         [](const std::vector<Var>& v) { return reshape(transpose(v[0], 0, 1), {12}); }});
  r.add({"permute", "[2, 3, 4] by (2, 0, 1)", {normal({2, 3, 4})},
         [](const std::vector<Var>& v) { return permute(v[0], {2, 0, 1}); }});
  r.add({"transpose", "[2, 3, 4] axes 0 and 2", {normal({2, 3, 4})},
         [](const std::vector<Var>& v) { return transpose(v[0], 0, 2); }});
  r.add({"slice", "[5, 3] rows 1:4", {normal({5, 3})}, [](const std::vector<Var>& v) { return slice(v[0], 0, 1, 4); }});
  r.add({"slice", "[2, 7] cols 0:7:3", {normal({2, 7})}, [](const std::vector<Var>& v) { return slice(v[0], 1, 0, 7, 3); }});
  r.add({"slice", "[4, 5] overlapping slices summed", {normal({4, 5})},
         [](const std::vector<Var>& v) { return slice(v[0], 1, 0, 3) + slice(v[0], 1, 2, 5); }});
  r.add({"concat", "[2, 3] [2, 1] [2, 2] along axis 1", {normal({2, 3}), normal({2, 1}), normal({2, 2})},
         [](const std::vector<Var>& v) { return concat({v[0], v[1], v[2]}, 1); }});
  r.add({"concat", "[1, 3] [2, 3] along axis 0", {normal({1, 3}), normal({2, 3})},
         [](const std::vector<Var>& v) { return concat({v[0], v[1]}, 0); }});
  r.add({"unsqueeze", "[2, 3] at axis 1", {normal({2, 3})}, [](const std::vector<Var>& v) { return unsqueeze(v[0], 1); }});
  r.add({"squeeze", "[2, 1, 3] axis 1", {normal({2, 1, 3})}, [](const std::vector<Var>& v) { return squeeze(v[0], 1); }});
  r.add({"stack", "[2, 3] [2, 3] along a new last axis", {normal({2, 3}), normal({2, 3})},
         [](const std::vector<Var>& v) { return stack({v[0], v[1]}, -1); }});
}

}  // namespace stripes::ag
