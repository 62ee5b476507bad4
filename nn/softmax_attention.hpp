// Multi-head softmax attention (Vaswani et al. 2017), causal by default: the baseline that the
// kernelized attentions of attention/ replace in the same slot (nn/attention_slot.hpp).
//
//   q = x W_qᵀ + b_q,  k = x W_kᵀ + b_k,  v = x W_vᵀ + b_v      x: [B, T, D]   W_*: [D, D]
//   split into H heads:                                          q, k, v: [B, H, T, Dh], Dh = D/H
//   s = q kᵀ / √Dh                                               s: [B, H, T, T]
//   a = softmax(s + mask),  mask[t, u] = −∞ for u > t (causal)   a: [B, H, T, T]
//   c = dropout(a) v                                             c: [B, H, T, Dh]
//   y = merge_heads(c) W_oᵀ + b_o                                y: [B, T, D]
//
// Children q_proj, k_proj, v_proj, out_proj (Linear D -> D with bias), attn_dropout. Ignores
// AttentionInputs::positions (no positional encoding inside: NoPE, or APE added at the input).
// Records q, k, v (after the head split), scores (s, before the mask), weights (a), context
// (merged heads, before out_proj) and out (y). The causal mask is exact: −∞, not a large
// negative number, so a query never sees a future key however large the scores.
#pragma once

#include "nn/attention_slot.hpp"
#include "nn/dropout.hpp"
#include "nn/linear.hpp"

#include <memory>

namespace stripes::nn {

class SoftmaxAttention : public AttentionLayer {
 public:
  SoftmaxAttention(int64_t d_model, int64_t num_heads, double attention_dropout, Generator& init,
                   std::shared_ptr<Generator> dropout_generator, DType dtype = DType::Float32);

  ag::Var forward(const ag::Var& x, const AttentionInputs& inputs) override;
  std::string describe() const override;

 private:
  int64_t d_model_, num_heads_, head_dim_;
  std::shared_ptr<Linear> q_proj_, k_proj_, v_proj_, out_proj_;
  std::shared_ptr<Dropout> attn_dropout_;
};

// uint8 [T, T] with 1 where the key index is after the query index (u > t): the entries to hide.
// Built on the host and copied to `device` (the device of the scores it masks).
Tensor causal_mask(int64_t length, Device device = Device::CPU);

// [B, T, H·Dh] -> [B, H, T, Dh] and back.
ag::Var split_heads(const ag::Var& x, int64_t num_heads);
ag::Var merge_heads(const ag::Var& x);

}  // namespace stripes::nn
