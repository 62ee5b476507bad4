// Linear attention and feature maps, tested against their mathematical definitions.
#include "attention/causal_product.hpp"
#include "attention/feature_maps.hpp"
#include "attention/linear_attention.hpp"
#include "autograd/gradcheck.hpp"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

using namespace stripes;
using namespace stripes::attention;

using stripes::test::randn;

namespace {
Tensor positive(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  return Tensor::rand(shape, g, DType::Float64, 0.1, 1.0);
}
}  // namespace

TEST(CausalProduct, EqualsTheMaskedQuadraticReference) {
  const Tensor a = randn({2, 3, 7, 4}, 1), b = randn({2, 3, 7, 4}, 2), c = randn({2, 3, 7, 5}, 3);
  for (bool reverse : {false, true}) {
    const Tensor fast = causal_product_forward(a, b, c, reverse);
    const Tensor reference = causal_product_reference(a, b, c, reverse);
    EXPECT_LT(max_abs(fast - reference), 1e-12 * max_abs(reference)) << "reverse " << reverse;
  }
  // first step only sees itself; last step (reverse) only sees itself
  const Tensor out = causal_product_forward(a, b, c, false);
  const double expected = sum(a.select(2, 0).select(1, 0).select(0, 0) * b.select(2, 0).select(1, 0).select(0, 0)).item() *
                          c.at({0, 0, 0, 0});
  EXPECT_NEAR(out.at({0, 0, 0, 0}), expected, 1e-12);
}

TEST(LinearAttention, PrefixSumEqualsReferenceToFloat64Precision) {
  const Tensor phi_q = positive({2, 2, 9, 6}, 4), phi_k = positive({2, 2, 9, 6}, 5);
  const Tensor v = randn({2, 2, 9, 3}, 6);
  for (bool causal : {true, false}) {
    const Tensor fast = linear_attention(ag::Var(phi_q), ag::Var(phi_k), ag::Var(v), causal).value();
    const Tensor reference = linear_attention_reference(ag::Var(phi_q), ag::Var(phi_k), ag::Var(v), causal).value();
    EXPECT_LT(max_abs(fast - reference), 1e-13) << "causal " << causal;
  }
}

TEST(LinearAttention, BothImplementationsAreExactlyCausal) {
  // Perturbing the inputs at step t changes no output before t: prefix sums and masked reference.
  const int64_t steps = 8;
  const Tensor phi_q = positive({1, steps, 4}, 8), phi_k = positive({1, steps, 4}, 9);
  const Tensor v = randn({1, steps, 3}, 10);
  for (bool reference : {false, true}) {
    auto attend = [reference](const Tensor& q, const Tensor& k, const Tensor& values) {
      return reference ? linear_attention_reference(ag::Var(q), ag::Var(k), ag::Var(values), true).value()
                       : linear_attention(ag::Var(q), ag::Var(k), ag::Var(values), true).value();
    };
    const Tensor base = attend(phi_q, phi_k, v);
    for (int64_t t = 0; t < steps; ++t) {
      Tensor q2 = phi_q.clone(), k2 = phi_k.clone(), v2 = v.clone();
      q2.slice(1, t, t + 1).add_(Tensor::ones({1, 1, 4}, DType::Float64));
      k2.slice(1, t, t + 1).add_(Tensor::ones({1, 1, 4}, DType::Float64));
      v2.slice(1, t, t + 1).add_(Tensor::ones({1, 1, 3}, DType::Float64));
      const Tensor moved = attend(q2, k2, v2);
      if (t > 0) {
        EXPECT_EQ(max_abs((moved - base).slice(1, 0, t)), 0.0) << "reference " << reference << " step " << t;
      }
      EXPECT_GT(max_abs((moved - base).slice(1, t, t + 1)), 1e-6) << "reference " << reference << " step " << t;
    }
  }
}

TEST(FeatureMaps, FavorConvergesToTheSoftmaxKernelAsMGrows) {
  // φ(x)·φ(y) → exp(x·y/√d); the error falls roughly as 1/√M.
  const int64_t d = 8;
  const Tensor x = randn({16, d}, 11) * 0.5, y = randn({16, d}, 12) * 0.5;
  const Tensor exact = exact_kernel(FeatureMapKind::Favor, x, y);
  std::vector<double> errors;
  for (int64_t m : {16, 256, 4096}) {
    double error = 0;
    for (uint64_t seed = 0; seed < 4; ++seed) {
      Generator g(100 + seed);
      const Tensor w = draw_random_projection(d, m / 2, g, DType::Float64);
      const Tensor fx = favor_features(ag::Var(x), w, false).value(), fy = favor_features(ag::Var(y), w, false).value();
      const Tensor diff = matmul(fx, fy.transpose(0, 1)) - exact;
      error += std::sqrt(sum(diff * diff).item() / sum(exact * exact).item()) / 4;
    }
    errors.push_back(error);
  }
  std::cout << "FAVOR+ relative RMS error at M = 16, 256, 4096: " << errors[0] << " " << errors[1] << " " << errors[2] << "\n";
  EXPECT_LT(errors[1], errors[0] / 2.5);
  EXPECT_LT(errors[2], errors[1] / 2.5);
  EXPECT_LT(errors[2], 0.05);
}

