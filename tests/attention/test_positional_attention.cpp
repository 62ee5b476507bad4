// The attention layer with every PE and both kinds: exact causality, gradients, redraw policy.
#include "attention/positional_attention.hpp"
#include "attention/attention_gradchecks.hpp"

#include <gtest/gtest.h>

#include <cctype>

using namespace stripes;
using namespace stripes::attention;

namespace {

Tensor randn(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  return Tensor::randn(shape, g, DType::Float64);
}

AttentionConfig small_config(const std::string& pe, const std::string& kind) {
  AttentionConfig c;
  c.kind = kind;
  c.model_dim = 8;
  c.heads = 2;
  c.features = 8;
  c.redraw = "fixed";
  c.dtype = DType::Float64;
  c.seed = 3;
  c.pe.name = pe;
  c.pe.position_dim = pe == "fstripe" ? 3 : 1;
  c.pe.num_sines = 2;
  c.pe.realizations = 4;
  c.pe.conv_kernel = 3;
  return c;
}

std::vector<std::pair<std::string, std::string>> all_combinations() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& pe : positional_encoding_names()) {
    out.emplace_back(pe, "softmax");
    if (pe != "stripe") out.emplace_back(pe, "linear");
  }
  return out;
}

std::string combination_name(const ::testing::TestParamInfo<std::pair<std::string, std::string>>& info) {
  std::string n = info.param.first + "_" + info.param.second;
  for (char& ch : n) if (ch == '-') ch = '_';
  return n;
}

}  // namespace

class AttentionCombination : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

// Perturbing the input (and the position) at step t changes no output before t — for every PE
// and both attention kinds, stabilizer included. Each run rebuilds the layer from the same seed so
// stochastic PEs draw the same noise.
TEST_P(AttentionCombination, IsExactlyCausal) {
  const auto [pe, kind] = GetParam();
  const AttentionConfig c = small_config(pe, kind);
  const int64_t steps = 6;
  const Tensor x = randn({2, steps, 8}, 1);
  const Tensor positions = c.pe.position_dim == 1 ? randn({2, steps}, 2) * 3.0 : randn({2, steps, 3}, 2) * 3.0;
  auto run = [&](const Tensor& input, const Tensor& p) {
    PositionalAttention layer(c, 0);
    return layer.forward(ag::Var(input), {p, true}).value();
  };
  const Tensor base = run(x, positions);
  for (int64_t t = 1; t < steps; ++t) {
    Tensor x2 = x.clone(), p2 = positions.clone();
    x2.slice(1, t, t + 1).add_(Tensor::ones({2, 1, 8}, DType::Float64) * 2.0);
    p2.slice(1, t, t + 1).add_(Tensor::ones(p2.slice(1, t, t + 1).shape(), DType::Float64) * 1.5);
    const Tensor moved = run(x2, p2);
    EXPECT_LT(max_abs((moved - base).slice(1, 0, t)), 1e-12) << pe << " " << kind << " step " << t;
    EXPECT_GT(max_abs((moved - base).slice(1, t, t + 1)), 1e-9) << pe << " " << kind << " step " << t;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPeAndKind, AttentionCombination, ::testing::ValuesIn(all_combinations()), combination_name);

TEST(PositionalAttention, RedrawPolicies) {
  AttentionConfig c = small_config("rope-c", "linear");
  const Tensor x = randn({1, 3, 8}, 6);
  for (const std::string policy : {"every-forward", "every-k", "fixed"}) {
    c.redraw = policy;
    c.redraw_every = 2;
    PositionalAttention layer(c, 0);
    std::vector<Tensor> draws;
    for (int i = 0; i < 4; ++i) {
      layer.forward(ag::Var(x), {Tensor(), true});
      draws.push_back(layer.feature_projection().clone());
    }
    auto changed = [&](int i) { return max_abs(draws[size_t(i)] - draws[size_t(i - 1)]) > 0; };
    const bool expected[3] = {policy == "every-forward", policy != "fixed", policy == "every-forward"};
    for (int i = 1; i <= 3; ++i) EXPECT_EQ(changed(i), expected[i - 1]) << policy << " forward " << i;
    layer.eval();
    const Tensor before = layer.feature_projection().clone();
    layer.forward(ag::Var(x), {Tensor(), true});
    EXPECT_EQ(max_abs(layer.feature_projection() - before), 0.0) << "eval must not redraw";
  }
}

TEST(PositionalAttention, ConfigurationErrorsAreClear) {
  auto expect_error = [](AttentionConfig c, const std::string& fragment) {
    try {
      PositionalAttention layer(c, 0);
      ADD_FAILURE() << "expected an error mentioning " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_error(small_config("stripe", "linear"), "softmax");
  AttentionConfig bad_map = small_config("rope-a", "linear");
  bad_map.feature_map = "relu";
  expect_error(bad_map, "relu");
  AttentionConfig bad_heads = small_config("rope-a", "linear");
  bad_heads.heads = 3;
  expect_error(bad_heads, "divisible");
  PositionalAttention layer(small_config("rope-a", "linear"), 0);
  EXPECT_THROW(layer.forward(ag::Var(randn({1, 3, 5}, 1)), {Tensor(), true}), Error);
}

TEST(PositionalAttention, ParameterNamesFollowTheModuleTree) {
  PositionalAttention layer(small_config("ropepool", "linear"), 0);
  std::vector<std::string> names;
  for (const auto& [name, p] : layer.named_parameters()) names.push_back(name);
  EXPECT_NE(std::find(names.begin(), names.end(), "q_proj.weight"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "pe.frequencies"), names.end());
}

// Every attention case of the generic checker (causal product, linear attention, feature maps,
// each PE with its parameters, the layer with each PE and kind) as its own test.
class AttentionGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(AttentionGradcheck, BackwardMatchesFiniteDifferences) {
  const ag::GradcheckCase& check = attention_gradchecks().cases()[GetParam()];
  const ag::GradcheckResult result = ag::run_gradcheck(check, 2);
  EXPECT_TRUE(result.passed) << check.op << " " << check.label << ": " << result.max_error << " " << result.failure;
}

INSTANTIATE_TEST_SUITE_P(AllCases, AttentionGradcheck, ::testing::Range<size_t>(0, attention_gradchecks().cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = attention_gradchecks().cases()[info.param].op + "_" + std::to_string(info.param);
                           for (char& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });
