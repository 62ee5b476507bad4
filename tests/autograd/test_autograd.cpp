// Autograd: every registered op passes the finite-difference checker; the checker catches wrong
// rules; tape semantics (accumulation, no-grad, retain_graph, in-place detection) hold.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

#include "tests/support/expect_error.hpp"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <set>

using namespace stripes;
using namespace stripes::ag;

namespace {

const auto expect_message = stripes::testing::expect_error_message;

Var leaf(const Shape& shape, uint64_t seed, bool requires_grad = true) {
  Generator g(seed);
  return Var(Tensor::randn(shape, g, DType::Float64), requires_grad);
}

}  // namespace

// One test per registered case, so a failure names the op and shape.
class BuiltinGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(BuiltinGradcheck, BackwardMatchesFiniteDifferences) {
  const GradcheckCase& check = builtin_gradchecks().cases()[GetParam()];
  for (uint64_t seed : {0u, 1u}) {
    const GradcheckResult result = run_gradcheck(check, seed);
    EXPECT_TRUE(result.passed) << check.op << " " << check.label << " seed " << seed << ": max error "
                               << result.max_error << " (" << result.failure << ")";
    EXPECT_GT(result.checked, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, BuiltinGradcheck, ::testing::Range<size_t>(0, builtin_gradchecks().cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string name = builtin_gradchecks().cases()[info.param].op + "_" + std::to_string(info.param);
                           for (char& c : name) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return name;
                         });

TEST(Gradcheck, EveryOpOfTheIssueIsRegistered) {
  std::set<std::string> registered;
  for (const auto& c : builtin_gradchecks().cases()) registered.insert(c.op);
  for (const char* op : {"add", "sub", "mul", "div", "neg", "exp", "log", "sqrt", "pow", "sin", "cos", "tanh", "sigmoid",
                         "softplus", "relu", "gelu", "elu", "matmul", "transpose", "permute", "reshape", "slice", "concat",
                         "embedding", "gather", "sum", "mean", "max", "cumsum", "where", "masked_fill", "softmax",
                         "log_softmax", "layer_norm", "dropout", "binary_cross_entropy_with_logits", "cross_entropy"}) {
    EXPECT_TRUE(registered.count(op)) << op << " has no gradient check";
  }
}

// A planted wrong rule: d/dx sin x written as +sin x instead of cos x.
static Var sin_with_wrong_backward(const Var& x) {
  SavedTensor saved(x.value(), "wrong_sin", "x");
  return make_result("wrong_sin", sin(x.value()), {x},
                     [saved](BackwardContext& ctx) { ctx.grad_input(0).add_(ctx.grad_output() * sin(saved.get())); });
}

// A planted accumulation bug: the gradient is assigned, not added, so x * x loses one path.
static Var square_that_overwrites(const Var& x) {
  SavedTensor saved(x.value(), "overwriting_mul", "x");
  return make_result("overwriting_mul", x.value() * x.value(), {x, x}, [saved](BackwardContext& ctx) {
    ctx.grad_input(0) = ctx.grad_output() * saved.get();  // should be += for each of the two inputs
    ctx.grad_input(1) = ctx.grad_output() * saved.get();
  });
}

// A planted broadcasting bug: forgets that b was broadcast and adds the gradient of its first row.
static Var add_that_ignores_broadcast(const Var& a, const Var& b) {
  return make_result("bad_broadcast_add", a.value() + b.value(), {a, b}, [](BackwardContext& ctx) {
    ctx.grad_input(0).add_(ctx.grad_output());
    Tensor& gb = ctx.grad_input(1);
    gb.add_(ctx.grad_output().select(0, 0));
  });
}

TEST(Gradcheck, CatchesPlantedWrongBackwardRules) {
  const GradcheckResult wrong_rule =
      run_gradcheck({"wrong_sin", "[4]", {normal({4})}, [](const std::vector<Var>& v) { return sin_with_wrong_backward(v[0]); }});
  EXPECT_FALSE(wrong_rule.passed);
  EXPECT_GT(wrong_rule.max_error, 1e-2);
  const GradcheckResult overwrite = run_gradcheck(
      {"overwriting_mul", "[3]", {normal({3})}, [](const std::vector<Var>& v) { return square_that_overwrites(v[0]); }});
  EXPECT_FALSE(overwrite.passed);
  const GradcheckResult broadcast = run_gradcheck({"bad_broadcast_add", "[3, 2] + [2]", {normal({3, 2}), normal({2})},
                                                   [](const std::vector<Var>& v) { return add_that_ignores_broadcast(v[0], v[1]); }});
  EXPECT_FALSE(broadcast.passed);
}

TEST(Gradcheck, KinkMaskSkipsElementsAtTheKink) {
  GradcheckCase on_kink{"relu", "on the kink", {normal({3})}, [](const std::vector<Var>& v) { return relu(v[0] - v[0]); }};
  on_kink.kinks = {0.0};
  on_kink.kink_width = 10.0;  // every element is "near" the kink: all masked, nothing checked
  const GradcheckResult masked = run_gradcheck(on_kink);
  EXPECT_EQ(masked.masked, 3);
  EXPECT_EQ(masked.checked, 0);
  EXPECT_FALSE(masked.passed) << "a case that checks nothing must not pass";
}

TEST(Tape, GradientsAccumulateAcrossBackwardCalls) {
  Var x = leaf({3}, 1);
  sum(x * x).backward();
  const Tensor first = x.grad().clone();
  sum(x * x).backward();
  EXPECT_LT(max_abs(x.grad() - first * 2.0), 1e-12);
  EXPECT_LT(max_abs(first - x.value() * 2.0), 1e-12);
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Tape, SharedSubexpressionsSumBothPaths) {
  Var x = leaf({4}, 2);
  Var y = exp(x);
  Var z = sum(y * y + y);  // dz/dx = 2e^{2x} + e^x
  z.backward();
  const Tensor expected = exp(x.value() * 2.0) * 2.0 + exp(x.value());
  EXPECT_LT(max_abs(x.grad() - expected), 1e-12);
}

TEST(Tape, NoGradGuardRecordsNothing) {
  Var x = leaf({3}, 3);
  {
    NoGradGuard no_grad;
    Var y = exp(x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  EXPECT_TRUE(exp(x).requires_grad());
  EXPECT_FALSE(exp(leaf({3}, 3, false)).requires_grad());
}

TEST(Tape, SecondBackwardNeedsRetainGraph) {
  Var x = leaf({3}, 4);
  Var loss = sum(sin(x));
  loss.backward();
  expect_message([&] { loss.backward(); }, {"already freed", "retain_graph"});
  Var x2 = leaf({3}, 4);
  Var loss2 = sum(sin(x2));
  loss2.backward(true);
  loss2.backward();
  EXPECT_LT(max_abs(x2.grad() - cos(x2.value()) * 2.0), 1e-12);
}

TEST(Tape, InPlaceModificationOfASavedTensorIsDetected) {
  Var x = leaf({3}, 5);
  Var y = sin(x);  // saves x
  Var loss = sum(y);
  x.mutable_value().add_(Tensor::ones({3}, DType::Float64));  // e.g. an optimizer step before backward
  expect_message([&] { loss.backward(); }, {"sin", "'x'", "modified in place"});
}

TEST(Tape, RetainGradKeepsAnIntermediateGradient) {
  Var x = leaf({2, 3}, 6);
  Var h = x * 3.0;
  h.retain_grad();
  sum(h * h).backward();
  EXPECT_LT(max_abs(h.grad() - h.value() * 2.0), 1e-12);
}

TEST(Tape, BackwardErrors) {
  Var x = leaf({3}, 7);
  expect_message([&] { exp(x).backward(); }, {"not a scalar"});
  expect_message([&] { sum(leaf({3}, 7, false)).backward(); }, {"does not require grad"});
  expect_message([&] { matmul(x, x); }, {"matmul"});
  expect_message([&] { layer_norm(leaf({2, 4}, 1), leaf({3}, 1), leaf({4}, 1)); }, {"layer_norm", "[4]"});
  expect_message([&] { cross_entropy(leaf({2, 3}, 1), Tensor::from_vector<int64_t>({0, 3}, {2})); }, {"index 3"});
}

TEST(Losses, MatchTheirDefinitions) {
  // BCE with logits against the direct formula on moderate logits.
  Tensor z = Tensor::from_vector<double>({-2.0, 0.5, 3.0}, {3});
  Tensor y = Tensor::from_vector<double>({0.0, 1.0, 0.25}, {3});
  double expected = 0;
  for (int i = 0; i < 3; ++i) {
    const double p = 1.0 / (1.0 + std::exp(-z.at({i})));
    expected -= y.at({i}) * std::log(p) + (1 - y.at({i})) * std::log(1 - p);
  }
  EXPECT_NEAR(binary_cross_entropy_with_logits(Var(z), y).item(), expected / 3, 1e-12);
  // Huge logits stay finite.
  EXPECT_TRUE(std::isfinite(binary_cross_entropy_with_logits(Var(z * 1e4), y).item()));
  // Cross-entropy of uniform logits is ln C.
  EXPECT_NEAR(cross_entropy(Var(Tensor::zeros({4, 5}, DType::Float64)), Tensor::from_vector<int64_t>({0, 1, 2, 3}, {4})).item(),
              std::log(5.0), 1e-12);
}

TEST(Dropout, KeepsExpectationAndIsIdentityInEval) {
  Generator g(9);
  Var x(Tensor::ones({100000}, DType::Float64));
  const Var y = dropout(x, 0.25, g);
  EXPECT_NEAR(mean(y).item(), 1.0, 0.02);
  EXPECT_EQ(dropout(x, 0.25, g, false).data(), x.data());
}

// The one-pass CPU dropout draws the mask Tensor::bernoulli would draw from the same generator
// state (what checkpoints and earlier runs rely on), for float32 and float64, and a transposed
// (non-contiguous) input takes the composed path with the same result.
TEST(Dropout, OnePassMaskEqualsBernoulliMask) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator data(3);
    const Tensor x = Tensor::randn({37, 129}, data, dtype);
    Generator fused(11), composed(11);
    fused.reserve(5);
    composed.reserve(5);
    const Var y = dropout(Var(x), 0.3, fused);
    const Tensor expected = x * (Tensor::bernoulli(x.shape(), 0.7, composed, dtype) * (1.0 / 0.7));
    EXPECT_EQ(y.value().to(DType::Float64).to_vector<double>(), expected.to(DType::Float64).to_vector<double>()) << dtype_name(dtype);
    EXPECT_EQ(fused.offset(), composed.offset());
    Generator transposed(11);
    transposed.reserve(5);
    const Tensor xt = x.transpose(0, 1);
    Generator composed_t(11);
    composed_t.reserve(5);
    EXPECT_EQ(dropout(Var(xt), 0.3, transposed).value().to(DType::Float64).to_vector<double>(),
              (xt * (Tensor::bernoulli(xt.shape(), 0.7, composed_t, dtype) * (1.0 / 0.7))).to(DType::Float64).to_vector<double>());
  }
}

// Bernoulli's integer threshold gives exactly the mask of comparing the double uniform with p.
TEST(Random, BernoulliEqualsUniformBelowP) {
  for (double p : {0.0, 0.05, 0.3, 1.0 / 3.0, 0.9, 1.0}) {
    Generator a(21), b(21);
    const std::vector<double> mask = Tensor::bernoulli({5000}, p, a, DType::Float64).to_vector<double>();
    const std::vector<double> u = Tensor::rand({5000}, b, DType::Float64).to_vector<double>();
    for (size_t i = 0; i < u.size(); ++i) ASSERT_EQ(mask[i], u[i] < p ? 1.0 : 0.0) << "p " << p << " element " << i;
  }
}

// The fused CPU layer norm (one pass per row) against the composed tensor-op form it replaced:
// forward y, x̂, r and the gradients ∂x, ∂w, ∂b, on random inputs with a row count that is not a
// multiple of the kernel's 64-row blocks, in float64 and float32.
TEST(LayerNorm, FusedKernelsMatchTheComposedForm) {
  for (DType dtype : {DType::Float64, DType::Float32}) {
    Generator generator(31);
    const Tensor x = Tensor::randn({3, 71, 37}, generator, dtype) * 2.0 + 0.5;
    const Tensor weight = Tensor::randn({37}, generator, dtype);
    const Tensor bias = Tensor::randn({37}, generator, dtype);
    const Tensor grad_y = Tensor::randn({3, 71, 37}, generator, dtype);
    const LayerNormComparison result = compare_layer_norm_fused_with_composed(x, weight, bias, grad_y);
    const char* names[] = {"y", "x_hat", "r", "grad_x", "grad_weight", "grad_bias"};
    const double tolerance = dtype == DType::Float64 ? 1e-12 : 1e-5;
    for (size_t i = 0; i < 6; ++i) {
      const Tensor& fused = result.fused[i];
      const Tensor& composed = result.composed[i];
      ASSERT_EQ(fused.shape(), composed.shape()) << names[i];
      EXPECT_GT(max_abs(composed), 0.0) << names[i];
      EXPECT_LT(stripes::test::norm_relative_error(fused, composed), tolerance) << names[i] << " " << dtype_name(dtype);
    }
  }
}

// The fused CPU BCE-with-logits (one pass forward, one backward) against the composed form, on
// logits that reach far into both tails, with soft targets, in float64 and float32.
TEST(BinaryCrossEntropy, FusedKernelsMatchTheComposedForm) {
  for (DType dtype : {DType::Float64, DType::Float32}) {
    Generator generator(41);
    const Tensor logits = Tensor::randn({5, 1000, 7}, generator, dtype) * 8.0;
    const Tensor targets = Tensor::rand({5, 1000, 7}, generator, dtype);
    const BceComparison result = compare_bce_fused_with_composed(logits, targets);
    const double tolerance = dtype == DType::Float64 ? 1e-12 : 1e-5;
    for (size_t i = 0; i < 2; ++i) {
      const Tensor& fused = result.fused[i];
      const Tensor& composed = result.composed[i];
      ASSERT_EQ(fused.shape(), composed.shape()) << i;
      EXPECT_GT(max_abs(composed), 0.0);
      EXPECT_LT(stripes::test::norm_relative_error(fused, composed), tolerance) << (i == 0 ? "loss " : "gradient ") << dtype_name(dtype);
    }
  }
}
