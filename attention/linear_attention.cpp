#include "attention/linear_attention.hpp"

#include "attention/causal_product.hpp"
#include "autograd/recorder.hpp"
#include "nn/softmax_attention.hpp"

#include <cmath>

namespace stripes::attention {

namespace {
void check_attention_shapes(const char* op, const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, bool causal) {
  STRIPES_CHECK(phi_q.dim() >= 2 && phi_k.dim() == phi_q.dim() && v.dim() == phi_q.dim(),
                "{}: phi_q {}, phi_k {} and v {} must all be [..., T, ·]", op, phi_q.value().description(),
                phi_k.value().description(), v.value().description());
  STRIPES_CHECK(phi_q.size(-1) == phi_k.size(-1), "{}: feature dims differ: phi_q {} vs phi_k {}", op,
                shape_str(phi_q.shape()), shape_str(phi_k.shape()));
  STRIPES_CHECK(phi_k.size(-2) == v.size(-2), "{}: phi_k {} and v {} have different lengths", op,
                shape_str(phi_k.shape()), shape_str(v.shape()));
  STRIPES_CHECK(!causal || phi_q.size(-2) == phi_k.size(-2), "{}: causal attention needs as many keys as queries, got {} and {}",
                op, phi_q.size(-2), phi_k.size(-2));
}
}  // namespace

ag::Var linear_attention(const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, bool causal, double eps,
                         const std::string* record_scope) {
  check_attention_shapes("linear_attention", phi_q, phi_k, v, causal);
  const int64_t dv = v.size(-1);
  if (causal) {
    // [v, 1]: the last output column is the normalizer φ(q_m)ᵀ z_m
    Shape ones_shape = v.shape();
    ones_shape.back() = 1;
    const ag::Var values_and_ones = ag::concat({v, ag::Var(Tensor::ones(ones_shape, v.dtype(), v.value().device()))}, -1);
    const ag::Var numerator_and_normalizer = causal_product(phi_q, phi_k, values_and_ones);
    const ag::Var numerator = ag::slice(numerator_and_normalizer, -1, 0, dv);
    const ag::Var normalizer = ag::slice(numerator_and_normalizer, -1, dv, dv + 1);
    if (record_scope) ag::record(*record_scope, "normalizer", normalizer, "causal_product", "φ(q_m)ᵀ z_m [B, H, T, 1]");
    return numerator / (normalizer + eps);
  }
  // S = φ(K)ᵀ V  [M, Dv],  z = Σ_n φ(k_n)  [M]
  const ag::Var state = ag::matmul(ag::transpose(phi_k, -1, -2), v);
  const ag::Var key_sum = ag::sum(phi_k, {-2}, true);                                  // [..., 1, M]
  const ag::Var normalizer = ag::sum(phi_q * key_sum, {-1}, true);                     // [..., T, 1]
  if (record_scope) ag::record(*record_scope, "normalizer", normalizer, "sum", "φ(q_m)ᵀ z [B, H, T, 1]");
  return ag::matmul(phi_q, state) / (normalizer + eps);
}

ag::Var linear_attention_reference(const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, bool causal,
                                   double eps) {
  check_attention_shapes("linear_attention_reference", phi_q, phi_k, v, causal);
  ag::Var kernel = ag::matmul(phi_q, ag::transpose(phi_k, -1, -2));                  // A = φ(Q)φ(K)ᵀ  [..., T, S]
  if (causal) kernel = ag::masked_fill(kernel, nn::causal_mask(phi_q.size(-2)), 0.0);
  return ag::matmul(kernel, v) / (ag::sum(kernel, {-1}, true) + eps);
}

Tensor linear_attention_weights(const Tensor& phi_q, const Tensor& phi_k, bool causal, double eps) {
  Tensor kernel = matmul(phi_q, phi_k.transpose(-1, -2));
  if (causal) kernel = where(nn::causal_mask(phi_q.size(-2)), Tensor::scalar(0.0, kernel.dtype()), kernel);
  return kernel / (sum(kernel, {-1}, true) + eps);
}

ag::Var softmax_attention(const ag::Var& q, const ag::Var& k, const ag::Var& v, bool causal, const ag::Var& bias) {
  STRIPES_CHECK(q.size(-1) == k.size(-1) && k.size(-2) == v.size(-2),
                "softmax_attention: q {}, k {}, v {} do not fit [..., T, D], [..., S, D], [..., S, Dv]",
                q.value().description(), k.value().description(), v.value().description());
  ag::Var scores = ag::matmul(q, ag::transpose(k, -1, -2)) * (1.0 / std::sqrt(double(q.size(-1))));
  if (bias.defined()) scores = scores + bias;
  if (causal) {
    // −∞ on future positions; every row keeps at least its diagonal, so no row is all −∞.
    scores = ag::masked_fill(scores, nn::causal_mask(q.size(-2)), -std::numeric_limits<double>::infinity());
  }
  return ag::matmul(ag::softmax(scores, -1), v);
}


}  // namespace stripes::attention
