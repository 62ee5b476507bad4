// Reductions over axes: sum, mean, max.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

namespace {
// The output's shape with reduced axes kept as size 1, so a gradient broadcasts back over them.
Shape keepdim_shape(const Shape& input, const std::vector<int64_t>& axes) {
  Shape shape = input;
  for (int64_t a : normalize_axes("reduce", axes, int64_t(input.size()))) shape[size_t(a)] = 1;
  return shape;
}
}  // namespace

// ---- sum -----------------------------------------------------------------------------------------
// y = Σ_{reduced axes} x
static Tensor sum_forward(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) { return sum(x, axes, keepdim); }
// ∂y/∂x = 1 (the gradient is broadcast back over the reduced axes)
static void sum_backward(Tensor& grad_x, const Tensor& grad_y, const std::vector<int64_t>& axes) {
  grad_x.add_(grad_y.reshape(keepdim_shape(grad_x.shape(), axes)));
}
Var sum(const Var& x, const std::vector<int64_t>& axes, bool keepdim) {
  return make_result("sum", sum_forward(x.value(), axes, keepdim), {x},
                     [axes](BackwardContext& ctx) { sum_backward(ctx.grad_input(0), ctx.grad_output(), axes); });
}

// ---- mean ----------------------------------------------------------------------------------------
// y = (1/n) Σ_{reduced axes} x            n = number of elements reduced into each output
static Tensor mean_forward(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) { return mean(x, axes, keepdim); }
// ∂y/∂x = 1/n
static void mean_backward(Tensor& grad_x, const Tensor& grad_y, const std::vector<int64_t>& axes) {
  const double n = double(grad_x.numel()) / double(std::max<int64_t>(grad_y.numel(), 1));
  grad_x.add_(grad_y.reshape(keepdim_shape(grad_x.shape(), axes)), 1.0 / n);
}
Var mean(const Var& x, const std::vector<int64_t>& axes, bool keepdim) {
  return make_result("mean", mean_forward(x.value(), axes, keepdim), {x},
                     [axes](BackwardContext& ctx) { mean_backward(ctx.grad_input(0), ctx.grad_output(), axes); });
}

// ---- max -----------------------------------------------------------------------------------------
// y = max_{reduced axes} x
static Tensor max_forward(const Tensor& x, const std::vector<int64_t>& axes, bool keepdim) { return max(x, axes, keepdim); }
// ∂y/∂x = 1 at the maximum (split equally between ties), 0 elsewhere
static void max_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x, const Tensor& y,
                         const std::vector<int64_t>& axes) {
  const Shape kept = keepdim_shape(x.shape(), axes);
  const Tensor is_max = equal(x, y.reshape(kept)).to(x.dtype());
  const Tensor ties = sum(is_max, axes, true);
  grad_x.add_(is_max * (grad_y.reshape(kept) / ties));
}
Var max(const Var& x, const std::vector<int64_t>& axes, bool keepdim) {
  Tensor y = max_forward(x.value(), axes, keepdim);
  SavedTensor saved_x(x.value(), "max", "x"), saved_y(y, "max", "y");
  return make_result("max", y, {x}, [saved_x, saved_y, axes](BackwardContext& ctx) {
    max_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get(), saved_y.get(), axes);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_reduction_gradchecks(GradcheckRegistry& r) {
  struct Axes { std::vector<int64_t> axes; bool keepdim; };
  const std::vector<Axes> variants = {{{}, false}, {{1}, false}, {{0, 2}, true}, {{-1}, true}, {{0}, false}};
  for (const auto& [axes, keepdim] : variants) {
    const std::string label = fmt::format("[2, 3, 4] over [{}]{}", fmt::join(axes, ", "), keepdim ? " keepdim" : "");
    r.add({"sum", label, {normal({2, 3, 4})}, [axes, keepdim](const std::vector<Var>& v) { return sum(v[0], axes, keepdim); }});
    r.add({"mean", label, {normal({2, 3, 4})}, [axes, keepdim](const std::vector<Var>& v) { return mean(v[0], axes, keepdim); }});
    r.add({"max", label, {distinct({2, 3, 4})}, [axes, keepdim](const std::vector<Var>& v) { return max(v[0], axes, keepdim); }});
  }
}

}  // namespace stripes::ag
