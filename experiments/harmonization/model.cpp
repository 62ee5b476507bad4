#include "experiments/harmonization/model.hpp"

#include "attention/positional_attention.hpp"
#include "autograd/ops.hpp"
#include "tensor/error.hpp"
#include "tensor/profile.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace stripes::harmonization {

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names = {"paper", "small"};
  return names;
}

HarmonizationConfig preset_config(const std::string& name) {
  HarmonizationConfig config;
  if (name == "paper") return config;
  STRIPES_CHECK(name == "small", "unknown preset '{}'; valid presets: {}", name, fmt::join(preset_names(), ", "));
  config.preset = "small";
  config.features = 32;
  config.d_model = 64;
  config.heads = 4;
  config.layers = 2;
  config.d_ff = 128;
  config.sequence_length = 256;
  config.max_train_windows = 0;  // all 15750 training windows of T = 256; 1500 steps see 12000 of them
  config.epochs = 0;
  config.steps = 1500;
  config.learning_rate = 2e-3;
  config.warmup_steps = 100;
  config.clip_grad_norm = 1.0;
  config.curriculum_start = 16;
  config.curriculum_ramp_steps = 300;
  config.eval_sequence_length = 256;
  config.max_eval_windows = 64;
  config.max_val_windows = 32;
  return config;
}

data::ContextType HarmonizationConfig::context_type() const { return data::parse_context_type(context); }

int64_t HarmonizationConfig::position_dim() const { return data::context_width(context_type()); }

void HarmonizationConfig::validate() const {
  STRIPES_CHECK(contains(preset_names(), preset), "config: unknown preset '{}'; valid presets: {}", preset,
                fmt::join(preset_names(), ", "));
  const auto& pes = attention::positional_encoding_names();
  STRIPES_CHECK(contains(pes, pe), "config: unknown positional encoding '{}'; valid: {}", pe, fmt::join(pes, ", "));
  context_type();  // throws listing the valid contexts
  STRIPES_CHECK(attention == "linear" || attention == "softmax",
                "config: unknown attention kind '{}'; valid: linear, softmax", attention);
  STRIPES_CHECK(feature_map == "favor" || feature_map == "trig" || feature_map == "elu",
                "config: unknown feature map '{}'; valid: favor, trig, elu", feature_map);
  STRIPES_CHECK(pe != "stripe" || attention == "softmax",
                "config: pe 'stripe' (exact S-RPE) needs attention 'softmax', got '{}'", attention);
  STRIPES_CHECK(pe != "ape" || position_dim() == 1,
                "config: pe 'ape' needs a scalar context (TIME, REP or KEY), got {} (width {})", context,
                position_dim());
  STRIPES_CHECK(causal_algorithm == "prefix" || causal_algorithm == "chunked" || causal_algorithm == "chunked-composed" ||
                    causal_algorithm == "auto",
                "config: unknown causal_algorithm '{}'; valid: auto, prefix, chunked, chunked-composed", causal_algorithm);
  STRIPES_CHECK(features > 0 && features % 2 == 0, "config: features (M) must be even and > 0, got {}", features);
  STRIPES_CHECK(d_model > 0 && heads > 0 && d_model % heads == 0,
                "config: d_model ({}) must be a positive multiple of heads ({})", d_model, heads);
  STRIPES_CHECK((d_model / heads) % 2 == 0, "config: the head dim d_model/heads = {} must be even (rotary PEs)",
                d_model / heads);
  STRIPES_CHECK(layers > 0, "config: layers must be > 0, got {}", layers);
  STRIPES_CHECK(d_ff > 0, "config: d_ff must be > 0, got {}", d_ff);
  STRIPES_CHECK(dropout >= 0 && dropout < 1, "config: dropout must be in [0, 1), got {}", dropout);
  STRIPES_CHECK(sequence_length >= 2, "config: sequence_length must be >= 2, got {}", sequence_length);
  STRIPES_CHECK(batch_size >= 1, "config: batch_size must be >= 1, got {}", batch_size);
  STRIPES_CHECK(max_train_windows >= 0, "config: max_train_windows must be >= 0, got {}", max_train_windows);
  STRIPES_CHECK(epochs >= 0 && steps >= 0 && (epochs > 0 || steps > 0),
                "config: give epochs > 0 or steps > 0 (got epochs {}, steps {})", epochs, steps);
  STRIPES_CHECK(learning_rate > 0, "config: learning_rate must be > 0, got {}", learning_rate);
  STRIPES_CHECK(warmup_steps >= 0, "config: warmup_steps must be >= 0, got {}", warmup_steps);
  STRIPES_CHECK(decay_gamma > 0 && decay_gamma <= 1, "config: decay_gamma must be in (0, 1], got {}", decay_gamma);
  STRIPES_CHECK(clip_grad_norm >= 0, "config: clip_grad_norm must be >= 0, got {}", clip_grad_norm);
  STRIPES_CHECK(curriculum_start >= 1 && curriculum_ramp_steps >= 0 && curriculum_multiple >= 1,
                "config: bad curriculum (start {}, ramp {}, multiple {})", curriculum_start, curriculum_ramp_steps,
                curriculum_multiple);
  STRIPES_CHECK(checkpoint_every >= 0, "config: checkpoint_every must be >= 0, got {}", checkpoint_every);
  STRIPES_CHECK(eval_sequence_length >= 2, "config: eval_sequence_length must be >= 2, got {}", eval_sequence_length);
  STRIPES_CHECK(max_eval_windows >= 0 && max_val_windows >= 0, "config: max_eval_windows / max_val_windows must be >= 0");
  scoring();  // throws naming the field
}

