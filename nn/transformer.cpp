#include "nn/transformer.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"
#include "nn/softmax_attention.hpp"
#include "tensor/profile.hpp"

namespace stripes::nn {

// ---- configuration -------------------------------------------------------------------------------

namespace {
const char* input_kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::Features: return "features";
    case InputKind::Tokens: return "tokens";
    case InputKind::Identity: return "identity";
  }
  return "?";
}
InputKind parse_input_kind(const std::string& name) {
  if (name == "features") return InputKind::Features;
  if (name == "tokens") return InputKind::Tokens;
  if (name == "identity") return InputKind::Identity;
  throw_error("transformer config: input '{}' is not one of features, tokens, identity", name);
}
const char* positional_kind_name(PositionalKind kind) {
  switch (kind) {
    case PositionalKind::None: return "none";
    case PositionalKind::Sinusoidal: return "sinusoidal";
    case PositionalKind::Learned: return "learned";
  }
  return "?";
}
PositionalKind parse_positional_kind(const std::string& name) {
  if (name == "none") return PositionalKind::None;
  if (name == "sinusoidal") return PositionalKind::Sinusoidal;
  if (name == "learned") return PositionalKind::Learned;
  throw_error("transformer config: positional '{}' is not one of none, sinusoidal, learned", name);
}
}  // namespace

void TransformerConfig::validate() const {
  STRIPES_CHECK(d_model > 0 && num_heads > 0 && d_model % num_heads == 0,
                "transformer config: d_model {} must be a positive multiple of num_heads {}", d_model, num_heads);
  STRIPES_CHECK(d_ff > 0, "transformer config: d_ff must be positive, got {}", d_ff);
  STRIPES_CHECK(num_layers >= 0, "transformer config: num_layers must be >= 0, got {}", num_layers);
  STRIPES_CHECK(input == InputKind::Identity || input_dim > 0,
                "transformer config: input_dim must be positive for input '{}', got {}", input_kind_name(input),
                input_dim);
  STRIPES_CHECK(positional != PositionalKind::Learned || max_length > 0,
                "transformer config: learned positions need max_length > 0");
  STRIPES_CHECK(positional != PositionalKind::Sinusoidal || d_model % 2 == 0,
                "transformer config: sinusoidal positions need an even d_model, got {}", d_model);
  STRIPES_CHECK(dropout >= 0 && dropout < 1, "transformer config: dropout {} is outside [0, 1)", dropout);
  STRIPES_CHECK(attention_dropout >= 0 && attention_dropout < 1,
                "transformer config: attention_dropout {} is outside [0, 1)", attention_dropout);
  STRIPES_CHECK(output_dim >= 0, "transformer config: output_dim must be >= 0, got {}", output_dim);
  STRIPES_CHECK(is_floating(dtype), "transformer config: dtype must be float32 or float64");
}

void to_json(nlohmann::json& json, const TransformerConfig& c) {
  json = {{"input", input_kind_name(c.input)},
          {"input_dim", c.input_dim},
          {"positional", positional_kind_name(c.positional)},
          {"max_length", c.max_length},
          {"d_model", c.d_model},
          {"num_heads", c.num_heads},
          {"d_ff", c.d_ff},
          {"num_layers", c.num_layers},
          {"dropout", c.dropout},
          {"attention_dropout", c.attention_dropout},
          {"activation", std::string(activation_name(c.activation))},
          {"pre_norm", c.pre_norm},
          {"final_norm", c.final_norm},
          {"layer_norm_eps", c.layer_norm_eps},
          {"output_dim", c.output_dim},
          {"dtype", std::string(dtype_name(c.dtype))}};
}

