// One generic finite-difference gradient checker, in float64, for every differentiable op.
//
// For a case f with inputs x_1..x_k it draws the inputs (seeded), a random output weighting R,
// and compares the backward pass of  L = Σ f(x) ⊙ R  with central differences
//   ∂L/∂x_i ≈ (L(x_i + h) − L(x_i − h)) / 2h
// element by element. The error of one element is |analytic − numeric| / max(|analytic|,
// |numeric|, floor) — relative, with floor = max(1e-3·max(1, max_i |analytic_i|), 10 ε|L| / (h·tol)):
// never relative to less than a thousandth of that input's largest gradient, nor to less than
// what central differences can resolve (their rounding error is about ε|L|/h, ε = 2.2e-16).
// A case passes when the largest error is below its tolerance. Elements within
// `kink_width` of a kink of a relu-like op are masked (the derivative jumps there, so central
// differences are meaningless) and counted in the report.
#pragma once

#include "autograd/variable.hpp"

#include <functional>
#include <string>
#include <vector>

namespace stripes::ag {

enum class InputDomain {
  Normal,       // N(0, 1)
  Positive,     // U[0.5, 2): for log, sqrt, pow, division
  Distinct,     // a shuffled grid with gaps of 0.1: no ties (max)
  Probability,  // U[0.05, 0.95), not differentiated (BCE targets)
  Index,        // int64 in [0, index_limit), not differentiated
  Mask,         // uint8 0/1, not differentiated
};

struct InputSpec {
  Shape shape;
  InputDomain domain = InputDomain::Normal;
  int64_t index_limit = 0;
  bool differentiable() const {
    return domain == InputDomain::Normal || domain == InputDomain::Positive || domain == InputDomain::Distinct;
  }
};

inline InputSpec normal(Shape s) { return {std::move(s), InputDomain::Normal}; }
inline InputSpec positive(Shape s) { return {std::move(s), InputDomain::Positive}; }
inline InputSpec distinct(Shape s) { return {std::move(s), InputDomain::Distinct}; }
inline InputSpec probability(Shape s) { return {std::move(s), InputDomain::Probability}; }
inline InputSpec indices(Shape s, int64_t limit) { return {std::move(s), InputDomain::Index, limit}; }
inline InputSpec mask(Shape s) { return {std::move(s), InputDomain::Mask}; }

struct GradcheckCase {
  std::string op;                 // the op's name; the report has one line per op
  std::string label;              // what this case exercises, e.g. "[2,3] * [3] (broadcast)"
  std::vector<InputSpec> inputs;
  std::function<Var(const std::vector<Var>&)> function;
  double tolerance = 1e-6;
  double step = 1e-6;             // h of the central difference
  std::vector<double> kinks;      // input values where the op's derivative jumps (relu: 0)
  double kink_width = 1e-3;       // mask elements closer than this to a kink
};

struct GradcheckResult {
  std::string op;
  std::string label;
  double max_error = 0.0;
  int64_t checked = 0;   // elements compared
  int64_t masked = 0;    // elements skipped by the kink mask
  bool passed = false;
  std::string failure;   // where the largest error was, or the exception message
};

// `device`: where the function runs (inputs are drawn and perturbed on the host, then copied);
// Device::CUDA checks the CUDA kernels' backward rules in float64.
GradcheckResult run_gradcheck(const GradcheckCase& check, uint64_t seed = 0, Device device = Device::CPU);

class GradcheckRegistry {
 public:
  void add(GradcheckCase check) { cases_.push_back(std::move(check)); }
  const std::vector<GradcheckCase>& cases() const { return cases_; }

 private:
  std::vector<GradcheckCase> cases_;
};

// Every primitive op of autograd/ops.hpp, with several shapes each (broadcasting included).
const GradcheckRegistry& builtin_gradchecks();

// Each op family registers its own cases next to its code (autograd/ops/*.cpp).
void register_arithmetic_gradchecks(GradcheckRegistry& registry);
void register_math_function_gradchecks(GradcheckRegistry& registry);
void register_activation_gradchecks(GradcheckRegistry& registry);
void register_matmul_gradchecks(GradcheckRegistry& registry);
void register_shape_gradchecks(GradcheckRegistry& registry);
void register_indexing_gradchecks(GradcheckRegistry& registry);
void register_reduction_gradchecks(GradcheckRegistry& registry);
void register_cumsum_gradchecks(GradcheckRegistry& registry);
void register_softmax_gradchecks(GradcheckRegistry& registry);
void register_layer_norm_gradchecks(GradcheckRegistry& registry);
void register_dropout_gradchecks(GradcheckRegistry& registry);
void register_loss_gradchecks(GradcheckRegistry& registry);

}  // namespace stripes::ag
