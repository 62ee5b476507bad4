// The position-wise feed-forward block of a Transformer layer.
//
//   h = act(x W₁ᵀ + b₁)        x: [..., D]   W₁: [F, D]   h: [..., F]
//   y = dropout(h) W₂ᵀ + b₂    W₂: [D, F]    y: [..., D]
//
// act is ReLU (StrIPE's configs) or GELU (exact erf form). Children: linear1, dropout, linear2.
// Records "<name>.hidden" (h) and "<name>.out" (y).
#pragma once

#include "nn/dropout.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"

#include <memory>
#include <string_view>

namespace stripes::nn {

enum class Activation { ReLU, GELU };
std::string_view activation_name(Activation activation);  // "relu" | "gelu"
Activation parse_activation(std::string_view name);        // throws on anything else
ag::Var apply_activation(Activation activation, const ag::Var& x);

class FeedForward : public Module {
 public:
  FeedForward(int64_t d_model, int64_t d_ff, Activation activation, double dropout, Generator& init,
              std::shared_ptr<Generator> dropout_generator, DType dtype = DType::Float32);

  ag::Var forward(const ag::Var& x);
  std::string describe() const override;

 private:
  Activation activation_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<Dropout> dropout_;
};

}  // namespace stripes::nn
