#include "nn/linear.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"

#include <cmath>

namespace stripes::nn {

Linear::Linear(int64_t in_features, int64_t out_features, Generator& init, bool bias, DType dtype)
    : in_features_(in_features), out_features_(out_features) {
  STRIPES_CHECK(in_features > 0 && out_features > 0, "Linear: sizes must be positive, got {} -> {}", in_features,
                out_features);
  const double bound = 1.0 / std::sqrt(double(in_features));
  weight_ = register_parameter("weight", Tensor::rand({out_features, in_features}, init, dtype, -bound, bound));
  if (bias) bias_ = register_parameter("bias", Tensor::rand({out_features}, init, dtype, -bound, bound));
}

std::string Linear::describe() const {
  return fmt::format("Linear({} -> {}{})", in_features_, out_features_, bias_.defined() ? ", bias" : "");
}

// y = x Wᵀ + b, as one GEMM over all leading positions: [N, in] @ [in, out] with Wᵀ a transposed
// view (read in place by matmul).
ag::Var Linear::forward(const ag::Var& x) {
  if (x.dim() < 1 || x.size(-1) != in_features_) {
    fail(fmt::format("input {} must end in {} features", x.value().description(), in_features_));
  }
  if (x.dtype() != weight_.dtype()) {
    fail(fmt::format("input {} has dtype {}, the weight {}", x.value().description(), dtype_name(x.dtype()),
                     dtype_name(weight_.dtype())));
  }
  Shape out_shape = x.shape();
  out_shape.back() = out_features_;
  const ag::Var rows = x.dim() == 2 ? x : ag::reshape(x, {x.numel() / in_features_, in_features_});
  ag::Var y = ag::matmul(rows, ag::transpose(weight_, 0, 1));
  if (bias_.defined()) y = y + bias_;
  return x.dim() == 2 ? y : ag::reshape(y, out_shape);
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_linear_gradchecks(ag::GradcheckRegistry& registry) {
  registry.add(module_gradcheck(
      "nn.Linear", "x [2, 3, 4] -> [2, 3, 5], with bias", [] {
        Generator init(1);
        return std::make_shared<Linear>(4, 5, init, true, DType::Float64);
      },
      {ag::normal({2, 3, 4})}, [](Module& m, const std::vector<ag::Var>& in) { return static_cast<Linear&>(m).forward(in[0]); }));
  registry.add(module_gradcheck(
      "nn.Linear", "x [3, 4] -> [3, 2], no bias", [] {
        Generator init(2);
        return std::make_shared<Linear>(4, 2, init, false, DType::Float64);
      },
      {ag::normal({3, 4})}, [](Module& m, const std::vector<ag::Var>& in) { return static_cast<Linear&>(m).forward(in[0]); }));
}

}  // namespace stripes::nn
