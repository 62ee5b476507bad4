// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016), as a module.
//
//   y = (x − mean(x)) / √(var(x) + ε) ⊙ w + b      x, y: [..., C]   w, b: [C]
//
// Initialisation: w = 1, b = 0. Records its output as "<name>.out".
#pragma once

#include "nn/module.hpp"

namespace stripes::nn {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t channels, double eps = 1e-5, DType dtype = DType::Float32);

  ag::Var forward(const ag::Var& x);
  std::string describe() const override;

  const ag::Var& weight() const { return weight_; }
  const ag::Var& bias() const { return bias_; }

 private:
  int64_t channels_;
  double eps_;
  ag::Var weight_, bias_;
};

}  // namespace stripes::nn
