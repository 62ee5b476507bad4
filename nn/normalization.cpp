#include "nn/normalization.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"

namespace stripes::nn {

LayerNorm::LayerNorm(int64_t channels, double eps, DType dtype) : channels_(channels), eps_(eps) {
  STRIPES_CHECK(channels > 0, "LayerNorm: channels must be positive, got {}", channels);
  weight_ = register_parameter("weight", Tensor::ones({channels}, dtype));
  bias_ = register_parameter("bias", Tensor::zeros({channels}, dtype));
}

std::string LayerNorm::describe() const { return fmt::format("LayerNorm({}, eps {:g})", channels_, eps_); }

ag::Var LayerNorm::forward(const ag::Var& x) {
  if (x.dim() < 1 || x.size(-1) != channels_) {
    fail(fmt::format("input {} must end in {} channels", x.value().description(), channels_));
  }
  ag::Var y = ag::layer_norm(x, weight_, bias_, eps_);
  record("out", y, "layer_norm", "layer-normalised output (x - mean) / std * weight + bias");
  return y;
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_layer_norm_module_gradchecks(ag::GradcheckRegistry& registry) {
  registry.add(module_gradcheck(
      "nn.LayerNorm", "x [2, 3, 4]", [] { return std::make_shared<LayerNorm>(4, 1e-5, DType::Float64); },
      {ag::normal({2, 3, 4})}, [](LayerNorm& m, const std::vector<ag::Var>& in) { return m.forward(in[0]); }));
}

}  // namespace stripes::nn