TEST(FeatureMaps, OrthogonalFeaturesBeatIidAtEqualM) {
  const int64_t d = 16, m = 64;
  const Tensor x = randn({32, d}, 13) * 0.5, y = randn({32, d}, 14) * 0.5;
  const Tensor exact = exact_kernel(FeatureMapKind::Favor, x, y);
  double orthogonal_error = 0, iid_error = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    for (bool orthogonal : {true, false}) {
      Generator g(1000 + seed);
      const Tensor w = draw_random_projection(d, m / 2, g, DType::Float64, orthogonal);
      const Tensor fx = favor_features(ag::Var(x), w, false).value(), fy = favor_features(ag::Var(y), w, false).value();
      const Tensor diff = matmul(fx, fy.transpose(0, 1)) - exact;
      (orthogonal ? orthogonal_error : iid_error) += sum(diff * diff).item();
    }
  }
  EXPECT_LT(orthogonal_error, iid_error * 0.9) << "orthogonal " << orthogonal_error << " iid " << iid_error;
}

TEST(FeatureMaps, OrthogonalBlocksAreOrthogonalWithGaussianNorms) {
  Generator g(3);
  const Tensor w = draw_random_projection(6, 14, g, DType::Float64);  // blocks of 6, 6, 2 columns
  const Tensor gram = matmul(w.transpose(0, 1), w);
  for (int64_t i = 0; i < 14; ++i)
    for (int64_t j = 0; j < 14; ++j)
      if (i != j && i / 6 == j / 6) {
        EXPECT_NEAR(gram.at({i, j}), 0.0, 1e-10);
      }
}

TEST(FeatureMaps, QueryStabilizerCancelsInAttention) {
  const int64_t d = 4;
  const Tensor q = randn({1, 10, d}, 15) * 3.0, k = randn({1, 10, d}, 16), v = randn({1, 10, 2}, 17);
  Generator g(5);
  const Tensor w = draw_random_projection(d, 32, g, DType::Float64);
  const ag::Var phi_k = favor_features(ag::Var(k), w, false);
  const Tensor plain = linear_attention(favor_features(ag::Var(q), w, false), phi_k, ag::Var(v), true, 0.0).value();
  const Tensor stable = linear_attention(favor_features(ag::Var(q), w, true), phi_k, ag::Var(v), true, 0.0).value();
  EXPECT_LT(max_abs(plain - stable), 1e-12);
  // features are positive and each stabilized query's largest feature is exactly 1
  const Tensor phi_q = favor_features(ag::Var(q), w, true).value();
  EXPECT_GT(min(phi_q).item(), 0.0);
  EXPECT_NEAR(max(phi_q, {-1}).at({0, 3}), 1.0, 1e-12);
}

TEST(FeatureMaps, TrigAndEluEstimateTheirKernels) {
  const int64_t d = 4;
  const Tensor x = randn({8, d}, 18) * 0.5, y = randn({8, d}, 19) * 0.5;
  Generator g(6);
  const Tensor w = draw_random_projection(d, 8192, g, DType::Float64);
  const Tensor trig = matmul(trig_features(ag::Var(x), w).value(), trig_features(ag::Var(y), w).value().transpose(0, 1));
  EXPECT_LT(max_abs(trig - exact_kernel(FeatureMapKind::Trig, x, y)), 0.05);
  const Tensor elu = matmul(elu_features(ag::Var(x)).value(), elu_features(ag::Var(y)).value().transpose(0, 1));
  EXPECT_LT(max_abs(elu - exact_kernel(FeatureMapKind::Elu, x, y)), 1e-12);
}

TEST(SoftmaxAttention, MatchesTheDefinitionAndIsCausal) {
  const Tensor q = randn({5, 3}, 20), k = randn({5, 3}, 21), v = randn({5, 2}, 22);
  const Tensor y = softmax_attention(ag::Var(q), ag::Var(k), ag::Var(v), true).value();
  // row 2 by hand
  std::vector<double> w(3);
  double total = 0;
  for (int64_t n = 0; n < 3; ++n) {
    double s = 0;
    for (int64_t i = 0; i < 3; ++i) s += q.at({2, i}) * k.at({n, i});
    w[size_t(n)] = std::exp(s / std::sqrt(3.0));
    total += w[size_t(n)];
  }
  for (int64_t j = 0; j < 2; ++j) {
    double expected = 0;
    for (int64_t n = 0; n < 3; ++n) expected += w[size_t(n)] / total * v.at({n, j});
    EXPECT_NEAR(y.at({2, j}), expected, 1e-12);
  }
}
