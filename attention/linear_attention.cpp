#include "attention/linear_attention.hpp"

#include "attention/causal_product.hpp"
#include "autograd/recorder.hpp"
#include "nn/softmax_attention.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/parallel.hpp"

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

// ---- causal linear attention as one op --------------------------------------------------------------
// y = num / (den + ε),  [num, den] = causal_product(φq, φk, c),  c = [v, 1]
//   φq, φk: [..., T, M]   v: [..., T, Dv]   c: [..., T, Dv+1]   y: [..., T, Dv]   den: [..., T]
// Backward, with g = ∂L/∂y and G = ∂L/∂[num, den]  [..., T, Dv+1]:
//   G[:, :Dv] = g / (den + ε),   G[:, Dv] = −Σ_i g_i y_i / (den + ε)       (one pass)
//   ∂φq += causal(G, c, φk),  ∂φk += reverse_causal(c, G, φq),  ∂v += reverse_causal(φk, φq, G[:, :Dv])
// The concat, the two slices, the division and their backward ops of the composed form become two
// elementwise passes; the products run in place into the gradient buffers (chunked algorithm).
namespace {

ag::Var causal_linear_attention(const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, double eps,
                                CausalAlgorithm algorithm, int64_t chunk) {
  const int64_t dv = v.size(-1), steps = v.size(-2);
  const int64_t rows = v.numel() / std::max<int64_t>(dv, 1);
  Shape c_shape = v.shape();
  c_shape.back() = dv + 1;
  Tensor values_and_ones = Tensor::empty(c_shape, v.dtype());
  values_and_ones.slice(-1, 0, dv).copy_(v.value());
  values_and_ones.slice(-1, dv, dv + 1).fill_(1.0);
  Tensor product = causal_product_forward(phi_q.value(), phi_k.value(), values_and_ones, false, algorithm, chunk);
  Tensor y = Tensor::empty(v.shape(), v.dtype());
  Shape den_shape(v.shape().begin(), v.shape().end() - 1);
  Tensor den = Tensor::empty(den_shape, v.dtype());  // den + ε
  dispatch_floating(v.dtype(), "linear_attention", [&]<typename T>() {
    const T* p = product.data<T>();
    T* py = y.mutable_data<T>();
    T* pd = den.mutable_data<T>();
    parallel_for(rows, grain_for(dv), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T d = p[r * (dv + 1) + dv] + T(eps);
        pd[r] = d;
        for (int64_t i = 0; i < dv; ++i) py[r * dv + i] = p[r * (dv + 1) + i] / d;  // y = num / (den + ε)
      }
    });
  });
  product = Tensor();  // not needed for backward
  ag::SavedTensor saved_q(phi_q.value(), "linear_attention", "phi_q"), saved_k(phi_k.value(), "linear_attention", "phi_k");
  ag::SavedTensor saved_y(y, "linear_attention", "y");
  (void)steps;
  return ag::make_result(
      "linear_attention", y, {phi_q, phi_k, v},
      [saved_q, saved_k, saved_y, values_and_ones, den, dv, rows, algorithm, chunk](ag::BackwardContext& ctx) {
        const Tensor g = ctx.grad_output().contiguous();
        const Tensor& y_value = saved_y.get();
        Tensor grad_product = Tensor::empty(values_and_ones.shape(), g.dtype());
        dispatch_floating(g.dtype(), "linear_attention", [&]<typename T>() {
          const T* pg = g.data<T>();
          const T* py = y_value.data<T>();
          const T* pd = den.data<T>();
          T* out = grad_product.mutable_data<T>();
          parallel_for(rows, grain_for(dv), [&](int64_t begin, int64_t end) {
            for (int64_t r = begin; r < end; ++r) {
              const T inverse = T(1) / pd[r];
              T dot = 0;
              for (int64_t i = 0; i < dv; ++i) {
                out[r * (dv + 1) + i] = pg[r * dv + i] * inverse;  // ∂num = g / (den + ε)
                dot += pg[r * dv + i] * py[r * dv + i];
              }
              out[r * (dv + 1) + dv] = -dot * inverse;             // ∂den = −Σ g y / (den + ε)
            }
          });
        });
        const Tensor& phi_q = saved_q.get();
        const Tensor& phi_k = saved_k.get();
        // ∂φq_t = Σ_{n≤t} (G_t · c_n) φk_n
        if (Tensor& grad_q = ctx.grad_input(0); grad_q.defined())
          causal_product_accumulate(grad_q, grad_product, values_and_ones, phi_k, false, algorithm, chunk);
        // ∂φk_n = Σ_{t≥n} (c_n · G_t) φq_t
        if (Tensor& grad_k = ctx.grad_input(1); grad_k.defined())
          causal_product_accumulate(grad_k, values_and_ones, grad_product, phi_q, true, algorithm, chunk);
        // ∂v_n = Σ_{t≥n} (φk_n · φq_t) G_t[:Dv]
        if (Tensor& grad_v = ctx.grad_input(2); grad_v.defined())
          causal_product_accumulate(grad_v, phi_k, phi_q, grad_product.slice(-1, 0, dv), true, algorithm, chunk);
      });
}

}  // namespace

ag::Var linear_attention(const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, bool causal, double eps,
                         const std::string* record_scope, CausalAlgorithm algorithm, int64_t chunk) {
  check_attention_shapes("linear_attention", phi_q, phi_k, v, causal);
  const int64_t dv = v.size(-1);
  const bool cpu = phi_q.value().device() == Device::CPU && phi_k.value().device() == Device::CPU &&
                   v.value().device() == Device::CPU;
  if (causal && cpu && !record_scope) {
    require_same_dtype("linear_attention", phi_q.value(), v.value());
    return causal_linear_attention(phi_q, phi_k, v, eps, algorithm, chunk);
  }
  if (causal) {
    // The composed form (CUDA tensors, and dumps, which record the normalizer with its gradient).
    // [v, 1]: the last output column is the normalizer φ(q_m)ᵀ z_m
    Shape ones_shape = v.shape();
    ones_shape.back() = 1;
    const ag::Var values_and_ones = ag::concat({v, ag::Var(Tensor::ones(ones_shape, v.dtype(), v.value().device()))}, -1);
    const ag::Var numerator_and_normalizer = causal_product(phi_q, phi_k, values_and_ones, false, algorithm, chunk);
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
  if (causal) kernel = ag::masked_fill(kernel, nn::causal_mask(phi_q.size(-2), kernel.value().device()), 0.0);
  return ag::matmul(kernel, v) / (ag::sum(kernel, {-1}, true) + eps);
}

Tensor linear_attention_weights(const Tensor& phi_q, const Tensor& phi_k, bool causal, double eps) {
  Tensor kernel = matmul(phi_q, phi_k.transpose(-1, -2));
  if (causal) kernel = where(nn::causal_mask(phi_q.size(-2), kernel.device()), Tensor::scalar(0.0, kernel.dtype()), kernel);
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
    scores = ag::masked_fill(scores, nn::causal_mask(q.size(-2), scores.value().device()), -std::numeric_limits<double>::infinity());
  }
  return ag::matmul(ag::softmax(scores, -1), v);
}


}  // namespace stripes::attention
