// StrIPE's exact structure-aware relative PE, sinusoidal S-RPE (method.md §2.4), the quadratic
// baseline: a bias added to the softmax scores,
//
//   e_mn = q_m·k_n/√E + Σ_s (q_m/√E) · [W_s emb(p_s(m) − p_s(n))]_h
//   emb(Δ)[2i] = sin(Δ ω_i), emb(Δ)[2i+1] = cos(Δ ω_i),  ω_i = base^{−2i/d_model}
//
// with one learned d_model×d_model matrix W_s per structure level s (the product W_l W_s of the
// StrIPE code, which is all the bias depends on), and the d_model-dim vector split over heads with
// the head index fastest (element c belongs to head c mod H, StrIPE's `view(b, t, t, −1, H)`).
//
// Computed without forming the T×T×d_model embeddings: with Q̃ = q W_hᵀ-rows (the head's rows of
// W_s, [B, H, T, d_model]) the angle-difference identities give
//   [W_s emb(p_m − p_n)]_h · q_m = Σ_i (Q̃_{2i} s_m + Q̃_{2i+1} c_m) c_n + (Q̃_{2i+1} s_m − Q̃_{2i} c_m) s_n
// (s = sin(p ω_i), c = cos(p ω_i)), one [T, d_model] @ [d_model, T] product per head: O(T²·d_model)
// time, O(T²) memory — the cost the paper calls too high for 64 bars.
#include "attention/positional_encoding.hpp"

#include <cmath>

namespace stripes::attention {

namespace {

class StripeEncoding : public PositionalEncoding {
 public:
  explicit StripeEncoding(const PositionalEncodingConfig& config) : config_(config) {
    STRIPES_CHECK(config.model_dim == config.heads * config.head_dim && config.model_dim % 2 == 0,
                  "stripe: model_dim {} must equal heads {} × head_dim {} and be even", config.model_dim, config.heads,
                  config.head_dim);
    Generator init(config.seed);
    const double bound = 1.0 / std::sqrt(double(config.model_dim));
    for (int64_t s = 0; s < config.position_dim; ++s) {
      projections_.push_back(register_parameter(
          fmt::format("structure_{}", s),
          Tensor::rand({config.model_dim, config.model_dim}, init, config.dtype, -bound, bound)));
    }
  }

  std::string_view pe_name() const override { return "stripe"; }
  KernelProperties kernel_properties() const override {
    return {.positive_definite = false, .lag_only = true, .stochastic = false, .uses_positions = true};
  }
  int64_t feature_dim() const override { return config_.head_dim; }
  std::string describe() const override {
    return fmt::format("stripe(S-RPE, heads {}, d_model {}, structures {})", config_.heads, config_.model_dim,
                       config_.position_dim);
  }
  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor&) override { return {q, k}; }
  bool uses_score_bias() const override { return true; }

  ag::Var score_bias(const ag::Var& q, const Tensor& positions) override {
    const int64_t h = config_.heads, e = config_.head_dim, dm = config_.model_dim, steps = q.size(-2);
    const Device device = q.value().device();
    const Tensor p = normalized_positions(positions, steps, q.dtype(), device, config_.position_dim);  // [B|1, T, S]
    // ω_i = base^{−2i/d_model}, tabulated on the host in float64, then converted and copied to q's device
    Tensor omega = Tensor::empty({1, 1, dm / 2}, DType::Float64);
    double* omega_values = omega.mutable_data<double>();
    for (int64_t i = 0; i < dm / 2; ++i) omega_values[i] = std::pow(config_.srpe_base, -2.0 * double(i) / double(dm));
    omega = omega.to(q.dtype()).to(device);
    ag::Var bias;
    for (int64_t s = 0; s < config_.position_dim; ++s) {
      const Tensor angle = p.slice(-1, s, s + 1) * omega;            // p ω_i   [B|1, T, d/2]
      const Tensor sin_p = sin(angle).unsqueeze(1), cos_p = cos(angle).unsqueeze(1);  // [B|1, 1, T, d/2]
      // the head's rows of W_s: row c = e·H + h  ->  [H, E, d_model]
      const ag::Var rows = ag::permute(ag::reshape(projections_[size_t(s)], {e, h, dm}), {1, 0, 2});
      const ag::Var projected = ag::matmul(q, rows);                  // Q̃  [B, H, T, d_model]
      const ag::Var even = ag::slice(projected, -1, 0, dm, 2), odd = ag::slice(projected, -1, 1, dm, 2);
      const ag::Var s_m(sin_p), c_m(cos_p);
      const ag::Var query_side = ag::concat({even * s_m + odd * c_m, odd * s_m - even * c_m}, -1);  // [B, H, T, d_model]
      const ag::Var key_side(concat({cos_p, sin_p}, -1));               // [B|1, 1, T, d_model]
      const ag::Var term = ag::matmul(query_side, ag::transpose(key_side, -1, -2)) * (1.0 / std::sqrt(double(e)));
      bias = bias.defined() ? bias + term : term;
    }
    record("score_bias", bias, "stripe", "S-RPE score bias Σ_s q_m·[W_s emb(Δ_s)]_h/√E [B, H, T, T]");
    return bias;
  }

 private:
  PositionalEncodingConfig config_;
  std::vector<ag::Var> projections_;  // W_s [d_model, d_model] per structure level
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_stripe_encoding(const PositionalEncodingConfig& config) {
  return std::make_shared<StripeEncoding>(config);
}

}  // namespace stripes::attention
