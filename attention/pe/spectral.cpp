// Spectral PEs: sineSPE (Liutkus et al. 2021) and F-StrIPE in its RFF and SFF forms
// (method.md §2.3, §2.5). All build, per head h and dimension d, a positional code from K sinusoids
//   Ω(p)_{d,k} = [cos φ_{dk}(p), sin φ_{dk}(p)],   φ_{dk}(p) = 2π f_{dk}ᵀ p + θ_{dk}
// weighted by gains λ_{dk}, and pool over dimensions (q̂ = Σ_d q_d · code_d):
//
//  fstripe (RFF, deterministic; eq. 12):   q̂_m = Σ_d q_md λ_d ⊙ Ω^Q(p_m)_d / √K         dim 2K
//      q̂_m · k̂_n = (1/K) Σ_{d,d'} q_md k_nd' Σ_k λ_dk λ_d'k cos(φ^Q_dk(p_m) − φ^K_d'k(p_n))
//  spe-sine and fstripe:SFF (noisy; eqs. 5-7): codes multiplied by Gaussian noise Z_d ∈ R^{2K×R}
//      q̄_d = Ω^Q_d diag(λ_d) Z_d / √(2K) / (R·D)^{1/4},   q̂ = Σ_d q_d q̄_d     dim R
//      E[q̄_d(p_m) · k̄_d(p_n)] ∝ Σ_k λ_dk² cos(φ^Q_dk(p_m) − φ^K_dk(p_n))  (cross terms vanish in expectation)
//      gated (SPE's SPEFilter): q̄_d ← √(1−g_d) q̄_d + √g_d ε_d with shared noise ε_d ∈ R^R / (D·R)^{1/4}
//
// sineSPE as in the SPE code: positions are the time index, f = sigmoid(f_raw)/2 cycles per step
// (f_raw ~ N(0,1) − 4: low frequencies), the phase θ on the query side only, λ = softplus(gains)
// with gains ~ N(0,1) normalised. F-StrIPE learns f directly (vector positions allowed), θ on the
// query side, λ = softplus(gains). Noise is redrawn at every forward.
//
// Memory: the B·H·T·D·R tensor of per-dimension codes q̄ is never formed. The pooled codes are
//   q̂ = [q_d Ω_dk]_{(d,k)} @ [λ_dk Z_dk]_{(d,k), r}        (the composed form: one joint-axis matmul)
// computed on the CPU by pooled_noisy_codes, which makes q̄ for 32 steps of a head at a time from
// the phases and pools it, and F-StrIPE RFF's q̂ by pooled_sinusoid_codes; neither keeps a cos / sin table.
#include "attention/positional_encoding.hpp"

#include <cmath>
#include <numbers>

namespace stripes::attention {

namespace {

class SpectralEncoding : public PositionalEncoding {
 public:
  enum class Kind { SineSPE, FStripeRFF, FStripeSFF };

  SpectralEncoding(const PositionalEncodingConfig& config, Kind kind)
      : config_(config), kind_(kind), noise_generator_(std::make_shared<Generator>(config.seed ^ 0x5BE5EEDull)) {
    const int64_t h = config.heads, d = config.head_dim, k = config.num_sines;
    const int64_t l = kind == Kind::SineSPE ? 1 : config.position_dim;
    Generator init(config.seed);
    // raw frequencies [H, D·K, L]; SPE maps them through sigmoid(·)/2, F-StrIPE uses them as they are
    Tensor raw = Tensor::randn({h, d * k, l}, init, config.dtype) - 4.0;
    if (kind != Kind::SineSPE) raw = sigmoid(raw) * 0.5;  // the same initial spectrum, learned directly
    frequencies_ = register_parameter("frequencies", raw);
    phases_ = register_parameter("phases", Tensor::randn({h, d * k}, init, config.dtype));
    // gains ~ N(0,1) / (√‖gains‖_k / 2), as SPE initialises them
    Tensor gains = Tensor::randn({h, d, k}, init, config.dtype);
    gains = gains / (sqrt(sqrt(sum(gains * gains, {-1}, true))) * 0.5);
    gains_ = register_parameter("gains", gains.reshape({h, d * k}));
    if (kind != Kind::FStripeRFF && config.gated) {
      gate_ = register_parameter("gate", Tensor::randn({h, d}, init, config.dtype));
    }
  }