metrics::ScoringOptions HarmonizationConfig::scoring() const {
  metrics::ScoringOptions options;
  if (scored_tracks == "piano") {
    options.scored_tracks = {metrics::kPianoTrack};
  } else {
    STRIPES_CHECK(scored_tracks == "all", "config: unknown scored_tracks '{}'; valid: piano, all", scored_tracks);
  }
  if (ssmd_variant == "stripe-code-halved") {
    options.ssmd_variant = metrics::SsmdVariant::kStripeCodeHalved;
  } else if (ssmd_variant == "paper") {
    options.ssmd_variant = metrics::SsmdVariant::kPaper;
  } else {
    STRIPES_CHECK(ssmd_variant == "stripe-code", "config: unknown ssmd_variant '{}'; valid: stripe-code-halved, paper, stripe-code",
                  ssmd_variant);
    options.ssmd_variant = metrics::SsmdVariant::kStripeCode;
  }
  if (ndd_normalization == "per-sixteenth") {
    options.ndd_normalization = metrics::NddNormalization::kPerSixteenth;
  } else if (ndd_normalization == "pooled") {
    options.ndd_normalization = metrics::NddNormalization::kPooled;
  } else {
    STRIPES_CHECK(ndd_normalization == "stripe-code",
                  "config: unknown ndd_normalization '{}'; valid: per-sixteenth, pooled, stripe-code", ndd_normalization);
    options.ndd_normalization = metrics::NddNormalization::kStripeCode;
  }
  return options;
}

#define STRIPES_HARMONIZATION_FIELDS(X)                                                                         \
  X(preset) X(pe) X(context) X(attention) X(feature_map) X(features) X(d_model) X(heads) X(layers) X(d_ff)     \
  X(dropout) X(pre_norm) X(sequence_length) X(batch_size) X(max_train_windows) X(epochs) X(steps)              \
  X(learning_rate) X(warmup_steps) X(decay_gamma) X(clip_grad_norm) X(curriculum_start)                        \
  X(curriculum_ramp_steps) X(curriculum_multiple) X(seed) X(checkpoint_every) X(eval_sequence_length)           \
  X(max_eval_windows) X(max_val_windows) X(grid_search) X(causal_algorithm) X(scored_tracks) X(ssmd_variant) X(ndd_normalization)

void to_json(nlohmann::json& json, const HarmonizationConfig& config) {
  json = nlohmann::json::object();
#define STRIPES_WRITE(field) json[#field] = config.field;
  STRIPES_HARMONIZATION_FIELDS(STRIPES_WRITE)
#undef STRIPES_WRITE
}

