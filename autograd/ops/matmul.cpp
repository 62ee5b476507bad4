// Batched matrix product.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- matmul --------------------------------------------------------------------------------------
// C = A B                  A: [..., m, k]  B: [..., k, n]  C: [..., m, n]  (batch dims broadcast)
static Tensor matmul_forward(const Tensor& a, const Tensor& b) { return matmul(a, b); }
// ∂L/∂A = ∂L/∂C Bᵀ,  ∂L/∂B = Aᵀ ∂L/∂C   (summed over broadcast batch dims)
static void matmul_backward(GradTarget grad_a, GradTarget grad_b, const Tensor& grad_c, const Tensor& a, const Tensor& b) {
  if (grad_a.defined()) grad_a += matmul(grad_c, b.transpose(-1, -2));
  if (grad_b.defined()) grad_b += matmul(a.transpose(-1, -2), grad_c);
}
Var matmul(const Var& a, const Var& b) {
  SavedTensor saved_a = b.requires_grad() ? SavedTensor(a.value(), "matmul", "a") : SavedTensor();
  SavedTensor saved_b = a.requires_grad() ? SavedTensor(b.value(), "matmul", "b") : SavedTensor();
  return make_result("matmul", matmul_forward(a.value(), b.value()), {a, b}, [saved_a, saved_b](BackwardContext& ctx) {
    const GradTarget grad_a = ctx.grad_target(0), grad_b = ctx.grad_target(1);
    matmul_backward(grad_a, grad_b, ctx.grad_output(), grad_b.defined() ? saved_a.get() : Tensor(),
                    grad_a.defined() ? saved_b.get() : Tensor());
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_matmul_gradchecks(GradcheckRegistry& r) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {4, 2}}, {{2, 3, 4}, {2, 4, 5}}, {{2, 3, 4}, {4, 5}}, {{2, 1, 3, 2}, {3, 2, 4}}};
  for (const auto& [sa, sb] : shapes) {
    r.add({"matmul", fmt::format("{} @ {}", shape_str(sa), shape_str(sb)), {normal(sa), normal(sb)},
           [](const std::vector<Var>& v) { return matmul(v[0], v[1]); }});
  }
  // A transposed view as the right operand (read in place as a column-major matrix).
  r.add({"matmul", "[3, 4] @ [2, 4]^T (transposed view)", {normal({3, 4}), normal({2, 4})},
         [](const std::vector<Var>& v) { return matmul(v[0], transpose(v[1], 0, 1)); }});
}

}  // namespace stripes::ag
