// Rotation-based PEs: RoPE (A, B, C) and RoPEPool (method.md §2.2, §2.6).
#include "attention/positional_encoding.hpp"

#include <cmath>

namespace stripes::attention {

// angles = p fᵀ per head:  [B|1, 1, T, L] @ [H, L, J] -> [B|1, H, T, J]
ag::Var position_angles(const Tensor& positions, const ag::Var& frequencies) {
  STRIPES_CHECK(positions.dim() == 3 && frequencies.dim() == 3 && positions.size(-1) == frequencies.size(-1),
                "position_angles: positions {} and frequencies {} must be [B, T, L] and [H, J, L]",
                positions.description(), frequencies.value().description());
  return ag::matmul(ag::Var(positions.unsqueeze(1)), ag::transpose(frequencies, -1, -2));
}

ag::Var rotate_pairs(const ag::Var& x, const ag::Var& angles, bool pooled) {
  const int64_t d = x.size(-1);
  STRIPES_CHECK(d % 2 == 0, "rotate_pairs: dimension {} of {} is odd; RoPE needs pairs", d, x.value().description());
  STRIPES_CHECK(angles.size(-1) == d / 2, "rotate_pairs: angles {} must have {} entries (one per pair) in the last axis",
                angles.value().description(), d / 2);
  const ag::Var first = ag::slice(x, -1, 0, d, 2);   // x_{2j}
  const ag::Var second = ag::slice(x, -1, 1, d, 2);  // x_{2j+1}
  const ag::Var c = ag::cos(angles), s = ag::sin(angles);
  const ag::Var rotated_first = first * c - second * s;
  const ag::Var rotated_second = second * c + first * s;
  if (pooled) return rotated_first + rotated_second;  // c_j = u1 + u2 (RoPEPool)
  Shape shape = rotated_first.shape();
  shape.back() = d;
  return ag::reshape(ag::concat({ag::unsqueeze(rotated_first, -1), ag::unsqueeze(rotated_second, -1)}, -1), shape);
}

Tensor rope_frequencies(int64_t heads, int64_t pairs, int64_t position_dim, bool per_head, DType dtype) {
  Tensor f = Tensor::empty({heads, pairs, position_dim}, DType::Float64);
  double* p = f.mutable_data<double>();
  for (int64_t h = 0; h < heads; ++h) {
    const double base = per_head ? std::pow(10000.0, double(h + 1) / double(heads)) : 10000.0;
    for (int64_t j = 0; j < pairs; ++j)
      for (int64_t l = 0; l < position_dim; ++l) p[(h * pairs + j) * position_dim + l] = std::pow(base, -2.0 * double(j) / double(2 * pairs));
  }
  return f.to(dtype);
}

namespace {

// RoPE(A/B/C) and RoPEPool share everything but the variant of their frequencies and the pooling.
class RotaryEncoding : public PositionalEncoding {
 public:
  enum class Variant { A, B, C, Pool };

  RotaryEncoding(const PositionalEncodingConfig& config, Variant variant) : config_(config), variant_(variant) {
    STRIPES_CHECK(config.head_dim % 2 == 0, "{}: head dimension {} must be even", name_of(variant), config.head_dim);
    const Tensor init = rope_frequencies(config.heads, config.head_dim / 2, config.position_dim,
                                         variant != Variant::A, config.dtype);
    // RoPE(C) and RoPEPool learn one frequency per pair per head (and per position dimension).
    if (variant == Variant::C || variant == Variant::Pool) frequencies_ = register_parameter("frequencies", init);
    else frequencies_ = ag::Var(init);
  }

  std::string_view pe_name() const override { return name_of(variant_); }
  KernelProperties kernel_properties() const override {
    return {.positive_definite = false, .lag_only = variant_ != Variant::Pool, .stochastic = false, .uses_positions = true};
  }
  int64_t feature_dim() const override { return variant_ == Variant::Pool ? config_.head_dim / 2 : config_.head_dim; }
  std::string describe() const override {
    return fmt::format("{}(heads {}, D {}, L {})", pe_name(), config_.heads, config_.head_dim, config_.position_dim);
  }

  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor& positions) override {
    const Tensor p = normalized_positions(positions, q.size(-2), q.dtype(), config_.position_dim);
    const ag::Var angles = position_angles(p, frequencies_);  // α_j = f_jᵀ p   [B|1, H, T, D/2]
    record("angles", angles, "matmul", "rotation angles f_jᵀ p per pair [B, H, T, D/2]");
    const bool pooled = variant_ == Variant::Pool;
    Encoded out{rotate_pairs(q, angles, pooled), rotate_pairs(k, angles, pooled)};
    record(pooled ? "pooled_query" : "rotated_query", out.query, "rotate_pairs",
           pooled ? "RoPEPool codes c_j(q) = u1 + u2 per pair [B, H, T, D/2]" : "RoPE-rotated queries [B, H, T, D]");
    record(pooled ? "pooled_key" : "rotated_key", out.key, "rotate_pairs",
           pooled ? "RoPEPool codes c_j(k) [B, H, T, D/2]" : "RoPE-rotated keys [B, H, T, D]");
    return out;
  }

 private:
  static std::string_view name_of(Variant v) {
    switch (v) {
      case Variant::A: return "rope-a";
      case Variant::B: return "rope-b";
      case Variant::C: return "rope-c";
      case Variant::Pool: return "ropepool";
    }
    return "?";
  }
  PositionalEncodingConfig config_;
  Variant variant_;
  ag::Var frequencies_;  // [H, D/2, L]
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_rotary_encoding(const PositionalEncodingConfig& config) {
  using V = RotaryEncoding::Variant;
  const V variant = config.name == "rope-a" ? V::A : config.name == "rope-b" ? V::B : config.name == "rope-c" ? V::C : V::Pool;
  return std::make_shared<RotaryEncoding>(config, variant);
}

}  // namespace stripes::attention
