// Optimizers: Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019), as in PyTorch.
//
// For each parameter θ with gradient g, at step t = 1, 2, ...  (all elementwise):
//   Adam   g ← g + λ θ                          (L2 penalty folded into the gradient; λ = weight_decay)
//   AdamW  θ ← θ − η λ θ                        (decoupled weight decay)
//   m ← β₁ m + (1 − β₁) g                       first moment
//   v ← β₂ v + (1 − β₂) g²                      second moment
//   m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)        bias corrections
//   θ ← θ − η m̂ / (√v̂ + ε)
// m and v are zero at the start, one pair per parameter, with its shape and dtype; arithmetic is in
// the parameter's dtype. A parameter without a gradient this step (not reached by backward) is
// left alone, moments included; t counts optimizer steps.
//
// Updates go through ag::Var::mutable_value(), which bumps the storage version: a graph built
// before the update refuses to run backward afterwards (correct: its saved values are stale).
//
// Checkpoints (nn/checkpoint.hpp) store the state under a group: attributes type, learning_rate,
// beta1, beta2, eps, weight_decay, step_count, and datasets m/<param path>, v/<param path>.
#pragma once

#include "nn/module.hpp"
#include "tensor/io/hdf5_file.hpp"

#include <string>
#include <vector>

namespace stripes::nn {

class Optimizer {
 public:
  explicit Optimizer(NamedParameters parameters);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  virtual std::string type() const = 0;
  void zero_grad();  // drops every parameter's gradient

  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double learning_rate) { learning_rate_ = learning_rate; }
  int64_t step_count() const { return step_count_; }
  const NamedParameters& parameters() const { return parameters_; }

  // Writes / reads the whole state under `group` ("/optimizer"). Loading checks the type, every
  // parameter's state (present, same shape and dtype) and throws naming the parameter.
  virtual void save_state(io::Hdf5File& file, const std::string& group) const = 0;
  virtual void load_state(const io::Hdf5File& file, const std::string& group) = 0;

 protected:
  NamedParameters parameters_;
  double learning_rate_ = 1e-3;
  int64_t step_count_ = 0;
};

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class Adam : public Optimizer {
 public:
  Adam(NamedParameters parameters, AdamOptions options = {});
  void step() override;
  std::string type() const override { return decoupled_weight_decay_ ? "adamw" : "adam"; }
  const AdamOptions& options() const { return options_; }
  // The moments of parameter i (named_parameters order).
  const Tensor& first_moment(size_t i) const { return m_.at(i); }
  const Tensor& second_moment(size_t i) const { return v_.at(i); }

  void save_state(io::Hdf5File& file, const std::string& group) const override;
  void load_state(const io::Hdf5File& file, const std::string& group) override;

 protected:
  Adam(NamedParameters parameters, AdamOptions options, bool decoupled_weight_decay);

 private:
  AdamOptions options_;
  bool decoupled_weight_decay_;
  std::vector<Tensor> m_, v_;
};

// Adam with decoupled weight decay. PyTorch's default weight_decay for AdamW is 0.01.
class AdamW : public Adam {
 public:
  AdamW(NamedParameters parameters, AdamOptions options = {.weight_decay = 0.01})
      : Adam(std::move(parameters), options, true) {}
};

}  // namespace stripes::nn
