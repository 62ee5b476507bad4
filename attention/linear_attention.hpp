// Kernelized (linear) attention, method.md §1.2, and the quadratic softmax baseline.
//
// Given features φ(q_m), φ(k_n) ∈ R^M and values v_n ∈ R^Dv:
//   causal:      y_m = φ(q_m)ᵀ S_m / (φ(q_m)ᵀ z_m + ε),  S_m = Σ_{n≤m} φ(k_n) v_nᵀ,  z_m = Σ_{n≤m} φ(k_n)
//   non-causal:  the same with the sums over all n
// ε = 1e-6 as in fast-transformers.
//
// Two implementations, tested against each other to float64 precision:
//  - linear_attention: O(T·M·Dv). Causal: one causal product (attention/causal_product.hpp) on the
//    values with a column of ones appended, which yields numerator and normalizer z together:
//    [φ(q)ᵀS_m, φ(q)ᵀz_m] = causal_product(φ(Q), φ(K), [V, 1])_m.
//  - linear_attention_reference: O(T²). Materializes the kernel matrix A = φ(Q)φ(K)ᵀ (masked when
//    causal) and returns A V / (A 1 + ε) — the readable definition.
#pragma once

#include "attention/causal_product.hpp"
#include "autograd/ops.hpp"

#include <string_view>

namespace stripes::attention {

constexpr double kLinearAttentionEpsilon = 1e-6;

// phi_q: [..., T, M]  phi_k: [..., S, M]  v: [..., S, Dv]  ->  [..., T, Dv]   (causal needs S = T)
// With `record_scope` (a module's full name, "" for a root module) the normalizer φ(q_m)ᵀz_m is
// handed to the recorder as <scope>.normalizer. `algorithm` picks the causal product's
// implementation (prefix sum or chunked, causal_product.hpp); both compute the same function.
ag::Var linear_attention(const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, bool causal,
                         double eps = kLinearAttentionEpsilon, const std::string* record_scope = nullptr,
                         CausalAlgorithm algorithm = CausalAlgorithm::Prefix, int64_t chunk = kDefaultCausalChunk);
ag::Var linear_attention_reference(const ag::Var& phi_q, const ag::Var& phi_k, const ag::Var& v, bool causal,
                                   double eps = kLinearAttentionEpsilon);

// The materialized (T×S) normalized kernel matrix A_mn / Σ_n A_mn of linear attention, for
// inspection (`stripes kernel`) and tests.
Tensor linear_attention_weights(const Tensor& phi_q, const Tensor& phi_k, bool causal, double eps = kLinearAttentionEpsilon);

// Softmax attention, the quadratic baseline:  y = softmax(q kᵀ/√D + bias, masked causally) v
// q: [..., T, D]  k: [..., S, D]  v: [..., S, Dv]  bias: undefined or broadcastable to [..., T, S]
ag::Var softmax_attention(const ag::Var& q, const ag::Var& k, const ag::Var& v, bool causal,
                          const ag::Var& bias = ag::Var());

}  // namespace stripes::attention
