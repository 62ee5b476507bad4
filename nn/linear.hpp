// Linear (affine) layer, stored like PyTorch's nn.Linear.
//
//   y = x Wᵀ + b        x: [..., in]   W: [out, in]   b: [out]   y: [..., out]
//
// Initialisation (PyTorch's default): W, b ~ U(−1/√in, 1/√in), drawn from the seeded `init`
// generator (weight first, then bias).
#pragma once

#include "nn/module.hpp"

namespace stripes::nn {

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Generator& init, bool bias = true,
         DType dtype = DType::Float32);

  ag::Var forward(const ag::Var& x);
  std::string describe() const override;

  int64_t in_features() const { return in_features_; }
  int64_t out_features() const { return out_features_; }
  const ag::Var& weight() const { return weight_; }
  const ag::Var& bias() const { return bias_; }  // undefined without bias

 private:
  int64_t in_features_, out_features_;
  ag::Var weight_, bias_;
};

}  // namespace stripes::nn
