// Activations: sigmoid, softplus, relu, gelu, elu.               x, y: [any shape]
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- sigmoid -------------------------------------------------------------------------------------
// y = 1 / (1 + e^-x)
static Tensor sigmoid_forward(const Tensor& x) { return sigmoid(x); }
// ∂y/∂x = y (1 - y)
static void sigmoid_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& y) {
  grad_x.add_(grad_y * y * (1.0 - y));
}
Var sigmoid(const Var& x) {
  Tensor y = sigmoid_forward(x.value());
  SavedTensor saved_y(y, "sigmoid", "y");
  return make_result("sigmoid", y, {x}, [saved_y](BackwardContext& ctx) {
    sigmoid_backward(ctx.grad_input(0), ctx.grad_output(), saved_y.get());
  });
}

// ---- softplus ------------------------------------------------------------------------------------
// y = ln(1 + e^x)
static Tensor softplus_forward(const Tensor& x) { return softplus(x); }
// ∂y/∂x = sigmoid(x)
static void softplus_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x) {
  grad_x.add_(grad_y * sigmoid(x));
}
Var softplus(const Var& x) {
  SavedTensor saved_x(x.value(), "softplus", "x");
  return make_result("softplus", softplus_forward(x.value()), {x}, [saved_x](BackwardContext& ctx) {
    softplus_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get());
  });
}

// ---- relu ----------------------------------------------------------------------------------------
// y = max(x, 0)
static Tensor relu_forward(const Tensor& x) { return relu(x); }
// ∂y/∂x = 1 if x > 0 else 0
static void relu_backward(GradTarget grad_x, const Tensor& grad_y, const Tensor& y) { grad_x += grad_y * step(y); }
Var relu(const Var& x) {
  Tensor y = relu_forward(x.value());
  SavedTensor saved_y(y, "relu", "y");  // y > 0 exactly where x > 0
  return make_result("relu", y, {x}, [saved_y](BackwardContext& ctx) {
    relu_backward(ctx.grad_target(0), ctx.grad_output(), saved_y.get());
  });
}

// ---- gelu ----------------------------------------------------------------------------------------
// y = x Φ(x)               Φ the standard normal CDF
static Tensor gelu_forward(const Tensor& x) { return gelu(x); }
// ∂y/∂x = Φ(x) + x φ(x)
static void gelu_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x) {
  grad_x.add_(grad_y * gelu_derivative(x));
}
Var gelu(const Var& x) {
  SavedTensor saved_x(x.value(), "gelu", "x");
  return make_result("gelu", gelu_forward(x.value()), {x}, [saved_x](BackwardContext& ctx) {
    gelu_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get());
  });
}

// ---- elu -----------------------------------------------------------------------------------------
// y = x if x > 0 else α (e^x - 1)
static Tensor elu_forward(const Tensor& x, double alpha) { return elu(x, alpha); }
// ∂y/∂x = 1 if x > 0 else α e^x = y + α
static void elu_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x, const Tensor& y, double alpha) {
  const Tensor positive = step(x);
  grad_x.add_(grad_y * (positive + (1.0 - positive) * (y + alpha)));
}
Var elu(const Var& x, double alpha) {
  Tensor y = elu_forward(x.value(), alpha);
  SavedTensor saved_x(x.value(), "elu", "x"), saved_y(y, "elu", "y");
  return make_result("elu", y, {x}, [saved_x, saved_y, alpha](BackwardContext& ctx) {
    elu_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get(), saved_y.get(), alpha);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_activation_gradchecks(GradcheckRegistry& r) {
  for (const Shape& shape : {Shape{7}, Shape{2, 3, 4}}) {
    const std::string label = shape_str(shape);
    r.add({"sigmoid", label, {normal(shape)}, [](const std::vector<Var>& v) { return sigmoid(v[0]); }});
    r.add({"softplus", label, {normal(shape)}, [](const std::vector<Var>& v) { return softplus(v[0]); }});
    GradcheckCase relu_case{"relu", label, {normal(shape)}, [](const std::vector<Var>& v) { return relu(v[0]); }};
    relu_case.kinks = {0.0};
    r.add(relu_case);
    r.add({"gelu", label, {normal(shape)}, [](const std::vector<Var>& v) { return gelu(v[0]); }});
    GradcheckCase elu_case{"elu", label + " alpha 0.7", {normal(shape)}, [](const std::vector<Var>& v) { return elu(v[0], 0.7); }};
    elu_case.kinks = {0.0};
    r.add(elu_case);
  }
}

}  // namespace stripes::ag
