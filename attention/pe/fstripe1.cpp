// F-StrIPE₁ (method.md §2.5 item 4; eq. 15 and eq. 20 of the paper): learnable frequencies, N_f = 1,
// no gains, no phases.
//
//   h(a_d, p) = [a_d cos(f_d p), a_d sin(f_d p)]                      per dimension d, per head
//   unpooled: U(a) = h(a_1) ⊕ … ⊕ h(a_D)  (dim 2D)   U(q_m)·U(k_n) = Σ_d q_md k_nd cos(f_d(p_m − p_n))  exactly
//   pooled:   C(a) = Σ_d h(a_d)            (dim 2)    C(q_m)·C(k_n) = Σ_{d,d'} q_md k_nd' cos(f_d p_m − f_d' p_n)
//
// The paper pools (eqs. 19-20: "dim into φ = 2" on the literal reading, our default) and argues the
// cross terms d ≠ d' vanish ("cross-dimension independence", proof not published). The unpooled
// form computes eq. 15 exactly; both are selectable (fstripe1_pooled).
#include "attention/positional_encoding.hpp"


namespace stripes::attention {

namespace {

class FStripe1Encoding : public PositionalEncoding {
 public:
  explicit FStripe1Encoding(const PositionalEncodingConfig& config) : config_(config) {
    // One learnable frequency per dimension per head (different across heads, like RoPE(C)),
    // initialised with RoPE(B)'s per-head spectrum spread over the D dimensions.
    const Tensor init = rope_frequencies(config.heads, config.head_dim, config.position_dim, true, config.dtype);
    frequencies_ = register_parameter("frequencies", init);  // [H, D, L]
  }

  std::string_view pe_name() const override { return "fstripe1"; }
  KernelProperties kernel_properties() const override {
    // The kernel the paper derives (eq. 15) is pd and stationary; the pooled features add cross terms.
    return {.positive_definite = true, .lag_only = true, .stochastic = false, .uses_positions = true};
  }
  int64_t feature_dim() const override { return config_.fstripe1_pooled ? 2 : 2 * config_.head_dim; }
  std::string describe() const override {
    return fmt::format("fstripe1(heads {}, D {}, L {}, {})", config_.heads, config_.head_dim, config_.position_dim,
                       config_.fstripe1_pooled ? "pooled" : "unpooled");
  }

  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor& positions) override {
    const Tensor p = normalized_positions(positions, q.size(-2), q.dtype(), q.value().device(), config_.position_dim);
    const ag::Var angles = position_angles(p, frequencies_);  // f_dᵀ p   [B|1, H, T, D]
    record("angles", angles, "matmul", "per-dimension angles f_dᵀ p [B, H, T, D]");
    const ag::Var c = ag::cos(angles), s = ag::sin(angles);
    Encoded out{dimension_codes(q, c, s, config_.fstripe1_pooled), dimension_codes(k, c, s, config_.fstripe1_pooled)};
    record("encoded_query", out.query, "dimension_codes", "F-StrIPE₁ features of the queries");
    record("encoded_key", out.key, "dimension_codes", "F-StrIPE₁ features of the keys");
    return out;
  }

 private:
  PositionalEncodingConfig config_;
  ag::Var frequencies_;
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_fstripe1_encoding(const PositionalEncodingConfig& config) {
  return std::make_shared<FStripe1Encoding>(config);
}

}  // namespace stripes::attention
