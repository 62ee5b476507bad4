// Arithmetic with broadcasting: add, sub, mul, div, neg, pow, scale, add_scalar.
// Broadcasting's backward is a sum: accumulate_grad() sums each contribution down to the
// input's shape.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- add -----------------------------------------------------------------------------------------
// y = a + b                a: [A...]  b: [B...]  y: broadcast(A, B)
static Tensor add_forward(const Tensor& a, const Tensor& b) { return a + b; }
// ∂y/∂a = 1, ∂y/∂b = 1
static void add_backward(GradTarget grad_a, GradTarget grad_b, Tensor grad_y) {
  grad_b += grad_y;             // a copy (or a sum over broadcast axes)
  grad_a += std::move(grad_y);  // handed on: it becomes a's gradient when a has none yet
}
Var add(const Var& a, const Var& b) {
  return make_result("add", add_forward(a.value(), b.value()), {a, b}, [](BackwardContext& ctx) {
    add_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.take_grad_output());
  });
}

// ---- sub -----------------------------------------------------------------------------------------
// y = a - b                a: [A...]  b: [B...]  y: broadcast(A, B)
static Tensor sub_forward(const Tensor& a, const Tensor& b) { return a - b; }
// ∂y/∂a = 1, ∂y/∂b = -1
static void sub_backward(GradTarget grad_a, GradTarget grad_b, Tensor grad_y) {
  if (grad_b.defined()) grad_b += -grad_y;
  grad_a += std::move(grad_y);
}
Var sub(const Var& a, const Var& b) {
  return make_result("sub", sub_forward(a.value(), b.value()), {a, b}, [](BackwardContext& ctx) {
    sub_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.take_grad_output());
  });
}

// ---- mul -----------------------------------------------------------------------------------------
// y = a * b                a: [A...]  b: [B...]  y: broadcast(A, B)
static Tensor mul_forward(const Tensor& a, const Tensor& b) { return a * b; }
// ∂y/∂a = b, ∂y/∂b = a
static void mul_backward(GradTarget grad_a, GradTarget grad_b, const Tensor& grad_y, const Tensor& a, const Tensor& b) {
  if (grad_a.defined()) grad_a += grad_y * b;
  if (grad_b.defined()) grad_b += grad_y * a;
}
Var mul(const Var& a, const Var& b) {
  // Each input is needed only for its partner's gradient.
  SavedTensor saved_a = b.requires_grad() ? SavedTensor(a.value(), "mul", "a") : SavedTensor();
  SavedTensor saved_b = a.requires_grad() ? SavedTensor(b.value(), "mul", "b") : SavedTensor();
  return make_result("mul", mul_forward(a.value(), b.value()), {a, b}, [saved_a, saved_b](BackwardContext& ctx) {
    const GradTarget grad_a = ctx.grad_target(0), grad_b = ctx.grad_target(1);
    mul_backward(grad_a, grad_b, ctx.grad_output(), grad_b.defined() ? saved_a.get() : Tensor(),
                 grad_a.defined() ? saved_b.get() : Tensor());
  });
}

// ---- div -----------------------------------------------------------------------------------------
// y = a / b                a: [A...]  b: [B...]  y: broadcast(A, B)
static Tensor div_forward(const Tensor& a, const Tensor& b) { return a / b; }
// ∂y/∂a = 1/b, ∂y/∂b = -a/b² = -y/b
static void div_backward(Tensor& grad_a, Tensor& grad_b, const Tensor& grad_y, const Tensor& b, const Tensor& y) {
  if (grad_a.defined()) accumulate_grad(grad_a, grad_y / b);
  if (grad_b.defined()) accumulate_grad(grad_b, -(grad_y * y / b));
}
Var div(const Var& a, const Var& b) {
  Tensor y = div_forward(a.value(), b.value());
  SavedTensor saved_b(b.value(), "div", "b");
  SavedTensor saved_y = b.requires_grad() ? SavedTensor(y, "div", "y") : SavedTensor();
  return make_result("div", y, {a, b}, [saved_b, saved_y](BackwardContext& ctx) {
    Tensor& grad_b = ctx.grad_input(1);
    div_backward(ctx.grad_input(0), grad_b, ctx.grad_output(), saved_b.get(), grad_b.defined() ? saved_y.get() : Tensor());
  });
}

// ---- neg -----------------------------------------------------------------------------------------
// y = -x
static Tensor neg_forward(const Tensor& x) { return -x; }
// ∂y/∂x = -1
static void neg_backward(Tensor& grad_x, const Tensor& grad_y) { grad_x.add_(grad_y, -1.0); }
Var neg(const Var& x) {
  return make_result("neg", neg_forward(x.value()), {x},
                     [](BackwardContext& ctx) { neg_backward(ctx.grad_input(0), ctx.grad_output()); });
}

// ---- scale ---------------------------------------------------------------------------------------
// y = c x                  (c a constant)
static Tensor scale_forward(const Tensor& x, double factor) { return x * factor; }
// ∂y/∂x = c
static void scale_backward(Tensor& grad_x, const Tensor& grad_y, double factor) { grad_x.add_(grad_y, factor); }
Var scale(const Var& x, double factor) {
  return make_result("scale", scale_forward(x.value(), factor), {x},
                     [factor](BackwardContext& ctx) { scale_backward(ctx.grad_input(0), ctx.grad_output(), factor); });
}