  std::string_view pe_name() const override { return kind_ == Kind::SineSPE ? "spe-sine" : "fstripe"; }
  KernelProperties kernel_properties() const override {
    return {.positive_definite = true, .lag_only = true, .stochastic = kind_ != Kind::FStripeRFF, .uses_positions = true};
  }
  int64_t feature_dim() const override { return kind_ == Kind::FStripeRFF ? 2 * config_.num_sines : config_.realizations; }
  std::shared_ptr<Generator> noise_generator() const override { return noise_generator_; }
  std::string describe() const override {
    return fmt::format("{}(heads {}, D {}, K {}, {}{})", kind_ == Kind::FStripeSFF ? "fstripe:sff" : pe_name(),
                       config_.heads, config_.head_dim, config_.num_sines,
                       kind_ == Kind::FStripeRFF ? "deterministic" : fmt::format("R {}", config_.realizations),
                       gate_.defined() ? ", gated" : "");
  }

  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor& positions) override {
    const int64_t steps = q.size(-2), d = config_.head_dim, sines = config_.num_sines;
    STRIPES_CHECK(q.size(-1) == d, "{}: queries {} do not have head dimension {}", display_name(),
                  q.value().description(), d);
    const Device device = q.value().device();
    const Tensor p = kind_ == Kind::SineSPE ? normalized_positions(Tensor(), steps, q.dtype(), device, 1)
                                            : normalized_positions(positions, steps, q.dtype(), device, config_.position_dim);
    const ag::Var f = kind_ == Kind::SineSPE ? ag::sigmoid(frequencies_) * 0.5 : frequencies_;  // [H, D·K, L]
    const ag::Var base_phase = position_angles(p, f) * (2.0 * std::numbers::pi);              // 2π fᵀp [B|1, H, T, D·K]
    const ag::Var query_phase = base_phase + ag::unsqueeze(phases_, 1);                          // + θ (query side only)
    record("query_phase", query_phase, "spectral", "query phases 2π fᵀp + θ [B, H, T, D·K]");
    record("key_phase", base_phase, "spectral", "key phases 2π fᵀp [B, H, T, D·K]");
    const ag::Var gains = kind_ == Kind::SineSPE || kind_ == Kind::FStripeSFF ? ag::softplus(gains_) : gains_;  // λ [H, D·K]

    if (kind_ == Kind::FStripeRFF) {
      Encoded out{pooled_rff(q, query_phase, gains, sines), pooled_rff(k, base_phase, gains, sines)};
      record("pooled_query", out.query, "fstripe", "pooled F-StrIPE codes q̂ [B, H, T, 2K]");
      record("pooled_key", out.key, "fstripe", "pooled F-StrIPE codes k̂ [B, H, T, 2K]");
      return out;
    }
    // Noise Z [H, D·2K, R] (rows ordered (d, k, cos|sin)), redrawn at every forward, on the queries'
    // device: the counter-based generator draws the same numbers on every device.
    const int64_t r = config_.realizations;
    const Tensor z = Tensor::randn({config_.heads, d * 2 * sines, r}, *noise_generator_, q.dtype(), device);
    record("noise", z, "randn", "SPE noise Z [H, D·2K, R]");
    // weights[(d,k,c), r] = λ_dk Z_(dkc),r / √(2K) / (R·D)^{1/4}, times √(1 − g_d) when gated
    ag::Var lambda2 = ag::reshape(ag::stack({gains, gains}, -1),
                                  {config_.heads, d * 2 * sines, 1});  // λ for cos and sin rows
    double scale = 1.0 / std::sqrt(2.0 * double(sines)) / std::pow(double(r * d), 0.25);
    ag::Var weights = lambda2 * ag::Var(z) * scale;
    ag::Var gate_root, gate_complement_root;
    if (gate_.defined()) {
      const ag::Var g = ag::sigmoid(gate_);                                                  // [H, D]
      gate_root = ag::sqrt(g + 1e-12);
      gate_complement_root = ag::sqrt(1.0 - g + 1e-12);
      const ag::Var per_row = ag::reshape(
          ag::concat(std::vector<ag::Var>(size_t(2 * sines), ag::unsqueeze(gate_complement_root, -1)), -1),
          {config_.heads, d * 2 * sines, 1});
      weights = weights * per_row;
    }
    Tensor gate_noise;
    if (gate_.defined()) {
      gate_noise = Tensor::randn({config_.heads, d, r}, *noise_generator_, q.dtype(), device) *
                   (1.0 / std::pow(double(d * r), 0.25));
      record("gate_noise", gate_noise, "randn", "gated filter noise [H, D, R]");
    }
    Encoded out{pooled_noisy(q, query_phase, weights, gate_root, gate_noise),
                pooled_noisy(k, base_phase, weights, gate_root, gate_noise)};
    record("pooled_query", out.query, "spe", "pooled SPE codes q̂ = Σ_d q_d q̄_d [B, H, T, R]");
    record("pooled_key", out.key, "spe", "pooled SPE codes k̂ [B, H, T, R]");
    return out;
  }

 private:
  // q̂ = Σ_d q_d λ_dk [cos φ_dk, sin φ_dk] / √K   ->  [B, H, T, 2K] ordered (k, cos|sin)
  static ag::Var pooled_rff(const ag::Var& a, const ag::Var& phase, const ag::Var& gains, int64_t sines) {
    return pooled_sinusoid_codes(a, phase, gains * (1.0 / std::sqrt(double(sines))));
  }

  // q̂ = [q_d Ω_dk] @ weights  (+ (q ⊙ √g) @ ε when gated)   ->  [B, H, T, R]
  static ag::Var pooled_noisy(const ag::Var& a, const ag::Var& phase, const ag::Var& weights, const ag::Var& gate_root,
                              const Tensor& gate_noise) {
    // [a_d cos φ_dk, a_d sin φ_dk] over (d, k, cos|sin): [B, H, T, D·2K] @ [H, D·2K, R]
    ag::Var out = pooled_noisy_codes(a, phase, weights);
    if (gate_root.defined()) out = out + ag::matmul(a * ag::unsqueeze(gate_root, 1), ag::Var(gate_noise));
    return out;
  }

  PositionalEncodingConfig config_;
  Kind kind_;
  std::shared_ptr<Generator> noise_generator_;
  ag::Var frequencies_, phases_, gains_, gate_;
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_spectral_encoding(const PositionalEncodingConfig& config) {
  using K = SpectralEncoding::Kind;
  const K kind = config.name == "spe-sine" ? K::SineSPE : config.sff ? K::FStripeSFF : K::FStripeRFF;
  return std::make_shared<SpectralEncoding>(config, kind);
}

}  // namespace stripes::attention
