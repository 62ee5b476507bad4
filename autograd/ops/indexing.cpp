// Selection by integer indices and by masks: embedding, gather, where, masked_fill.
// Index and mask tensors are data, not variables: they receive no gradient.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- embedding -----------------------------------------------------------------------------------
// y[..., :] = W[index[...], :]          W: [V, D]  index: int64 [...]  y: [..., D]
static Tensor embedding_forward(const Tensor& weight, const Tensor& index) {
  STRIPES_CHECK(weight.dim() == 2, "embedding: weight must be [V, D], got {}", weight.description());
  return index_select(weight, 0, index);
}
// ∂L/∂W[v, :] = Σ over positions p with index[p] = v of ∂L/∂y[p, :]
static void embedding_backward(Tensor& grad_weight, const Tensor& grad_y, const Tensor& index) {
  index_add_(grad_weight, 0, index.reshape({-1}), grad_y.reshape({-1, grad_weight.size(1)}));
}
Var embedding(const Var& weight, const Tensor& index) {
  return make_result("embedding", embedding_forward(weight.value(), index), {weight}, [index](BackwardContext& ctx) {
    embedding_backward(ctx.grad_input(0), ctx.grad_output(), index);
  });
}

// ---- gather --------------------------------------------------------------------------------------
// y[i][j][k] = x[i][index[i][j][k]][k]   (axis = 1; likewise for any axis)
static Tensor gather_forward(const Tensor& x, int64_t axis, const Tensor& index) { return gather(x, axis, index); }
// ∂L/∂x[i][index[i][j][k]][k] += ∂L/∂y[i][j][k]
static void gather_backward(Tensor& grad_x, const Tensor& grad_y, int64_t axis, const Tensor& index) {
  scatter_add_(grad_x, axis, index, grad_y);
}
Var gather(const Var& x, int64_t axis, const Tensor& index) {
  return make_result("gather", gather_forward(x.value(), axis, index), {x}, [axis, index](BackwardContext& ctx) {
    gather_backward(ctx.grad_input(0), ctx.grad_output(), axis, index);
  });
}

// ---- where ---------------------------------------------------------------------------------------
// y = a where mask else b               mask: uint8, all three broadcast
static Tensor where_forward(const Tensor& mask, const Tensor& a, const Tensor& b) { return where(mask, a, b); }
// ∂y/∂a = mask, ∂y/∂b = 1 - mask
static void where_backward(Tensor& grad_a, Tensor& grad_b, const Tensor& grad_y, const Tensor& mask) {
  const Tensor zero = Tensor::scalar(0.0, grad_y.dtype());
  if (grad_a.defined()) accumulate_grad(grad_a, where(mask, grad_y, zero));
  if (grad_b.defined()) accumulate_grad(grad_b, where(mask, zero, grad_y));
}
Var where(const Tensor& mask, const Var& a, const Var& b) {
  return make_result("where", where_forward(mask, a.value(), b.value()), {a, b}, [mask](BackwardContext& ctx) {
    where_backward(ctx.grad_input(0), ctx.grad_input(1), ctx.grad_output(), mask);
  });
}

// ---- masked_fill ---------------------------------------------------------------------------------
// y = value where mask else x           mask: uint8 broadcast to x
static Tensor masked_fill_forward(const Tensor& x, const Tensor& mask, double value) {
  STRIPES_CHECK(broadcast_shapes("masked_fill", mask.shape(), x.shape()) == x.shape(),
                "masked_fill: mask {} does not broadcast to {}", mask.description(), x.description());
  return where(mask, Tensor::scalar(value, x.dtype()), x);
}
// ∂y/∂x = 1 - mask
static void masked_fill_backward(Tensor& grad_x, const Tensor& grad_y, const Tensor& mask) {
  grad_x.add_(where(mask, Tensor::scalar(0.0, grad_y.dtype()), grad_y));
}
Var masked_fill(const Var& x, const Tensor& mask, double value) {
  return make_result("masked_fill", masked_fill_forward(x.value(), mask, value), {x}, [mask](BackwardContext& ctx) {
    masked_fill_backward(ctx.grad_input(0), ctx.grad_output(), mask);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_indexing_gradchecks(GradcheckRegistry& r) {
  // Repeated indices must accumulate: 12 lookups into 5 rows.
  r.add({"embedding", "W [5, 3], index [3, 4] (repeats)", {normal({5, 3}), indices({3, 4}, 5)},
         [](const std::vector<Var>& v) { return embedding(v[0], v[1].value()); }});
  r.add({"gather", "[3, 4] axis 1, index [3, 6]", {normal({3, 4}), indices({3, 6}, 4)},
         [](const std::vector<Var>& v) { return gather(v[0], 1, v[1].value()); }});
  r.add({"gather", "[4, 2, 3] axis 0, index [2, 2, 3]", {normal({4, 2, 3}), indices({2, 2, 3}, 4)},
         [](const std::vector<Var>& v) { return gather(v[0], 0, v[1].value()); }});
  r.add({"where", "mask [2, 3], a [2, 3], b [3] (broadcast)", {mask({2, 3}), normal({2, 3}), normal({3})},
         [](const std::vector<Var>& v) { return where(v[0].value(), v[1], v[2]); }});
  r.add({"masked_fill", "[3, 4] with mask [4] (broadcast)", {normal({3, 4}), mask({4})},
         [](const std::vector<Var>& v) { return masked_fill(v[0], v[1].value(), -3.0); }});
}

}  // namespace stripes::ag
