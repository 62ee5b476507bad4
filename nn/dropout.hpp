// Dropout as a module: identity in eval mode or with p = 0; in training mode each element is
// zeroed with probability p and the rest scaled by 1/(1 − p) (ag::dropout), the mask drawn from
// the seeded generator the module was given. Modules that share one generator (the usual case:
// one "dropout" generator per model, saved in checkpoints) draw from it in call order, so a run
// is reproducible from its seed and the generator's (seed, offset).
#pragma once

#include "nn/module.hpp"

#include <memory>

namespace stripes::nn {

class Dropout : public Module {
 public:
  // `generator` may be null only when p == 0.
  Dropout(double p, std::shared_ptr<Generator> generator);

  ag::Var forward(const ag::Var& x);
  std::string describe() const override;
  double p() const { return p_; }

 private:
  double p_;
  std::shared_ptr<Generator> generator_;
};

}  // namespace stripes::nn