void from_json(const nlohmann::json& json, TransformerConfig& c) {
  STRIPES_CHECK(json.is_object(), "transformer config: expected a JSON object, got {}", json.dump());
  c = TransformerConfig{};
  for (const auto& [key, value] : json.items()) {
    try {
      if (key == "input") c.input = parse_input_kind(value.get<std::string>());
      else if (key == "input_dim") c.input_dim = value.get<int64_t>();
      else if (key == "positional") c.positional = parse_positional_kind(value.get<std::string>());
      else if (key == "max_length") c.max_length = value.get<int64_t>();
      else if (key == "d_model") c.d_model = value.get<int64_t>();
      else if (key == "num_heads") c.num_heads = value.get<int64_t>();
      else if (key == "d_ff") c.d_ff = value.get<int64_t>();
      else if (key == "num_layers") c.num_layers = value.get<int64_t>();
      else if (key == "dropout") c.dropout = value.get<double>();
      else if (key == "attention_dropout") c.attention_dropout = value.get<double>();
      else if (key == "activation") c.activation = parse_activation(value.get<std::string>());
      else if (key == "pre_norm") c.pre_norm = value.get<bool>();
      else if (key == "final_norm") c.final_norm = value.get<bool>();
      else if (key == "layer_norm_eps") c.layer_norm_eps = value.get<double>();
      else if (key == "output_dim") c.output_dim = value.get<int64_t>();
      else if (key == "dtype") c.dtype = parse_dtype(value.get<std::string>());
      else throw_error("unknown key");
    } catch (const nlohmann::json::exception& e) {
      throw_error("transformer config: field '{}' = {}: {}", key, value.dump(), e.what());
    } catch (const Error& e) {
      throw_error("transformer config: field '{}' = {}: {}", key, value.dump(), e.what());
    }
  }
  c.validate();
}

// ---- one layer -----------------------------------------------------------------------------------

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerConfig& config, std::shared_ptr<AttentionLayer> attention,
                                                 Generator& init, std::shared_ptr<Generator> dropout_generator)
    : d_model_(config.d_model), pre_norm_(config.pre_norm) {
  STRIPES_CHECK(attention != nullptr, "TransformerEncoderLayer: the attention factory returned null");
  attn_ = register_module("attn", std::move(attention));
  dropout1_ = register_module("dropout1", std::make_shared<Dropout>(config.dropout, dropout_generator));
  norm1_ = register_module("norm1", std::make_shared<LayerNorm>(config.d_model, config.layer_norm_eps, config.dtype));
  ff_ = register_module("ff", std::make_shared<FeedForward>(config.d_model, config.d_ff, config.activation, config.dropout,
                                                            init, dropout_generator, config.dtype));
  dropout2_ = register_module("dropout2", std::make_shared<Dropout>(config.dropout, dropout_generator));
  norm2_ = register_module("norm2", std::make_shared<LayerNorm>(config.d_model, config.layer_norm_eps, config.dtype));
}

std::string TransformerEncoderLayer::describe() const {
  return fmt::format("TransformerEncoderLayer(d_model {}, {})", d_model_, pre_norm_ ? "pre-LN" : "post-LN");
}

ag::Var TransformerEncoderLayer::forward(const ag::Var& x, const AttentionInputs& inputs) {
  if (x.dim() != 3 || x.size(2) != d_model_) {
    fail(fmt::format("input {} must be [B, T, {}]", x.value().description(), d_model_));
  }
  // Profile labels (tensor/profile.hpp): the attention labels its own parts, the feed-forward is
  // "ffn", layer norms, residual sums and dropout are "norm, residual, dropout".
  constexpr const char* kGlue = "norm, residual, dropout";
  ag::Var h;
  ag::Var y;
  if (pre_norm_) {
    ag::Var normed;
    {
      profile::Scope scope(kGlue);
      normed = norm1_->forward(x);
    }
    const ag::Var attended = attn_->forward(normed, inputs);
    {
      profile::Scope scope(kGlue);
      h = x + dropout1_->forward(attended);
      normed = norm2_->forward(h);
    }
    record("attn_residual", h, "add", "x + dropout(attn(norm1(x))) [B, T, D]");
    ag::Var fed;
    {
      profile::Scope scope("ffn");
      fed = ff_->forward(normed);
    }
    {
      profile::Scope scope(kGlue);
      y = h + dropout2_->forward(fed);
    }
    record("out", y, "add", "h + dropout(ff(norm2(h))) [B, T, D]");
  } else {
    const ag::Var attended = attn_->forward(x, inputs);
    {
      profile::Scope scope(kGlue);
      h = norm1_->forward(x + dropout1_->forward(attended));
    }
    record("attn_residual", h, "layer_norm", "norm1(x + dropout(attn(x))) [B, T, D]");
    ag::Var fed;
    {
      profile::Scope scope("ffn");
      fed = ff_->forward(h);
    }
    {
      profile::Scope scope(kGlue);
      y = norm2_->forward(h + dropout2_->forward(fed));
    }
    record("out", y, "layer_norm", "norm2(h + dropout(ff(h))) [B, T, D]");
  }
  return y;
}

