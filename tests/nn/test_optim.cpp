// Optimizers against the equations written out by hand, clipping, schedules and the curriculum.
#include "autograd/ops.hpp"
#include "nn/optim/clip.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/optim/schedule.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace stripes;
using namespace stripes::nn;

// A parameter with a fixed gradient, set by hand.
ag::Var parameter_with_grad(std::vector<double> value, std::vector<double> grad) {
  const int64_t n = int64_t(value.size());
  ag::Var p(Tensor::from_vector(value, {n}), true, "p");
  ag::sum(p * ag::Var(Tensor::from_vector(grad, {n}))).backward();  // ∂/∂p Σ p·g = g
  return p;
}

// Reference Adam/AdamW in double for one element over several steps with constant gradient g.
double reference_adam(double theta, double g, int steps, double lr, double b1, double b2, double eps, double wd,
                      bool decoupled) {
  double m = 0, v = 0;
  for (int t = 1; t <= steps; ++t) {
    double grad = g;
    if (decoupled) theta -= lr * wd * theta;
    else grad += wd * theta;
    m = b1 * m + (1 - b1) * grad;
    v = b2 * v + (1 - b2) * grad * grad;
    theta -= lr * (m / (1 - std::pow(b1, t))) / (std::sqrt(v / (1 - std::pow(b2, t))) + eps);
  }
  return theta;
}

TEST(Adam, MatchesTheEquations) {
  for (bool decoupled : {false, true}) {
    const std::vector<double> theta = {0.5, -1.0, 2.0}, g = {0.1, -0.3, 0.0};
    ag::Var p = parameter_with_grad(theta, g);
    const AdamOptions options{.learning_rate = 0.01, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.1};
    std::unique_ptr<Optimizer> optimizer;
    if (decoupled) optimizer = std::make_unique<AdamW>(NamedParameters{{"p", p}}, options);
    else optimizer = std::make_unique<Adam>(NamedParameters{{"p", p}}, options);
    EXPECT_EQ(optimizer->type(), decoupled ? "adamw" : "adam");
    for (int step = 0; step < 5; ++step) optimizer->step();  // the gradient stays (not zeroed)
    for (int64_t i = 0; i < 3; ++i) {
      const double expected = reference_adam(theta[size_t(i)], g[size_t(i)], 5, 0.01, 0.8, 0.95, 1e-6, 0.1, decoupled);
      EXPECT_NEAR(p.value().at({i}), expected, 1e-14) << (decoupled ? "adamw" : "adam") << " element " << i;
    }
    EXPECT_EQ(optimizer->step_count(), 5);
  }
}

TEST(Adam, FirstStepMovesEachCoordinateByTheLearningRate) {
  // m̂ = g and v̂ = g² at t = 1, so the step is lr·g/(|g| + ε) ≈ lr·sign(g): a classic sanity check.
  ag::Var p = parameter_with_grad({1.0, 1.0}, {3.0, -0.002});
  Adam adam({{"p", p}}, {.learning_rate = 0.1, .eps = 1e-12});
  adam.step();
  EXPECT_NEAR(p.value().at({0}), 0.9, 1e-9);
  EXPECT_NEAR(p.value().at({1}), 1.1, 1e-9);
}

TEST(Adam, SkipsParametersWithoutGradientAndInvalidatesStaleGraphs) {
  ag::Var used(Tensor::ones({2}, DType::Float64), true, "used"), unused(Tensor::ones({2}, DType::Float64), true, "unused");
  const ag::Var loss = ag::sum(used * used);
  const ag::Var stale = ag::sum(used * used);
  loss.backward();
  Adam adam({{"used", used}, {"unused", unused}});
  adam.step();
  EXPECT_NE(used.value().at({0}), 1.0);
  EXPECT_EQ(unused.value().at({0}), 1.0);
  EXPECT_EQ(max_abs(adam.first_moment(1)), 0.0);
  // The update bumped the version of `used`: a graph built before it refuses to run backward.
  EXPECT_THROW(stale.backward(), Error);
}

TEST(Clip, ByGlobalNormScalesEveryGradientTogether) {
  ag::Var a = parameter_with_grad({0, 0}, {3, 0}), b = parameter_with_grad({0}, {4});
  const NamedParameters parameters{{"a", a}, {"b", b}};
  EXPECT_NEAR(grad_norm(parameters), 5.0, 1e-12);
  const double before = clip_grad_norm(parameters, 1.0);
  EXPECT_NEAR(before, 5.0, 1e-12);
  EXPECT_NEAR(a.grad().at({0}), 3.0 / (5.0 + 1e-6), 1e-12);
  EXPECT_NEAR(b.grad().at({0}), 4.0 / (5.0 + 1e-6), 1e-12);
  EXPECT_NEAR(grad_norm(parameters), 1.0, 1e-6);
  // Below the threshold nothing changes.
  const double unchanged = a.grad().at({0});
  clip_grad_norm(parameters, 10.0);
  EXPECT_EQ(a.grad().at({0}), unchanged);
}

TEST(Clip, ByValueClampsEachElement) {
  ag::Var a = parameter_with_grad({0, 0, 0}, {-2, 0.5, 7});
  clip_grad_value({{"a", a}}, 1.0);
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{-1, 0.5, 1}));
}

TEST(Schedule, WarmupThenPerEpochDecay) {
  const LearningRateSchedule schedule{.base = 1e-3, .warmup_steps = 4, .decay_gamma = 0.5, .decay_every_epochs = 1};
  EXPECT_DOUBLE_EQ(schedule.at(0, 0), 0.25e-3);
  EXPECT_DOUBLE_EQ(schedule.at(1, 0), 0.5e-3);
  EXPECT_DOUBLE_EQ(schedule.at(3, 0), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.at(100, 0), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.at(100, 2), 0.25e-3);
  EXPECT_DOUBLE_EQ(schedule.at(1, 1), 0.25e-3);  // both at once
  const LearningRateSchedule constant{.base = 2e-3};
  EXPECT_DOUBLE_EQ(constant.at(0, 7), 2e-3);
  const LearningRateSchedule every_two{.base = 1.0, .decay_gamma = 0.85, .decay_every_epochs = 2};
  EXPECT_DOUBLE_EQ(every_two.at(0, 3), 0.85);
}

TEST(Schedule, CurriculumGrowsLinearlyThenHolds) {
  // StrIPE: 16 -> max over the first 2875 steps.
  const SequenceLengthCurriculum curriculum{.start = 16, .end = 1024, .ramp_steps = 2875, .multiple_of = 16};
  EXPECT_EQ(curriculum.at(0), 16);
  EXPECT_EQ(curriculum.at(2875), 1024);
  EXPECT_EQ(curriculum.at(100000), 1024);
  const int64_t middle = curriculum.at(2875 / 2);
  EXPECT_EQ(middle % 16, 0);
  EXPECT_NEAR(double(middle), 16 + (1024 - 16) * 0.5, 16.0);
  int64_t previous = 0;
  for (int64_t step = 0; step <= 3000; step += 25) {
    EXPECT_GE(curriculum.at(step), previous);
    previous = curriculum.at(step);
  }
  EXPECT_EQ(curriculum.hook()(2875), 1024);
}

}  // namespace
