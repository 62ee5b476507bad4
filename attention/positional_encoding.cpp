#include "attention/positional_encoding.hpp"

namespace stripes::attention {

// Defined next to each PE (attention/pe/*.cpp).
std::shared_ptr<PositionalEncoding> make_identity_encoding(const PositionalEncodingConfig& config);
std::shared_ptr<PositionalEncoding> make_rotary_encoding(const PositionalEncodingConfig& config);
std::shared_ptr<PositionalEncoding> make_fstripe1_encoding(const PositionalEncodingConfig& config);
std::shared_ptr<PositionalEncoding> make_spectral_encoding(const PositionalEncodingConfig& config);
std::shared_ptr<PositionalEncoding> make_conv_spe_encoding(const PositionalEncodingConfig& config);
std::shared_ptr<PositionalEncoding> make_stripe_encoding(const PositionalEncodingConfig& config);

const std::vector<std::string>& positional_encoding_names() {
  static const std::vector<std::string> names = {"nope",     "ape",     "rope-a",   "rope-b", "rope-c", "spe-sine",
                                                 "spe-conv", "fstripe", "fstripe1", "ropepool", "stripe"};
  return names;
}

std::shared_ptr<PositionalEncoding> make_positional_encoding(const PositionalEncodingConfig& config) {
  STRIPES_CHECK(config.heads > 0 && config.head_dim > 0 && config.position_dim > 0,
                "positional encoding '{}': heads {}, head_dim {} and position_dim {} must be positive", config.name,
                config.heads, config.head_dim, config.position_dim);
  const std::string& n = config.name;
  if (n == "nope" || n == "ape") return make_identity_encoding(config);
  if (n == "rope-a" || n == "rope-b" || n == "rope-c" || n == "ropepool") return make_rotary_encoding(config);
  if (n == "fstripe1") return make_fstripe1_encoding(config);
  if (n == "spe-sine" || n == "fstripe") return make_spectral_encoding(config);
  if (n == "spe-conv") return make_conv_spe_encoding(config);
  if (n == "stripe") return make_stripe_encoding(config);
  throw_error("unknown positional encoding '{}' (expected one of: {})", n, fmt::join(positional_encoding_names(), ", "));
}

ag::Var PositionalEncoding::score_bias(const ag::Var&, const Tensor&) {
  throw_error("{}: positional encoding '{}' adds no score bias", display_name(), pe_name());
}

Tensor PositionalEncoding::normalized_positions(const Tensor& positions, int64_t steps, DType dtype, Device device,
                                                int64_t position_dim) const {
  if (!positions.defined()) {
    STRIPES_CHECK(position_dim == 1, "{}: no positions given, but the encoding expects {}-dimensional positions",
                  display_name(), position_dim);
    return Tensor::arange(steps, DType::Int64).to(dtype).reshape({1, steps, 1}).to(device);
  }
  // Converted where they are, then moved: a host copy goes over in the (usually narrower) dtype.
  Tensor p = positions.to(dtype).to(device);
  if (p.dim() == 2) p = p.unsqueeze(-1);
  STRIPES_CHECK(p.dim() == 3 && p.size(1) == steps && p.size(2) == position_dim,
                "{} ({}): positions {} must be [B, {}] or [B, {}, {}]", display_name(), pe_name(),
                positions.description(), steps, steps, position_dim);
  return p;
}

}  // namespace stripes::attention
