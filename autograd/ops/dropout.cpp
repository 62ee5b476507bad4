// Dropout (Srivastava et al. 2014), inverted: scale at training time so eval is the identity.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- dropout -------------------------------------------------------------------------------------
// m_i ~ Bernoulli(1 - p) / (1 - p) from the seeded generator,  y = x ⊙ m      x, y, m: [any]
static Tensor dropout_forward(Tensor& mask, const Tensor& x, double p, Generator& generator) {
  STRIPES_CHECK(p >= 0.0 && p < 1.0, "dropout: probability {} is outside [0, 1)", p);
  mask = Tensor::bernoulli(x.shape(), 1.0 - p, generator, x.dtype(), x.device()) * (1.0 / (1.0 - p));
  return x * mask;
}
// ∂y/∂x = m
static void dropout_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& mask) { grad_x.add_(grad_y * mask); }
Var dropout(const Var& x, double p, Generator& generator, bool training) {
  if (!training || p == 0.0) return x;
  Tensor mask;
  Tensor y = dropout_forward(mask, x.value(), p, generator);
  return make_result("dropout", y, {x}, [mask](BackwardContext& ctx) {
    dropout_backward(ctx.grad_input(0), ctx.grad_output(), mask);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_dropout_gradchecks(GradcheckRegistry& r) {
  // The generator is re-seeded inside the function, so every evaluation draws the same mask.
  r.add({"dropout", "[4, 5] p = 0.3 (fixed mask)", {normal({4, 5})}, [](const std::vector<Var>& v) {
           Generator generator(1234);
           return dropout(v[0], 0.3, generator);
         }});
}

}  // namespace stripes::ag
