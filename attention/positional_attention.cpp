#include "attention/positional_attention.hpp"

#include "attention/linear_attention.hpp"
#include "nn/softmax_attention.hpp"
#include "tensor/profile.hpp"

#include <cmath>

namespace stripes::attention {

FeatureRedraw parse_feature_redraw(std::string_view name) {
  if (name == "every-forward") return FeatureRedraw::EveryForward;
  if (name == "every-k") return FeatureRedraw::EveryK;
  if (name == "fixed") return FeatureRedraw::Fixed;
  throw_error("unknown feature redraw policy '{}' (expected every-forward, every-k or fixed)", name);
}

PositionalAttention::PositionalAttention(const AttentionConfig& config, int layer_index)
    : config_(config),
      feature_map_(parse_feature_map(config.feature_map)),
      redraw_(parse_feature_redraw(config.redraw)),
      causal_algorithm_(parse_causal_algorithm(config.causal_algorithm)),
      feature_generator_(std::make_shared<Generator>(config.seed * 1000003ull + uint64_t(layer_index) + 1)) {
  STRIPES_CHECK(config.kind == "linear" || config.kind == "softmax", "attention: unknown kind '{}' (expected linear or softmax)",
                config.kind);
  STRIPES_CHECK(config.heads > 0 && config.model_dim % config.heads == 0,
                "attention: model dimension {} is not divisible by {} heads", config.model_dim, config.heads);
  STRIPES_CHECK(config.features > 0 && config.features % 2 == 0, "attention: the number of random features M = {} must be even and positive",
                config.features);
  STRIPES_CHECK(config.causal_chunk > 0, "attention: causal_chunk must be positive, got {}", config.causal_chunk);
  STRIPES_CHECK(config.redraw_every > 0, "attention: redraw_every must be positive, got {}", config.redraw_every);
  head_dim_ = config.model_dim / config.heads;
  Generator init(config.seed * 7919ull + uint64_t(layer_index));
  q_proj_ = register_module("q_proj", std::make_shared<nn::Linear>(config.model_dim, config.model_dim, init, true, config.dtype));
  k_proj_ = register_module("k_proj", std::make_shared<nn::Linear>(config.model_dim, config.model_dim, init, true, config.dtype));
  v_proj_ = register_module("v_proj", std::make_shared<nn::Linear>(config.model_dim, config.model_dim, init, true, config.dtype));
  out_proj_ = register_module("out_proj", std::make_shared<nn::Linear>(config.model_dim, config.model_dim, init, true, config.dtype));
  PositionalEncodingConfig pe_config = config.pe;
  pe_config.heads = config.heads;
  pe_config.head_dim = head_dim_;
  pe_config.model_dim = config.model_dim;
  pe_config.dtype = config.dtype;
  pe_config.seed = config.seed * 31ull + uint64_t(layer_index);
  pe_ = register_module("pe", make_positional_encoding(pe_config));
  STRIPES_CHECK(!pe_->uses_score_bias() || config.kind == "softmax",
                "attention: positional encoding '{}' is exact O(T²) attention; use the softmax attention kind",
                pe_->pe_name());
  if (config.kind == "linear") redraw_features();
}

void PositionalAttention::redraw_features() {
  if (feature_map_ == FeatureMapKind::Elu) return;
  // Drawn on the host whatever the device of the layer, so that every device sees the same draws.
  projection_ = draw_random_projection(pe_->feature_dim(), config_.features / 2, *feature_generator_, config_.dtype,
                                       config_.orthogonal_features);
  projection_on_device_.clear();
}

ag::Var PositionalAttention::features(const ag::Var& encoded, bool query) const {
  switch (feature_map_) {
    case FeatureMapKind::Favor:
      return favor_features(encoded, projection_on_device_.get(projection_, encoded.value().device()), query && config_.stabilize);
    case FeatureMapKind::Trig: return trig_features(encoded, projection_on_device_.get(projection_, encoded.value().device()));
    case FeatureMapKind::Elu: return elu_features(encoded);
  }
  throw_error("attention: unknown feature map");
}

ag::Var PositionalAttention::forward(const ag::Var& x, const nn::AttentionInputs& inputs) {
  if (x.dim() != 3 || x.size(-1) != config_.model_dim) {
    fail(fmt::format("input {} must be [B, T, {}]", x.value().description(), config_.model_dim));
  }
  ag::Var q, k, v;
  {
    profile::Scope scope("projections");
    q = nn::split_heads(q_proj_->forward(x), config_.heads);
    k = nn::split_heads(k_proj_->forward(x), config_.heads);
    v = nn::split_heads(v_proj_->forward(x), config_.heads);
  }
  record("q", q, "linear", "queries per head [B, H, T, D]");
  record("k", k, "linear", "keys per head [B, H, T, D]");
  record("v", v, "linear", "values per head [B, H, T, D]");
  if (inputs.positions.defined()) record("positions", inputs.positions, "input", "positions (context) [B, T] or [B, T, L]");

  PositionalEncoding::Encoded encoded;
  {
    profile::Scope scope("pe");
    encoded = pe_->encode(q, k, inputs.positions);
  }
  ag::Var y;
  if (config_.kind == "softmax") {
    ag::Var bias;
    if (pe_->uses_score_bias()) {
      profile::Scope scope("pe");
      bias = pe_->score_bias(q, inputs.positions);
    }
    profile::Scope scope("attention core");
    y = softmax_attention(encoded.query, encoded.key, v, inputs.causal, bias);
  } else {
    if (training() && ((redraw_ == FeatureRedraw::EveryForward && training_forwards_ > 0) ||
                       (redraw_ == FeatureRedraw::EveryK && training_forwards_ > 0 && training_forwards_ % config_.redraw_every == 0))) {
      profile::Scope scope("feature map");
      redraw_features();
    }
    if (training()) ++training_forwards_;
    if (projection_.defined()) record("feature_projection", projection_, "draw_random_projection", "random features W [d_φ, M/2]");
    ag::Var phi_q, phi_k;
    {
      profile::Scope scope("feature map");
      phi_q = features(encoded.query, true);
      phi_k = features(encoded.key, false);
    }
    record("phi_q", phi_q, config_.feature_map, "φ(q̂) [B, H, T, M]");
    record("phi_k", phi_k, config_.feature_map, "φ(k̂) [B, H, T, M]");
    profile::Scope scope("attention core");
    y = linear_attention(phi_q, phi_k, v, inputs.causal, config_.eps, ag::recorder_active() ? &full_name() : nullptr,
                         causal_algorithm_, config_.causal_chunk);
  }
  record("context", y, config_.kind + "_attention", "attention output per head [B, H, T, D]");
  ag::Var out;
  {
    profile::Scope scope("projections");
    out = out_proj_->forward(nn::merge_heads(y));
  }
  record("out", out, "linear", "attention layer output [B, T, d_model]");
  return out;
}

std::string PositionalAttention::describe() const {
  return fmt::format("PositionalAttention({}, heads {}, d_model {}, pe {}{})", config_.kind, config_.heads,
                     config_.model_dim, pe_->pe_name(),
                     config_.kind == "linear" ? fmt::format(", φ {} M {} redraw {}, causal {}", config_.feature_map, config_.features,
                                                                    config_.redraw, config_.causal_algorithm)
                                              : std::string());
}

nn::AttentionFactory make_attention_factory(const AttentionConfig& config) {
  return [config](int layer_index) -> std::shared_ptr<nn::AttentionLayer> {
    return std::make_shared<PositionalAttention>(config, layer_index);
  };
}

}  // namespace stripes::attention
