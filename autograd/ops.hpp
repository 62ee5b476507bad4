// The differentiable primitive ops. Each has a hand-written backward next to its forward in
// autograd/ops/<family>.cpp and is registered with the generic finite-difference checker
// (autograd/gradcheck.hpp). Everything else in the project is composed from these.
//
// Shapes: "any" = any shape; broadcasting follows NumPy.
#pragma once

#include "autograd/variable.hpp"

#include <vector>

namespace stripes::ag {

// ---- arithmetic (ops/arithmetic.cpp) -------------------------------------------------------------
Var add(const Var& a, const Var& b);   // a + b, broadcast
Var sub(const Var& a, const Var& b);   // a - b, broadcast
Var mul(const Var& a, const Var& b);   // a * b, broadcast
Var div(const Var& a, const Var& b);   // a / b, broadcast
Var neg(const Var& x);                 // -x
Var pow(const Var& x, double exponent);        // x^p
Var pow(const Var& base, const Var& exponent); // a^b (a > 0), broadcast
Var scale(const Var& x, double factor);        // factor * x
Var add_scalar(const Var& x, double shift);    // x + shift

inline Var operator+(const Var& a, const Var& b) { return add(a, b); }
inline Var operator-(const Var& a, const Var& b) { return sub(a, b); }
inline Var operator*(const Var& a, const Var& b) { return mul(a, b); }
inline Var operator/(const Var& a, const Var& b) { return div(a, b); }
inline Var operator-(const Var& x) { return neg(x); }
inline Var operator*(const Var& x, double s) { return scale(x, s); }
inline Var operator*(double s, const Var& x) { return scale(x, s); }
inline Var operator/(const Var& x, double s) { return scale(x, 1.0 / s); }
inline Var operator+(const Var& x, double s) { return add_scalar(x, s); }
inline Var operator-(const Var& x, double s) { return add_scalar(x, -s); }
inline Var operator+(double s, const Var& x) { return add_scalar(x, s); }
inline Var operator-(double s, const Var& x) { return add_scalar(neg(x), s); }

// ---- elementwise functions (ops/math_functions.cpp) ----------------------------------------------
Var exp(const Var& x);
Var log(const Var& x);
Var sqrt(const Var& x);
Var sin(const Var& x);
Var cos(const Var& x);
Var tanh(const Var& x);

// ---- activations (ops/activations.cpp) -----------------------------------------------------------
Var sigmoid(const Var& x);
Var softplus(const Var& x);
Var relu(const Var& x);
Var gelu(const Var& x);                 // exact (erf) GELU
Var elu(const Var& x, double alpha = 1.0);

// ---- linear algebra (ops/matmul.cpp) -------------------------------------------------------------
Var matmul(const Var& a, const Var& b);  // [..., m, k] @ [..., k, n], batch dims broadcast

// ---- shape (ops/shape_ops.cpp) -------------------------------------------------------------------
Var reshape(const Var& x, const Shape& shape);
Var permute(const Var& x, const std::vector<int64_t>& order);
Var transpose(const Var& x, int64_t axis_a, int64_t axis_b);
Var slice(const Var& x, int64_t axis, int64_t start, int64_t end, int64_t step = 1);
Var concat(const std::vector<Var>& xs, int64_t axis);
Var unsqueeze(const Var& x, int64_t axis);
// stack(xs, axis): xs of one shape joined along a new axis (composed: concat of unsqueezed);
// stack({a, b}, -1) then a reshape interleaves a and b along the last axis: [a_0, b_0, a_1, b_1, ...]
Var stack(const std::vector<Var>& xs, int64_t axis);
Var squeeze(const Var& x, int64_t axis);

// ---- indexing and selection (ops/indexing.cpp) ---------------------------------------------------
// embedding(weight [V, D], index int64 [...]) -> [..., D]
Var embedding(const Var& weight, const Tensor& index);
// gather(x, axis, index) as in tensor/math.hpp; index int64 with x's rank
Var gather(const Var& x, int64_t axis, const Tensor& index);
// where(mask, a, b): a where mask (uint8) else b; broadcast
Var where(const Tensor& mask, const Var& a, const Var& b);
// masked_fill(x, mask, value): value where mask (uint8, broadcast to x) else x
Var masked_fill(const Var& x, const Tensor& mask, double value);

// ---- reductions (ops/reductions.cpp) -------------------------------------------------------------
Var sum(const Var& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Var mean(const Var& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// max over axes; the gradient is split equally between tied maxima
Var max(const Var& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);

// ---- scans (ops/cumsum.cpp) ----------------------------------------------------------------------
Var cumsum(const Var& x, int64_t axis, bool reverse = false);

// ---- normalisation and probabilities (ops/softmax.cpp, ops/layer_norm.cpp) -----------------------
Var softmax(const Var& x, int64_t axis = -1);
Var log_softmax(const Var& x, int64_t axis = -1);
// layer_norm(x [..., C], weight [C], bias [C]) over the last axis
Var layer_norm(const Var& x, const Var& weight, const Var& bias, double eps = 1e-5);
// The fused CPU layer norm against its composed reference: {fused, composed}, each
// {y, x̂, r, ∂x, ∂w, ∂b} for the output gradient grad_y (tests only).
struct LayerNormComparison {
  std::vector<Tensor> fused, composed;
};
LayerNormComparison compare_layer_norm_fused_with_composed(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                           const Tensor& grad_y, double eps = 1e-5);

// ---- regularisation (ops/dropout.cpp) ------------------------------------------------------------
// Zeroes each element with probability p (mask from `generator`) and scales the rest by 1/(1-p).
// Identity when !training or p == 0.
Var dropout(const Var& x, double p, Generator& generator, bool training = true);

// ---- losses (ops/losses.cpp) ---------------------------------------------------------------------
// mean over all elements of  max(z,0) - z*y + log(1 + e^-|z|)  (logits z, targets y in [0, 1])
Var binary_cross_entropy_with_logits(const Var& logits, const Tensor& targets);
// The fused CPU BCE against its composed reference: {fused, composed}, each {loss, ∂loss/∂logits} (tests only).
struct BceComparison {
  std::vector<Tensor> fused, composed;
};
BceComparison compare_bce_fused_with_composed(const Tensor& logits, const Tensor& targets);
// mean over rows of  -log_softmax(z)[target]  (logits [N, C], targets int64 [N]); rows whose
// target equals ignore_index are skipped
Var cross_entropy(const Var& logits, const Tensor& targets, int64_t ignore_index = -100);

}  // namespace stripes::ag