AttentionFactory softmax_attention_factory(const TransformerConfig& config, Generator& init,
                                           std::shared_ptr<Generator> dropout_generator) {
  return [config, &init, dropout_generator](int) -> std::shared_ptr<AttentionLayer> {
    return std::make_shared<SoftmaxAttention>(config.d_model, config.num_heads, config.attention_dropout, init,
                                              dropout_generator, config.dtype);
  };
}

// ---- the stack -----------------------------------------------------------------------------------

TransformerEncoder::TransformerEncoder(const TransformerConfig& config, const AttentionFactory& attention,
                                       Generator& init, std::shared_ptr<Generator> dropout_generator)
    : config_(config) {
  config.validate();
  STRIPES_CHECK(attention != nullptr, "TransformerEncoder: no attention factory given");
  if (config.input == InputKind::Features) {
    input_proj_ = register_module("input_proj", std::make_shared<Linear>(config.input_dim, config.d_model, init, true, config.dtype));
  } else if (config.input == InputKind::Tokens) {
    embedding_ = register_module("embedding", std::make_shared<Embedding>(config.input_dim, config.d_model, init, config.dtype));
  }
  if (config.positional == PositionalKind::Learned) {
    position_embedding_ = register_module(
        "position_embedding", std::make_shared<Embedding>(config.max_length, config.d_model, init, config.dtype));
  }
  input_dropout_ = register_module("input_dropout", std::make_shared<Dropout>(config.dropout, dropout_generator));
  layer_list_ = register_module("layers", std::make_shared<ModuleList>());
  for (int64_t i = 0; i < config.num_layers; ++i) {
    layers_.push_back(layer_list_->append(
        std::make_shared<TransformerEncoderLayer>(config, attention(int(i)), init, dropout_generator)));
  }
  if (config.final_norm) {
    final_norm_ = register_module("final_norm", std::make_shared<LayerNorm>(config.d_model, config.layer_norm_eps, config.dtype));
  }
  if (config.output_dim > 0) {
    output_proj_ = register_module("output_proj", std::make_shared<Linear>(config.d_model, config.output_dim, init, true, config.dtype));
  }
}

std::string TransformerEncoder::describe() const {
  return fmt::format("TransformerEncoder({} layers, d_model {}, {} heads, d_ff {}, {}, {})", config_.num_layers,
                     config_.d_model, config_.num_heads, config_.d_ff, config_.pre_norm ? "pre-LN" : "post-LN",
                     activation_name(config_.activation));
}

ag::Var TransformerEncoder::forward(const ag::Var& x, const AttentionInputs& inputs) {
  if (config_.input == InputKind::Tokens) fail("this encoder takes tokens: call forward_tokens");
  const int64_t width = config_.input == InputKind::Features ? config_.input_dim : config_.d_model;
  if (x.dim() != 3 || x.size(2) != width) {
    fail(fmt::format("input {} must be [B, T, {}]", x.value().description(), width));
  }
  ag::Var hidden = x;
  if (input_proj_) {
    profile::Scope scope("in/out projections");
    hidden = input_proj_->forward(x);
  }
  return encode(hidden, inputs);
}

