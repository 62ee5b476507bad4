// The Transformer encoder: layers with a pluggable attention, their stack, and the input/output
// projections around it (the paper's model is this with an input Linear 256 -> 512, 2 layers of
// 4 heads, and an output Linear 512 -> 384; method.md §4.4).
//
// One encoder layer, x: [B, T, D]:
//   post-LN (StrIPE, the default):  x = norm1(x + dropout1(attn(x)));  x = norm2(x + dropout2(ff(x)))
//   pre-LN:                         x = x + dropout1(attn(norm1(x)));  x = x + dropout2(ff(norm2(x)))
//
// The stack, TransformerEncoder, names its parts so that parameters read
//   input_proj.weight | embedding.weight, position_embedding.weight,
//   layers.<i>.attn.<...>, layers.<i>.norm1.weight, layers.<i>.ff.linear1.weight, ...,
//   final_norm.weight, output_proj.weight
// and computes, for features x [B, T, input_dim] (or tokens int64 [B, T]):
//   h = input_proj(x) | embedding(tokens)       h: [B, T, D]
//   h = h + P[:T]   (sinusoidal or learned absolute positions, optional)
//   h = dropout(h);  h = layer_{L-1}(... layer_0(h));  h = final_norm(h) (optional)
//   y = output_proj(h)                          y: [B, T, output_dim] (or h when output_dim = 0)
// Records "embedded" (h before the layers) and "output" (y); each layer records "attn_residual"
// (x after the attention sub-block) and "out".
#pragma once

#include "nn/attention_slot.hpp"
#include "nn/dropout.hpp"
#include "nn/embedding.hpp"
#include "nn/feed_forward.hpp"
#include "nn/linear.hpp"
#include "nn/normalization.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace stripes::nn {

enum class InputKind { Features, Tokens, Identity };   // Linear projection | Embedding | none (x is [B, T, D])
enum class PositionalKind { None, Sinusoidal, Learned };

struct TransformerConfig {
  InputKind input = InputKind::Features;
  int64_t input_dim = 0;         // features: width of x; tokens: vocabulary size; identity: unused
  PositionalKind positional = PositionalKind::None;
  int64_t max_length = 0;        // learned positions: table size
  int64_t d_model = 64;
  int64_t num_heads = 4;
  int64_t d_ff = 256;
  int64_t num_layers = 2;
  double dropout = 0.1;          // after the input, the attention and the feed-forward blocks, inside ff
  double attention_dropout = 0;  // on the attention weights (softmax attention)
  Activation activation = Activation::ReLU;
  bool pre_norm = false;         // false: post-LN (StrIPE); true: pre-LN
  bool final_norm = false;       // a LayerNorm after the last layer (usual with pre-LN)
  double layer_norm_eps = 1e-5;
  int64_t output_dim = 0;        // 0: no output projection
  DType dtype = DType::Float32;

  void validate() const;         // throws naming the field
};
void to_json(nlohmann::json& json, const TransformerConfig& config);
void from_json(const nlohmann::json& json, TransformerConfig& config);  // unknown keys are an error

// A list of modules named "0", "1", ... (so that their parameters read "layers.0.attn...").
class ModuleList : public Module {
 public:
  template <typename M>
  std::shared_ptr<M> append(std::shared_ptr<M> module) {
    return register_module(std::to_string(size_++), std::move(module));
  }
  int64_t size() const { return size_; }
  std::string describe() const override { return fmt::format("ModuleList({})", size_); }

 private:
  int64_t size_ = 0;
};

class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(const TransformerConfig& config, std::shared_ptr<AttentionLayer> attention, Generator& init,
                          std::shared_ptr<Generator> dropout_generator);

  ag::Var forward(const ag::Var& x, const AttentionInputs& inputs);  // [B, T, D] -> [B, T, D]
  std::string describe() const override;
  AttentionLayer& attention() { return *attn_; }

 private:
  int64_t d_model_;
  bool pre_norm_;
  std::shared_ptr<AttentionLayer> attn_;
  std::shared_ptr<Dropout> dropout1_, dropout2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_;
  std::shared_ptr<FeedForward> ff_;
};

// The baseline attention for every layer: causal softmax multi-head attention with the config's
// d_model, num_heads and attention_dropout. `init` must outlive the encoder's construction.
AttentionFactory softmax_attention_factory(const TransformerConfig& config, Generator& init,
                                           std::shared_ptr<Generator> dropout_generator);

class TransformerEncoder : public Module {
 public:
  // Parameters are drawn from `init` in registration order; dropout masks from `dropout_generator`
  // (may be null when every dropout probability is 0).
  TransformerEncoder(const TransformerConfig& config, const AttentionFactory& attention, Generator& init,
                     std::shared_ptr<Generator> dropout_generator);

  // x: [B, T, input_dim] (Features) or [B, T, d_model] (Identity) -> [B, T, output_dim or d_model]
  ag::Var forward(const ag::Var& x, const AttentionInputs& inputs = {});
  // tokens: int64 [B, T] (Tokens) -> [B, T, output_dim or d_model]
  ag::Var forward_tokens(const Tensor& tokens, const AttentionInputs& inputs = {});
  std::string describe() const override;

  const TransformerConfig& config() const { return config_; }
  int64_t num_layers() const { return int64_t(layers_.size()); }
  TransformerEncoderLayer& layer(int64_t index) { return *layers_.at(size_t(index)); }

 private:
  ag::Var encode(ag::Var hidden, const AttentionInputs& inputs);

  TransformerConfig config_;
  std::shared_ptr<Linear> input_proj_;
  std::shared_ptr<Embedding> embedding_, position_embedding_;
  std::shared_ptr<Dropout> input_dropout_;
  std::shared_ptr<ModuleList> layer_list_;
  std::vector<std::shared_ptr<TransformerEncoderLayer>> layers_;
  std::shared_ptr<LayerNorm> final_norm_;
  std::shared_ptr<Linear> output_proj_;
};

}  // namespace stripes::nn
