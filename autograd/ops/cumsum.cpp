// Prefix sums: the scan behind causal linear attention (S_t = Σ_{s ≤ t} φ(k_s) v_sᵀ).
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- cumsum --------------------------------------------------------------------------------------
// y_t = Σ_{s ≤ t} x_s along `axis`          (reverse: y_t = Σ_{s ≥ t} x_s)
static Tensor cumsum_forward(const Tensor& x, int64_t axis, bool reverse) { return cumsum(x, axis, reverse); }
// ∂L/∂x_s = Σ_{t ≥ s} ∂L/∂y_t: the gradient of a prefix sum is a suffix sum (and vice versa)
static void cumsum_backward(Tensor& grad_x, const Tensor& grad_y, int64_t axis, bool reverse) {
  grad_x.add_(cumsum(grad_y, axis, !reverse));
}
Var cumsum(const Var& x, int64_t axis, bool reverse) {
  return make_result("cumsum", cumsum_forward(x.value(), axis, reverse), {x}, [axis, reverse](BackwardContext& ctx) {
    cumsum_backward(ctx.grad_input(0), ctx.grad_output(), axis, reverse);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_cumsum_gradchecks(GradcheckRegistry& r) {
  r.add({"cumsum", "[6] axis 0", {normal({6})}, [](const std::vector<Var>& v) { return cumsum(v[0], 0); }});
  r.add({"cumsum", "[2, 5, 3] axis 1", {normal({2, 5, 3})}, [](const std::vector<Var>& v) { return cumsum(v[0], 1); }});
  r.add({"cumsum", "[2, 5, 3] axis -1 reverse", {normal({2, 5, 3})},
         [](const std::vector<Var>& v) { return cumsum(v[0], -1, true); }});
  r.add({"cumsum", "[4, 3] axis 0 reverse", {normal({4, 3})}, [](const std::vector<Var>& v) { return cumsum(v[0], 0, true); }});
}

}  // namespace stripes::ag
