#include "autograd/gradcheck.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace stripes::ag {

namespace {

Tensor draw_input(const InputSpec& spec, Generator& generator) {
  const int64_t n = shape_numel(spec.shape);
  switch (spec.domain) {
    case InputDomain::Normal: return Tensor::randn(spec.shape, generator, DType::Float64);
    case InputDomain::Positive: return Tensor::rand(spec.shape, generator, DType::Float64, 0.5, 2.0);
    case InputDomain::Probability: return Tensor::rand(spec.shape, generator, DType::Float64, 0.05, 0.95);
    case InputDomain::Mask: return Tensor::bernoulli(spec.shape, 0.5, generator, DType::Float64).to(DType::UInt8);
    case InputDomain::Index: {
      const Tensor u = Tensor::rand(spec.shape, generator, DType::Float64);
      std::vector<int64_t> values(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        values[size_t(i)] = std::min<int64_t>(spec.index_limit - 1, int64_t(u.flatten().at({i}) * double(spec.index_limit)));
      }
      return Tensor::from_vector(values, spec.shape);
    }
    case InputDomain::Distinct: {
      // 0.1 * (a random permutation of 0..n-1) - centred: distinct values, gaps of 0.1 ≫ h.
      const Tensor keys = Tensor::rand({n}, generator, DType::Float64);
      std::vector<int64_t> order(static_cast<size_t>(n));
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return keys.at({a}) < keys.at({b}); });
      std::vector<double> values(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) values[size_t(order[size_t(i)])] = 0.1 * double(i) - 0.05 * double(n);
      return Tensor::from_vector(values, spec.shape);
    }
  }
  throw_error("gradcheck: unknown input domain");
}

// L = Σ f(x) ⊙ R, evaluated without recording.
double weighted_output(const GradcheckCase& check, const std::vector<Tensor>& inputs, const Tensor& weights, Device device) {
  NoGradGuard no_grad;
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t.to(device));
  const Tensor y = check.function(vars).value();
  return sum(mul(y, weights)).item();
}

}  // namespace

GradcheckResult run_gradcheck(const GradcheckCase& check, uint64_t seed, Device device) {
  GradcheckResult result;
  result.op = check.op;
  result.label = check.label;
  try {
    Generator generator(seed);
    std::vector<Tensor> inputs;
    std::vector<Var> vars;
    for (const InputSpec& spec : check.inputs) {
      inputs.push_back(draw_input(spec, generator));
      vars.emplace_back(inputs.back().to(device), spec.differentiable());
    }
    const Var y = check.function(vars);
    STRIPES_CHECK(y.dtype() == DType::Float64, "gradcheck {}: output is {}, expected float64", check.op,
                  y.value().description());
    const Tensor weights = Tensor::randn(y.shape(), generator, DType::Float64, device);
    y.backward(weights);
    // Central differences carry an absolute rounding error of about ε|L|/h. No element is held to
    // a precision finer than 10× that error (relative to the tolerance).
    const double rounding = 2.2e-16 * std::abs(sum(mul(y.value(), weights)).item()) / check.step;
    const double noise_floor = 10.0 * rounding / check.tolerance;

    for (size_t i = 0; i < check.inputs.size(); ++i) {
      if (!check.inputs[i].differentiable()) continue;
      const Tensor analytic =
          vars[i].grad().defined() ? vars[i].grad().to(Device::CPU) : Tensor::zeros(inputs[i].shape(), DType::Float64);
      STRIPES_CHECK(analytic.shape() == inputs[i].shape(), "gradcheck {}: gradient of input {} has shape {}, input {}",
                    check.op, i, shape_str(analytic.shape()), shape_str(inputs[i].shape()));
      const std::vector<double> analytic_values = analytic.to_vector<double>();
      // Errors are relative to the element, but never to less than 1e-3 of this input's largest
      // gradient nor to less than the finite differences can resolve.
      const double floor = std::max(1e-3 * std::max(1.0, max_abs(analytic)), noise_floor);
      Tensor x = inputs[i].clone();
      inputs[i] = x;
      double* element = x.mutable_data<double>();
      for (int64_t e = 0; e < x.numel(); ++e) {
        const double original = element[e];
        bool near_kink = false;
        for (double kink : check.kinks) near_kink = near_kink || std::abs(original - kink) < check.kink_width;
        if (near_kink) {
          ++result.masked;
          continue;
        }
        element[e] = original + check.step;
        const double plus = weighted_output(check, inputs, weights, device);
        element[e] = original - check.step;
        const double minus = weighted_output(check, inputs, weights, device);
        element[e] = original;
        const double numeric = (plus - minus) / (2.0 * check.step);
        const double a = analytic_values[size_t(e)];
        const double error = std::abs(a - numeric) / std::max({std::abs(a), std::abs(numeric), floor});
        ++result.checked;
        if (!(error <= result.max_error)) {  // also catches NaN
          result.max_error = std::isnan(error) ? INFINITY : error;
          result.failure = fmt::format("input {} element {}: analytic {:.9g}, numeric {:.9g}", i, e, a, numeric);
        }
      }
    }
    result.passed = result.max_error <= check.tolerance && result.checked > 0;
    if (result.checked == 0) result.failure = "no element was checked";
  } catch (const std::exception& e) {
    result.passed = false;
    result.max_error = INFINITY;
    result.failure = e.what();
  }
  return result;
}

const GradcheckRegistry& builtin_gradchecks() {
  static const GradcheckRegistry registry = [] {
    GradcheckRegistry r;
    register_arithmetic_gradchecks(r);
    register_math_function_gradchecks(r);
    register_activation_gradchecks(r);
    register_matmul_gradchecks(r);
    register_shape_gradchecks(r);
    register_indexing_gradchecks(r);
    register_reduction_gradchecks(r);
    register_cumsum_gradchecks(r);
    register_softmax_gradchecks(r);
    register_layer_norm_gradchecks(r);
    register_dropout_gradchecks(r);
    register_loss_gradchecks(r);
    return r;
  }();
  return registry;
}

}  // namespace stripes::ag
