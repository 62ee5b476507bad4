#include "nn/dropout.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"

namespace stripes::nn {

Dropout::Dropout(double p, std::shared_ptr<Generator> generator) : p_(p), generator_(std::move(generator)) {
  STRIPES_CHECK(p >= 0.0 && p < 1.0, "Dropout: probability {} is outside [0, 1)", p);
  STRIPES_CHECK(p == 0.0 || generator_ != nullptr, "Dropout: p = {} needs a generator", p);
}

std::string Dropout::describe() const { return fmt::format("Dropout(p {:g})", p_); }

ag::Var Dropout::forward(const ag::Var& x) {
  if (!training() || p_ == 0.0) return x;
  return ag::dropout(x, p_, *generator_, true);
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_dropout_module_gradchecks(ag::GradcheckRegistry& registry) {
  // The generator is re-seeded before each evaluation, so every evaluation draws the same mask.
  auto generator = std::make_shared<Generator>(5);
  registry.add(module_gradcheck(
      "nn.Dropout", "x [3, 4], p 0.25, fixed mask", [generator] { return std::make_shared<Dropout>(0.25, generator); },
      {ag::normal({3, 4})}, [generator](Dropout& m, const std::vector<ag::Var>& in) {
        generator->set_state(5, 0);
        return m.forward(in[0]);
      }));
}

}  // namespace stripes::nn