// ---- add_scalar ----------------------------------------------------------------------------------
// y = x + c                (c a constant)
static Tensor add_scalar_forward(const Tensor& x, double shift) { return x + shift; }
// ∂y/∂x = 1
static void add_scalar_backward(Tensor& grad_x, const Tensor& grad_y) { grad_x.add_(grad_y); }
Var add_scalar(const Var& x, double shift) {
  return make_result("add_scalar", add_scalar_forward(x.value(), shift), {x},
                     [](BackwardContext& ctx) { add_scalar_backward(ctx.grad_input(0), ctx.grad_output()); });
}

// ---- pow (scalar exponent) -----------------------------------------------------------------------
// y = x^p
static Tensor pow_forward(const Tensor& x, double exponent) { return pow(x, exponent); }
// ∂y/∂x = p x^(p-1)
static void pow_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& x, double exponent) {
  grad_x.add_(grad_y * pow(x, exponent - 1.0) * exponent);
}
Var pow(const Var& x, double exponent) {
  SavedTensor saved_x(x.value(), "pow", "x");
  return make_result("pow", pow_forward(x.value(), exponent), {x}, [saved_x, exponent](BackwardContext& ctx) {
    pow_backward(ctx.grad_input(0), ctx.grad_output(), saved_x.get(), exponent);
  });
}

// ---- pow (tensor exponent) -----------------------------------------------------------------------
// y = a^b                  a > 0, broadcast
static Tensor pow_tensor_forward(const Tensor& a, const Tensor& b) { return pow(a, b); }
// ∂y/∂a = b a^(b-1) = b y / a,  ∂y/∂b = y ln a
static void pow_tensor_backward(Tensor& grad_a, Tensor& grad_b, const Tensor& grad_y, const Tensor& a, const Tensor& b,
                                const Tensor& y) {
  if (grad_a.defined()) accumulate_grad(grad_a, grad_y * b * y / a);
  if (grad_b.defined()) accumulate_grad(grad_b, grad_y * y * log(a));
}
Var pow(const Var& base, const Var& exponent) {
  Tensor y = pow_tensor_forward(base.value(), exponent.value());
  SavedTensor saved_a(base.value(), "pow", "base"), saved_b(exponent.value(), "pow", "exponent"), saved_y(y, "pow", "y");
  return make_result("pow_tensor", y, {base, exponent}, [saved_a, saved_b, saved_y](BackwardContext& ctx) {
    pow_tensor_backward(ctx.grad_input(0), ctx.grad_input(1), ctx.grad_output(), saved_a.get(), saved_b.get(),
                        saved_y.get());
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_arithmetic_gradchecks(GradcheckRegistry& r) {
  auto binary = [&](const std::string& op, auto f, InputDomain right_domain) {
    const std::vector<std::pair<Shape, Shape>> shapes = {
        {{2, 3}, {2, 3}}, {{2, 3}, {3}}, {{4, 1, 3}, {2, 1}}, {{3}, {2, 3}}, {{}, {2, 2}}};
    for (const auto& [sa, sb] : shapes) {
      r.add({op, fmt::format("{} {} (broadcast)", shape_str(sa), shape_str(sb)),
             {normal(sa), InputSpec{sb, right_domain}},
             [f](const std::vector<Var>& v) { return f(v[0], v[1]); }});
    }
  };
  binary("add", [](const Var& a, const Var& b) { return a + b; }, InputDomain::Normal);
  binary("sub", [](const Var& a, const Var& b) { return a - b; }, InputDomain::Normal);
  binary("mul", [](const Var& a, const Var& b) { return a * b; }, InputDomain::Normal);
  binary("div", [](const Var& a, const Var& b) { return a / b; }, InputDomain::Positive);
  // The same variable on both sides: gradients from both paths must add up, not overwrite.
  r.add({"mul", "x * x (one input used twice)", {normal({3, 2})}, [](const std::vector<Var>& v) { return v[0] * v[0]; }});
  r.add({"neg", "[2, 3]", {normal({2, 3})}, [](const std::vector<Var>& v) { return -v[0]; }});
  r.add({"scale", "[2, 3] * 2.5", {normal({2, 3})}, [](const std::vector<Var>& v) { return v[0] * 2.5; }});
  r.add({"add_scalar", "[2, 3] + 1.5", {normal({2, 3})}, [](const std::vector<Var>& v) { return v[0] + 1.5; }});
  r.add({"pow", "[2, 3] ^ 3", {normal({2, 3})}, [](const std::vector<Var>& v) { return pow(v[0], 3.0); }});
  r.add({"pow", "[2, 3] ^ -0.5", {positive({2, 3})}, [](const std::vector<Var>& v) { return pow(v[0], -0.5); }});
  r.add({"pow_tensor", "[2, 3] ^ [3] (broadcast)", {positive({2, 3}), normal({3})},
         [](const std::vector<Var>& v) { return pow(v[0], v[1]); }});
}

}  // namespace stripes::ag
