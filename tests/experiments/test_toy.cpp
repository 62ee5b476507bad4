// The toy study (method.md §3): the scores come from the project's PEs and equal eqs. 24-26; the
// properties the paper describes, measured on the computed maps; the learned model; `stripes toy`.
#include "experiments/toy/toy_learned.hpp"
#include "experiments/toy/toy_report.hpp"
#include "experiments/toy/toy_study.hpp"
#include "tensor/io/tensor_io.hpp"
#include "tensor/math.hpp"

#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

using namespace stripes;
using namespace stripes::toy;

using stripes::test::CommandResult;
using stripes::test::run_stripes;

namespace {

Tensor rescaled_map(Method method, const ToySet& set, const std::vector<double>& f, double sign = 1.0) {
  return rescale_panel(score_map(method, set, f, sign));
}

MapProperties properties_of(Method method, const ToySet& set, const std::vector<double>& f, double sign = 1.0) {
  return measure_properties(rescaled_map(method, set, f, sign), set);
}

}  // namespace

TEST(ToyStudy, SettingMatchesTheSpec) {
  const ToySet set = draw_toy_set({});
  ASSERT_EQ(set.points(), 25);
  ASSERT_EQ(set.contexts(), 5);
  for (int64_t i = 0; i < 5; ++i) EXPECT_NEAR(set.context_angles[size_t(i)], double(i + 1) * M_PI / 6, 1e-15);  // 30°..150°
  EXPECT_EQ(set.query_context(), 2);  // the middle context
  for (int64_t j = 0; j < 25; ++j) {
    EXPECT_EQ(set.context[size_t(j)], j / 5);  // grouped by context: 10 | 5 | 10 keys around the query's group
    EXPECT_EQ(set.xi[size_t(j)], set.context_angles[size_t(j / 5)]);
    EXPECT_LT(std::abs(set.psi[size_t(j)] - set.xi[size_t(j)]), 5 * 0.15);
  }
  const std::vector<double> f = frequency_grid(41);
  EXPECT_EQ(f.size(), 41u);
  EXPECT_EQ(f[5], 0.125);
  EXPECT_EQ(f[40], 1.0);
  // Seeded: the same seed draws the same points, another seed other points.
  EXPECT_EQ(draw_toy_set({}).psi, set.psi);
  EXPECT_NE(draw_toy_set({.seed = 7}).psi, set.psi);
}

// The maps computed through make_positional_encoding equal the closed forms of eqs. 24-26.
TEST(ToyStudy, PeImplementationsEqualTheClosedForms) {
  const std::vector<double> f = frequency_grid(41);
  for (const uint64_t seed : {0u, 1u, 2u}) {
    for (const double sigma : {0.0, 0.15, 0.6}) {
      const ToySet set = draw_toy_set({.sigma = sigma, .seed = seed});
      for (const Method method : kMethods) {
        for (const double sign : {1.0, -1.0}) {
          const Tensor pe = score_map(method, set, f, sign);
          ASSERT_EQ(pe.shape(), (Shape{41, 25}));
          EXPECT_LT(max_abs(pe - closed_form_map(method, set, f, sign)), 1e-12)
              << method_title(method) << " seed " << seed << " sigma " << sigma << " sign " << sign;
        }
      }
    }
  }
  // The same holds with general (non-orthogonal) content maps W_q, W_k for RoPE, whose score is
  // then (W_q x_q)ᵀ R(f Δξ) (W_k x_k): check one entry by hand.
  const ToySet set = draw_toy_set({});
  const Tensor wq = Tensor::from_vector(std::vector<double>{1.5, -0.3, 0.2, 0.8}, {2, 2});
  const Tensor wk = Tensor::from_vector(std::vector<double>{0.7, 0.4, -0.9, 1.1}, {2, 2});
  const Tensor mapped = score_map(Method::Rope, set, {0.6}, 1.0, wq, wk);
  const int64_t j = 3;
  const double a = 0.6 * set.xi[size_t(set.query)], b = 0.6 * set.xi[size_t(j)];
  auto map = [](const Tensor& w, double psi, double angle) {
    const std::vector<double> m = w.to_vector<double>();
    const double x = m[0] * std::cos(psi) + m[1] * std::sin(psi), y = m[2] * std::cos(psi) + m[3] * std::sin(psi);
    return std::array<double, 2>{x * std::cos(angle) - y * std::sin(angle), y * std::cos(angle) + x * std::sin(angle)};
  };
  const auto q = map(wq, set.psi[size_t(set.query)], a), k = map(wk, set.psi[size_t(j)], b);
  EXPECT_NEAR(mapped.at({0, j}), q[0] * k[0] + q[1] * k[1], 1e-12);
}

