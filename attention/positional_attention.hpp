// Multi-head attention with any positional encoding and either attention kind — the module that
// plugs into the Transformer's attention slot (nn/attention_slot.hpp).
//
//   q, k, v = x W_qᵀ, x W_kᵀ, x W_vᵀ split into H heads            x: [B, T, d_model]  q, k, v: [B, H, T, D]
//   q̂, k̂ = PE.encode(q, k, positions)                              [B, H, T, d_φ]  (d_φ = PE.feature_dim())
//   linear:  y = linear_attention(φ(q̂), φ(k̂), v)                   φ: favor | trig | elu with M features
//   softmax: y = softmax(q̂ k̂ᵀ/√d_φ + PE bias, causal) v             (exact, O(T²); `stripe` needs it)
//   out = merge_heads(y) W_oᵀ + b_o                                  [B, T, d_model]
//
// Random features: one projection W [d_φ, M/2] per layer, shared by the heads (as fast-transformers
// does), drawn from the layer's own seeded generator. Redraw policy: every training forward
// (fast-transformers' default), every k training forwards (SPE's music runs: 40), or fixed. In
// eval mode the current draw is kept, so evaluation is deterministic.
#pragma once

#include "attention/causal_product.hpp"
#include "attention/feature_maps.hpp"
#include "attention/positional_encoding.hpp"
#include "nn/attention_slot.hpp"
#include "nn/linear.hpp"
#include "tensor/device_copy.hpp"

#include <memory>
#include <string>

namespace stripes::attention {

enum class FeatureRedraw { EveryForward, EveryK, Fixed };
FeatureRedraw parse_feature_redraw(std::string_view name);  // "every-forward" | "every-k" | "fixed"

struct AttentionConfig {
  std::string kind = "linear";          // "linear" | "softmax"
  int64_t model_dim = 512;
  int64_t heads = 4;
  std::string feature_map = "favor";    // favor | trig | elu
  int64_t features = 128;               // M (even)
  bool orthogonal_features = true;
  bool stabilize = true;                // the causal-safe query stabilizer of FAVOR+
  std::string redraw = "every-forward"; // every-forward | every-k | fixed
  int64_t redraw_every = 40;
  double eps = 1e-6;
  std::string causal_algorithm = "auto";    // causal linear attention: "auto" (the device's faster chunked form, docs/performance.md) | "chunked" | "chunked-composed" | "prefix"
  int64_t causal_chunk = 64;                // chunk size of the chunked form
  DType dtype = DType::Float32;
  uint64_t seed = 0;
  PositionalEncodingConfig pe;          // heads, head_dim, model_dim, dtype and seed are filled in
};

class PositionalAttention : public nn::AttentionLayer {
 public:
  PositionalAttention(const AttentionConfig& config, int layer_index);

  ag::Var forward(const ag::Var& x, const nn::AttentionInputs& inputs) override;
  std::string describe() const override;

  PositionalEncoding& positional_encoding() { return *pe_; }
  const AttentionConfig& config() const { return config_; }
  // The current random projection W [d_φ, M/2] (undefined for elu and softmax). Always on the host,
  // whatever the device of the parameters: it is drawn there, recorded and checked there.
  const Tensor& feature_projection() const { return projection_; }
  // φ of encoded queries (query = true) or keys, with the current projection, on their device.
  ag::Var features(const ag::Var& encoded, bool query) const;
  void redraw_features();
  // The generator of the random-feature draws: part of a training run's state (a trainer saves it
  // in checkpoints so that a resumed run draws the same features).
  std::shared_ptr<Generator> feature_generator() const { return feature_generator_; }
  // Training forwards taken so far (the redraw policy counts them). A resumed run sets it to the
  // checkpoint's step count, so that with the restored generator the next training forward draws
  // what the uninterrupted run drew (exact for every-forward and fixed; every-k resumes exactly at
  // multiples of k, where the draw it keeps is not in the checkpoint otherwise).
  int64_t training_forwards() const { return training_forwards_; }
  void set_training_forwards(int64_t count) { training_forwards_ = count; }

 private:
  AttentionConfig config_;
  int64_t head_dim_;
  FeatureMapKind feature_map_;
  FeatureRedraw redraw_;
  CausalAlgorithm causal_algorithm_;
  std::shared_ptr<nn::Linear> q_proj_, k_proj_, v_proj_, out_proj_;
  std::shared_ptr<PositionalEncoding> pe_;
  std::shared_ptr<Generator> feature_generator_;
  Tensor projection_;
  // projection_ on the device of the encoded inputs, when that is not the host. Kept because a
  // host-to-device copy waits for the GPU: with the `fixed` and `every-k` policies W is copied once
  // per draw instead of twice per forward (queries and keys). Cleared at each redraw.
  mutable CachedDeviceCopy projection_on_device_;
  int64_t training_forwards_ = 0;
};

// An nn::AttentionFactory building PositionalAttention with `config` for every layer.
nn::AttentionFactory make_attention_factory(const AttentionConfig& config);

}  // namespace stripes::attention
