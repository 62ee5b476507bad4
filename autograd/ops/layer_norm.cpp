// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016).
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- layer_norm ----------------------------------------------------------------------------------
// μ = mean_c x_c,  σ² = mean_c (x_c - μ)²,  r = 1/√(σ² + ε),  x̂ = (x - μ) r,  y = x̂ ⊙ w + b
// x, y, x̂: [..., C]   w, b: [C]   μ, r: [..., 1]
struct LayerNormSaved {
  Tensor normalized;          // x̂  [..., C]
  Tensor reciprocal_std;      // r  [..., 1]
};
static Tensor layer_norm_forward(LayerNormSaved& saved, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 double eps) {
  const int64_t channels = x.size(-1);
  STRIPES_CHECK(weight.shape() == Shape{channels} && bias.shape() == Shape{channels},
                "layer_norm: input {} needs weight and bias of shape [{}], got {} and {}", x.description(), channels,
                weight.description(), bias.description());
  const Tensor centered = x - mean(x, {-1}, true);
  saved.reciprocal_std = pow(mean(centered * centered, {-1}, true) + eps, -0.5);
  saved.normalized = centered * saved.reciprocal_std;
  return saved.normalized * weight + bias;
}
// ∂L/∂b = Σ ∂L/∂y,  ∂L/∂w = Σ ∂L/∂y ⊙ x̂   (sums over all leading positions)
// ∂L/∂x = r (g - mean_c g - x̂ mean_c(g ⊙ x̂))   with g = ∂L/∂y ⊙ w
static void layer_norm_backward(Tensor& grad_x, Tensor& grad_weight, Tensor& grad_bias, const Tensor& grad_y,
                                const LayerNormSaved& saved, const Tensor& weight) {
  accumulate_grad(grad_bias, grad_y);
  if (grad_weight.defined()) accumulate_grad(grad_weight, grad_y * saved.normalized);
  if (grad_x.defined()) {
    const Tensor g = grad_y * weight;
    const Tensor& x_hat = saved.normalized;
    grad_x.add_(saved.reciprocal_std * (g - mean(g, {-1}, true) - x_hat * mean(g * x_hat, {-1}, true)));
  }
}
Var layer_norm(const Var& x, const Var& weight, const Var& bias, double eps) {
  LayerNormSaved saved;
  Tensor y = layer_norm_forward(saved, x.value(), weight.value(), bias.value(), eps);
  SavedTensor saved_x_hat(saved.normalized, "layer_norm", "normalized"),
      saved_rstd(saved.reciprocal_std, "layer_norm", "reciprocal_std"), saved_weight(weight.value(), "layer_norm", "weight");
  return make_result("layer_norm", y, {x, weight, bias}, [saved_x_hat, saved_rstd, saved_weight](BackwardContext& ctx) {
    const LayerNormSaved s{saved_x_hat.get(), saved_rstd.get()};
    layer_norm_backward(ctx.grad_input(0), ctx.grad_input(1), ctx.grad_input(2), ctx.grad_output(), s, saved_weight.get());
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_layer_norm_gradchecks(GradcheckRegistry& r) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 4}}) {
    const int64_t c = shape.back();
    r.add({"layer_norm", fmt::format("{} with weight and bias [{}]", shape_str(shape), c),
           {normal(shape), normal({c}), normal({c})},
           [](const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); }});
  }
}

}  // namespace stripes::ag