// Eq. 25 is the *unpooled* F-StrIPE₁ with both dimensions at frequency f:
//   Σ_d q_d k_d cos(f Δξ) = (cos ψ_q cos ψ_k + sin ψ_q sin ψ_k) cos(f Δξ) = cos(ψ_q − ψ_k) cos(f Δξ).
// The pooled (literal eqs. 19-20) form gives (q1 + q2)(k1 + k2) cos(f Δξ) = 2 cos(ψ_q − π/4) cos(ψ_k − π/4) cos(f Δξ).
TEST(ToyStudy, FStripe1EquationTwentyFiveIsTheUnpooledForm) {
  EXPECT_EQ(make_toy_encoding(Method::FStripe1)->feature_dim(), 4);  // unpooled: 2D
  const ToySet set = draw_toy_set({});
  const int64_t t = set.points();
  const Tensor x = set.content().reshape({1, 1, t, 2});
  attention::PositionalEncodingConfig config;
  config.name = "fstripe1";
  config.heads = 1;
  config.head_dim = 2;
  config.dtype = DType::Float64;
  config.fstripe1_pooled = true;
  const auto pooled = attention::make_positional_encoding(config);
  ASSERT_EQ(pooled->feature_dim(), 2);
  const double f = 0.7;
  pooled->parameter("frequencies").mutable_value().fill_(f);
  ag::NoGradGuard no_grad;
  const auto encoded = pooled->encode(ag::Var(x), ag::Var(x), set.positions());
  const Tensor scores = matmul(encoded.query.value(), encoded.key.value().transpose(-1, -2));
  const Tensor unpooled = closed_form_map(Method::FStripe1, set, {f});
  double largest_difference = 0;
  for (int64_t j = 0; j < t; ++j) {
    const double psi_q = set.psi[size_t(set.query)], psi_k = set.psi[size_t(j)];
    const double expected = 2 * std::cos(psi_q - M_PI / 4) * std::cos(psi_k - M_PI / 4) *
                            std::cos(f * (set.xi[size_t(set.query)] - set.xi[size_t(j)]));
    EXPECT_NEAR(scores.at({0, 0, set.query, j}), expected, 1e-12);
    largest_difference = std::max(largest_difference, std::abs(expected - unpooled.at({0, j})));
  }
  EXPECT_GT(largest_difference, 0.3);  // the pooled form is not eq. 25
}

// (a) F-StrIPE₁ keeps same-context keys high for every f, and they do not move with f at all
// (they share the query's ξ: cos(f·0) = 1).
TEST(ToyProperties, FStripe1KeepsSameContextKeysHighForEveryFrequency) {
  const std::vector<double> f = frequency_grid(41);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const ToySet set = draw_toy_set({.seed = seed});
    const MapProperties p = properties_of(Method::FStripe1, set, f);
    EXPECT_EQ(p.rows_same_above_different, 41) << "seed " << seed;
    EXPECT_EQ(p.rows_top_key_same, 41) << "seed " << seed;
    EXPECT_LT(p.same_variation, 1e-12) << "seed " << seed;
    for (const double s : p.separation) EXPECT_GT(s, 0.2) << "seed " << seed;
  }
}