void from_json(const nlohmann::json& json, HarmonizationConfig& config) {
  STRIPES_CHECK(json.is_object(), "harmonization config: expected a JSON object, got {}", json.type_name());
  static const std::vector<std::string> known = {
#define STRIPES_NAME(field) #field,
      STRIPES_HARMONIZATION_FIELDS(STRIPES_NAME)
#undef STRIPES_NAME
  };
  for (const auto& [key, value] : json.items()) {
    STRIPES_CHECK(contains(known, key), "harmonization config: unknown key '{}'", key);
  }
#define STRIPES_READ(field) \
  if (json.contains(#field)) json.at(#field).get_to(config.field);
  STRIPES_HARMONIZATION_FIELDS(STRIPES_READ)
#undef STRIPES_READ
}

HarmonizationModel::HarmonizationModel(const HarmonizationConfig& config) : config_(config) {
  config_.validate();
  Generator init(config_.seed);
  dropout_generator_ = std::make_shared<Generator>(config_.seed + 2000003);
  input_proj_ = register_module("input_proj", std::make_shared<nn::Linear>(data::kInputRows, config_.d_model, init));

  nn::TransformerConfig transformer;
  transformer.input = nn::InputKind::Identity;
  transformer.d_model = config_.d_model;
  transformer.num_heads = config_.heads;
  transformer.d_ff = config_.d_ff;
  transformer.num_layers = config_.layers;
  transformer.dropout = config_.dropout;
  transformer.pre_norm = config_.pre_norm;
  transformer.final_norm = config_.pre_norm;
  transformer.output_dim = data::kTargetRows;

  attention::AttentionConfig attention;
  attention.kind = config_.attention;
  attention.model_dim = config_.d_model;
  attention.heads = config_.heads;
  attention.feature_map = config_.feature_map;
  attention.features = config_.features;
  attention.causal_algorithm = config_.causal_algorithm;
  attention.seed = config_.seed + 3000017;
  attention.pe.name = config_.pe;
  attention.pe.position_dim = config_.position_dim();
  encoder_ = register_module("encoder", std::make_shared<nn::TransformerEncoder>(
                                            transformer, attention::make_attention_factory(attention), init,
                                            dropout_generator_));
}

ag::Var HarmonizationModel::forward(const Tensor& input_anywhere, const Tensor& positions_anywhere) {
  // The batch follows the model: data is made on the host, the model may live on the GPU.
  const Device device = this->device();
  const Tensor input = input_anywhere.to(device), positions = positions_anywhere.to(device);
  STRIPES_CHECK(input.dim() == 3 && input.size(2) == data::kInputRows,
                "HarmonizationModel: input must be [B, T, {}], got {}", data::kInputRows, shape_str(input.shape()));
  STRIPES_CHECK(positions.dim() >= 2 && positions.size(0) == input.size(0) && positions.size(1) == input.size(1),
                "HarmonizationModel: positions {} do not match input {}", shape_str(positions.shape()),
                shape_str(input.shape()));
  ag::Var hidden;
  {
    profile::Scope scope("in/out projections");
    hidden = input_proj_->forward(ag::Var(input));
  }
  if (config_.pe == "ape") {
    profile::Scope scope("pe");
    const Tensor embedding = attention::sinusoidal_position_embedding(positions, config_.d_model);
    hidden = ag::add(hidden, ag::Var(embedding));
  }
  nn::AttentionInputs inputs;
  inputs.positions = positions;
  inputs.causal = true;
  return encoder_->forward(hidden, inputs);
}

attention::PositionalAttention& HarmonizationModel::attention_layer(int64_t index) {
  // The encoder's attention slot is always filled by make_attention_factory (constructor).
  auto* attention = dynamic_cast<attention::PositionalAttention*>(&encoder_->layer(index).attention());
  STRIPES_CHECK(attention != nullptr, "HarmonizationModel: layer {} does not hold a PositionalAttention", index);
  return *attention;
}

nn::NamedGenerators HarmonizationModel::run_generators() {
  nn::NamedGenerators generators = {{"dropout", dropout_generator_}};
  for (int64_t i = 0; i < encoder_->num_layers(); ++i) {
    attention::PositionalAttention& attention = attention_layer(i);
    generators.emplace_back(fmt::format("layers.{}.attn.features", i), attention.feature_generator());
    if (auto noise = attention.positional_encoding().noise_generator()) {
      generators.emplace_back(fmt::format("layers.{}.attn.pe.noise", i), noise);
    }
  }
  return generators;
}

void HarmonizationModel::resume_at_step(int64_t steps) {
  for (int64_t i = 0; i < encoder_->num_layers(); ++i) attention_layer(i).set_training_forwards(steps);
}

ag::Var HarmonizationModel::loss(const Tensor& input, const Tensor& target, const Tensor& positions) {
  const ag::Var logits = forward(input, positions);
  profile::Scope scope("loss");
  return ag::binary_cross_entropy_with_logits(logits, target);  // which copies target to the logits' device
}

std::string HarmonizationModel::describe() const {
  return fmt::format("Harmonization({} {} attention, pe {}, context {}, d_model {}, {} layers x {} heads, d_ff {}, M {})",
                     config_.attention, config_.feature_map, config_.pe, config_.context, config_.d_model,
                     config_.layers, config_.heads, config_.d_ff, config_.features);
}

}  // namespace stripes::harmonization
