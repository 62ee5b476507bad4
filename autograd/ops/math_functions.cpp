// Elementwise functions: exp, log, sqrt, sin, cos, tanh.       x, y: [any shape]
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- exp -----------------------------------------------------------------------------------------
// y = e^x
static Tensor exp_forward(const Tensor& x) { return exp(x); }
// ∂y/∂x = e^x = y
static void exp_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& y) { grad_x.add_(grad_y * y); }
Var exp(const Var& x) {
  Tensor y = exp_forward(x.value());
  SavedTensor saved_y(y, "exp", "y");
  return make_result("exp", y, {x}, [saved_y](BackwardContext& ctx) {
    exp_backward(ctx.grad_input(0), ctx.grad_output(), saved_y.get());
  });
}

// ---- log -----------------------------------------------------------------------------------------
// y = ln x                 (x > 0)
static Tensor log_forward(const Tensor& x) { return log(x); }
// ∂y/∂x = 1/x
static void log_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x) { grad_x.add_(grad_y / x); }
Var log(const Var& x) {
  SavedTensor saved_x(x.value(), "log", "x");
  return make_result("log", log_forward(x.value()), {x}, [saved_x](BackwardContext& ctx) {
    log_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get());
  });
}

// ---- sqrt ----------------------------------------------------------------------------------------
// y = √x                   (x > 0)
static Tensor sqrt_forward(const Tensor& x) { return sqrt(x); }
// ∂y/∂x = 1 / (2√x) = 0.5 / y
static void sqrt_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& y) { grad_x.add_(grad_y / y * 0.5); }
Var sqrt(const Var& x) {
  Tensor y = sqrt_forward(x.value());
  SavedTensor saved_y(y, "sqrt", "y");
  return make_result("sqrt", y, {x}, [saved_y](BackwardContext& ctx) {
    sqrt_backward(ctx.grad_input(0), ctx.grad_output(), saved_y.get());
  });
}

// ---- sin -----------------------------------------------------------------------------------------
// y = sin x
static Tensor sin_forward(const Tensor& x) { return sin(x); }
// ∂y/∂x = cos x
static void sin_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x) { grad_x.add_(grad_y * cos(x)); }
Var sin(const Var& x) {
  SavedTensor saved_x(x.value(), "sin", "x");
  return make_result("sin", sin_forward(x.value()), {x}, [saved_x](BackwardContext& ctx) {
    sin_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get());
  });
}

// ---- cos -----------------------------------------------------------------------------------------
// y = cos x
static Tensor cos_forward(const Tensor& x) { return cos(x); }
// ∂y/∂x = -sin x
static void cos_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x) { grad_x.add_(grad_y * sin(x), -1.0); }
Var cos(const Var& x) {
  SavedTensor saved_x(x.value(), "cos", "x");
  return make_result("cos", cos_forward(x.value()), {x}, [saved_x](BackwardContext& ctx) {
    cos_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get());
  });
}

// ---- tanh ----------------------------------------------------------------------------------------
// y = tanh x
static Tensor tanh_forward(const Tensor& x) { return tanh(x); }
// ∂y/∂x = 1 - y²
static void tanh_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& y) {
  grad_x.add_(grad_y * (1.0 - y * y));
}
Var tanh(const Var& x) {
  Tensor y = tanh_forward(x.value());
  SavedTensor saved_y(y, "tanh", "y");
  return make_result("tanh", y, {x}, [saved_y](BackwardContext& ctx) {
    tanh_backward(ctx.grad_input(0), ctx.grad_output(), saved_y.get());
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_math_function_gradchecks(GradcheckRegistry& r) {
  for (const Shape& shape : {Shape{5}, Shape{2, 3, 2}}) {
    const std::string label = shape_str(shape);
    r.add({"exp", label, {normal(shape)}, [](const std::vector<Var>& v) { return exp(v[0]); }});
    r.add({"log", label, {positive(shape)}, [](const std::vector<Var>& v) { return log(v[0]); }});
    r.add({"sqrt", label, {positive(shape)}, [](const std::vector<Var>& v) { return sqrt(v[0]); }});
    r.add({"sin", label, {normal(shape)}, [](const std::vector<Var>& v) { return sin(v[0]); }});
    r.add({"cos", label, {normal(shape)}, [](const std::vector<Var>& v) { return cos(v[0]); }});
    r.add({"tanh", label, {normal(shape)}, [](const std::vector<Var>& v) { return tanh(v[0]); }});
  }
}

}  // namespace stripes::ag