// (b) RoPE "blurs as f grows". With eq. 24 as printed and ψ ~ N(C_k, σ²), ξ = C_k, the content
// and context phases add, a ≈ cos((1 + f)Δξ): the separation between same- and other-context keys
// *grows* with f. The blur the paper describes appears in the mirrored orientation (PE at −f,
// i.e. context rotating against content), a ≈ cos((1 − f)Δξ), where it vanishes at f = 1.
TEST(ToyProperties, RopeSharpensAsPrintedAndBlursWhenMirrored) {
  const std::vector<double> f = frequency_grid(41);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const ToySet set = draw_toy_set({.seed = seed});
    const MapProperties printed = properties_of(Method::Rope, set, f);
    EXPECT_GT(printed.separation.back(), printed.separation.front() + 0.15) << "seed " << seed;
    const MapProperties mirrored = properties_of(Method::Rope, set, f, -1.0);
    EXPECT_GT(mirrored.separation.front(), 0.2) << "seed " << seed;
    EXPECT_LT(mirrored.separation.back(), 0.05) << "seed " << seed;
    EXPECT_LT(mirrored.separation.back(), mirrored.separation.front() / 5) << "seed " << seed;
    // and it shrinks steadily (allowing for ripples of the noise)
    for (size_t i = 5; i < f.size(); i += 5) EXPECT_LT(mirrored.separation[i], mirrored.separation[i - 5] + 0.01) << "seed " << seed;
  }
}

// (c) RoPEPool is asymmetric: keys at −θ and +θ around the query's context score differently,
// and its highest-scoring keys are not always those of the query's context.
TEST(ToyProperties, RopePoolIsAsymmetricAndItsTopKeysAreNotAlwaysSameContext) {
  const std::vector<double> f = frequency_grid(41);
  // Without noise (σ = 0) RoPE and F-StrIPE₁ are exactly mirror-symmetric; RoPEPool is not.
  const ToySet clean = draw_toy_set({.sigma = 0.0});
  EXPECT_LT(properties_of(Method::Rope, clean, f).mirror_asymmetry, 1e-12);
  EXPECT_LT(properties_of(Method::FStripe1, clean, f).mirror_asymmetry, 1e-12);
  EXPECT_GT(properties_of(Method::RopePool, clean, f).mirror_asymmetry, 0.2);
  // With noise, the groups' means also differ through the draw; reflecting every key about the
  // query (ψ, ξ -> 2ψ_q − ψ, 2ξ_q − ξ) isolates the kernel: RoPE and F-StrIPE₁ give a key and its
  // mirror image the same score, RoPEPool does not.
  int64_t seeds_with_other_top_key = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const ToySet set = draw_toy_set({.seed = seed});
    EXPECT_LT(reflection_gap(Method::Rope, set, f), 1e-12) << "seed " << seed;
    EXPECT_LT(reflection_gap(Method::FStripe1, set, f), 1e-12) << "seed " << seed;
    EXPECT_GT(reflection_gap(Method::RopePool, set, f), 0.1) << "seed " << seed;
    const MapProperties pool = properties_of(Method::RopePool, set, f);
    EXPECT_LT(pool.rows_top_key_same, 41) << "seed " << seed;
    seeds_with_other_top_key += pool.rows_top_key_same < 41 ? 1 : 0;
  }
  EXPECT_EQ(seeds_with_other_top_key, 10);
  EXPECT_FALSE(make_toy_encoding(Method::RopePool)->kernel_properties().lag_only);
}

