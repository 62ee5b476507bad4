// NoPE and APE (method.md §2.1): no position inside attention. NoPE uses no positional
// information at all; APE adds the absolute sinusoidal embedding PE(t) to the model's input
// (see sinusoidal_position_embedding), so inside attention both pass q and k through unchanged.
#include "attention/positional_encoding.hpp"

#include <cmath>

namespace stripes::attention {

namespace {

class IdentityEncoding : public PositionalEncoding {
 public:
  IdentityEncoding(const PositionalEncodingConfig& config, bool absolute) : config_(config), absolute_(absolute) {}
  std::string_view pe_name() const override { return absolute_ ? "ape" : "nope"; }
  KernelProperties kernel_properties() const override {
    return {.positive_definite = true, .lag_only = !absolute_, .stochastic = false, .uses_positions = absolute_};
  }
  int64_t feature_dim() const override { return config_.head_dim; }
  std::string describe() const override { return std::string(pe_name()); }
  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor&) override { return {q, k}; }

 private:
  PositionalEncodingConfig config_;
  bool absolute_;
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_identity_encoding(const PositionalEncodingConfig& config) {
  return std::make_shared<IdentityEncoding>(config, config.name == "ape");
}

// PE(t, 2i) = sin(t / base^{2i/d}),  PE(t, 2i+1) = cos(t / base^{2i/d})
// Tabulated on the host in float64 (positions copied there if need be), then converted to `dtype`
// and copied back to the positions' device.
Tensor sinusoidal_position_embedding(const Tensor& positions, int64_t model_dim, double base, DType dtype) {
  STRIPES_CHECK(positions.dim() == 2, "sinusoidal_position_embedding: positions {} must be [B, T]", positions.description());
  const Tensor p = positions.to(Device::CPU).to(DType::Float64).contiguous();
  Tensor out = Tensor::empty({p.size(0), p.size(1), model_dim}, DType::Float64);
  const double* pp = p.data<double>();
  double* po = out.mutable_data<double>();
  for (int64_t i = 0; i < p.numel(); ++i) {
    for (int64_t c = 0; c < model_dim; ++c) {
      const double angle = pp[i] / std::pow(base, double(2 * (c / 2)) / double(model_dim));
      po[i * model_dim + c] = c % 2 == 0 ? std::sin(angle) : std::cos(angle);
    }
  }
  return out.to(dtype).to(positions.device());
}

}  // namespace stripes::attention