ag::Var TransformerEncoder::forward_tokens(const Tensor& tokens, const AttentionInputs& inputs) {
  if (config_.input != InputKind::Tokens) fail("this encoder takes features: call forward");
  if (tokens.dim() != 2) fail(fmt::format("tokens {} must be int64 [B, T]", tokens.description()));
  return encode(embedding_->forward(tokens), inputs);
}

ag::Var TransformerEncoder::encode(ag::Var hidden, const AttentionInputs& inputs) {
  const int64_t length = hidden.size(1);
  if (config_.positional == PositionalKind::Sinusoidal) {
    hidden = hidden + ag::Var(sinusoidal_positions(length, config_.d_model, config_.dtype).to(hidden.value().device()));
  } else if (config_.positional == PositionalKind::Learned) {
    if (length > config_.max_length) {
      fail(fmt::format("sequence length {} exceeds the {} learned positions", length, config_.max_length));
    }
    hidden = hidden + position_embedding_->forward(Tensor::arange(length));
  }
  record("embedded", hidden, "add", "input projection (+ absolute positions) before the layers [B, T, D]");
  hidden = input_dropout_->forward(hidden);
  for (auto& layer : layers_) hidden = layer->forward(hidden, inputs);
  if (final_norm_) hidden = final_norm_->forward(hidden);
  if (!output_proj_) return hidden;
  ag::Var y;
  {
    profile::Scope scope("in/out projections");
    y = output_proj_->forward(hidden);
  }
  record("output", y, "linear", "output projection (logits) [B, T, output_dim]");
  return y;
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_transformer_gradchecks(ag::GradcheckRegistry& registry) {
  for (bool pre_norm : {false, true}) {
    TransformerConfig config;
    config.input = InputKind::Identity;
    config.d_model = 4;
    config.num_heads = 2;
    config.d_ff = 6;
    config.num_layers = 1;
    config.dropout = 0.0;
    config.activation = Activation::GELU;
    config.pre_norm = pre_norm;
    config.dtype = DType::Float64;
    registry.add(module_gradcheck(
        "nn.TransformerEncoderLayer", fmt::format("x [2, 3, 4], 2 heads, d_ff 6, gelu, causal, {}", pre_norm ? "pre-LN" : "post-LN"),
        [config] {
          Generator init(10);
          return std::make_shared<TransformerEncoderLayer>(
              config, std::make_shared<SoftmaxAttention>(4, 2, 0.0, init, nullptr, DType::Float64), init, nullptr);
        },
        {ag::normal({2, 3, 4})},
        [](TransformerEncoderLayer& m, const std::vector<ag::Var>& in) { return m.forward(in[0], AttentionInputs{}); }));
  }
  // The whole stack with projections, learned positions and dropout (fixed mask).
  TransformerConfig config;
  config.input = InputKind::Features;
  config.input_dim = 3;
  config.positional = PositionalKind::Learned;
  config.max_length = 4;
  config.d_model = 4;
  config.num_heads = 2;
  config.d_ff = 4;
  config.num_layers = 2;
  config.dropout = 0.2;
  config.activation = Activation::GELU;
  config.pre_norm = true;
  config.final_norm = true;
  config.output_dim = 2;
  config.dtype = DType::Float64;
  auto generator = std::make_shared<Generator>(11);
  registry.add(module_gradcheck(
      "nn.TransformerEncoder", "x [1, 3, 3] -> [1, 3, 2], 2 pre-LN layers, learned positions, dropout 0.2 (fixed mask)",
      [config, generator] {
        Generator init(12);
        return std::make_shared<TransformerEncoder>(config, softmax_attention_factory(config, init, generator), init,
                                                    generator);
      },
      {ag::normal({1, 3, 3})}, [generator](TransformerEncoder& m, const std::vector<ag::Var>& in) {
        generator->set_state(11, 0);
        return m.forward(in[0]);
      }));
}

}  // namespace stripes::nn