// With D = 2 RoPEPool's pooled feature is one scalar per point (dim D/2 = 1), so its score matrix
// over all points is rank one, a_mn = c_m c_n: every query ranks the keys the same way up to sign.
TEST(ToyProperties, RopePoolWithOnePairScoresThroughOneScalarPerPoint) {
  EXPECT_EQ(make_toy_encoding(Method::RopePool)->feature_dim(), 1);
  const ToySet set = draw_toy_set({});
  const int64_t t = set.points();
  ag::NoGradGuard no_grad;
  const ag::Var x(set.content().reshape({1, 1, t, 2}));
  const Tensor s = toy_pe_scores(Method::RopePool, x, x, set.positions(), ag::Var(Tensor::full({1}, 0.4, DType::Float64))).value();
  for (int64_t m = 0; m < t; m += 3)
    for (int64_t n = 0; n < t; n += 4)
      EXPECT_NEAR(s.at({0, 0, m, n}) * s.at({0, 0, 1, 2}), s.at({0, 0, m, 2}) * s.at({0, 0, 1, n}), 1e-12);
}

TEST(ToyLearned, TrainingReducesTheLossAndMovesTheFrequency) {
  const LearnedOptions options{.steps = 40, .batch = 8, .seed = 3, .eval_sets = 16};
  const LearnedModel rope = train_toy_model(Method::Rope, {}, options);
  EXPECT_EQ(rope.losses.size(), 40u);
  EXPECT_LT(rope.final_loss, 0.5 * rope.initial_loss);
  EXPECT_GE(rope.final_accuracy, rope.initial_accuracy);
  EXPECT_NE(rope.frequency, 0.5);  // the gradient reaches the PE's (bound) frequency parameter
  EXPECT_EQ(rope.w_query.shape(), (Shape{2, 2}));
  const LearnedModel pool = train_toy_model(Method::RopePool, {}, options);
  EXPECT_LT(pool.final_loss, pool.initial_loss);
  EXPECT_NE(pool.frequency, 0.5);
  // Deterministic for a seed.
  EXPECT_EQ(train_toy_model(Method::Rope, {}, options).losses, rope.losses);
}

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST(ToyCommand, WritesFiguresAndScoresAndPrintsTheProperties) {
  const std::string out = ::testing::TempDir() + "stripes_toy_test";
  std::filesystem::remove_all(out);
  const CommandResult run = run_stripes("toy --no-learned --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* name : {"fig2_points.svg", "fig3_scores.svg", "fig3_scores_mirrored.svg", "toy.h5"}) {
    EXPECT_TRUE(std::filesystem::exists(out + "/" + name)) << name;
    EXPECT_NE(run.output.find(name), std::string::npos) << run.output;
  }
  EXPECT_FALSE(std::filesystem::exists(out + "/fig3_learned.svg"));
  EXPECT_NE(run.output.find("RoPEPool: a key and its mirror image"), std::string::npos) << run.output;
  std::ifstream fig3(out + "/fig3_scores.svg");
  std::stringstream text;
  text << fig3.rdbuf();
  EXPECT_EQ(count(text.str(), "class=\"cell\""), size_t(3 * 41 * 25));

  io::Hdf5File file(out + "/toy.h5", io::OpenMode::kRead);
  const Tensor psi = io::load_tensor(file, "/points/psi"), xi = io::load_tensor(file, "/points/xi");
  EXPECT_EQ(psi.shape(), (Shape{25}));
  const Tensor frequencies = io::load_tensor(file, "/frequencies");
  EXPECT_EQ(frequencies.shape(), (Shape{41}));
  for (const Method method : kMethods) {
    const std::string key(method_key(method));
    const Tensor scores = io::load_tensor(file, "/scores/" + key);
    EXPECT_EQ(scores.shape(), (Shape{41, 25}));
    EXPECT_LT(max_abs(scores - io::load_tensor(file, "/closed_form/" + key)), 1e-12) << key;
    const Tensor rescaled = io::load_tensor(file, "/rescaled/" + key);
    EXPECT_NEAR(min(rescaled).item(), 0.0, 1e-15);
    EXPECT_NEAR(max(rescaled).item(), 1.0, 1e-15);
  }

  const CommandResult bad = run_stripes("toy --sigma -1 --out " + out);
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("--sigma"), std::string::npos) << bad.output;
}
