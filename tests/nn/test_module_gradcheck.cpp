// Every module of nn/ through the generic finite-difference checker (float64, tiny sizes), with
// two seeds; parameters are inputs of the checks (nn/module_gradcheck.hpp). And the checker must
// be able to fail here too: a module with a planted wrong backward is rejected.
#include "autograd/ops.hpp"
#include "nn/linear.hpp"
#include "nn/module_gradcheck.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <set>

namespace {

using namespace stripes;

class ModuleGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(ModuleGradcheck, MatchesFiniteDifferences) {
  const ag::GradcheckCase& check = nn::module_gradchecks().cases().at(GetParam());
  for (uint64_t seed : {0, 1}) {
    const ag::GradcheckResult result = ag::run_gradcheck(check, seed);
    EXPECT_TRUE(result.passed) << check.op << " " << check.label << " seed " << seed << ": max error "
                               << result.max_error << " at " << result.failure;
    EXPECT_GT(result.checked, 0);
  }
}

std::string case_name(const ::testing::TestParamInfo<size_t>& info) {
  std::string name = nn::module_gradchecks().cases().at(info.param).op + "_" + std::to_string(info.param);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllModules, ModuleGradcheck,
                         ::testing::Range(size_t(0), nn::module_gradchecks().cases().size()), case_name);

TEST(ModuleGradcheck, CoversEveryModule) {
  std::set<std::string> ops;
  for (const auto& check : nn::module_gradchecks().cases()) ops.insert(check.op);
  for (const char* op : {"nn.Linear", "nn.Embedding", "nn.LayerNorm", "nn.Dropout", "nn.FeedForward",
                         "nn.SoftmaxAttention", "nn.TransformerEncoderLayer", "nn.TransformerEncoder"}) {
    EXPECT_TRUE(ops.count(op)) << op << " has no gradient check";
  }
}

// A module whose forward is x Wᵀ but whose weight gradient is doubled (a wrong backward rule,
// written as a custom op): the parameter check must catch it.
class WrongLinear : public nn::Module {
 public:
  WrongLinear() { weight_ = register_parameter("weight", Tensor::zeros({2, 3}, DType::Float64)); }
  ag::Var forward(const ag::Var& x) {
    const Tensor y = matmul(x.value(), weight_.value().transpose(0, 1));
    const Tensor x_value = x.value(), w_value = weight_.value();
    return ag::make_result("wrong_linear", y, {x, weight_}, [x_value, w_value](ag::BackwardContext& ctx) {
      const Tensor& g = ctx.grad_output();
      ag::accumulate_grad(ctx.grad_input(0), matmul(g, w_value));
      ag::accumulate_grad(ctx.grad_input(1), matmul(g.transpose(0, 1), x_value) * 2.0);  // wrong: factor 2
    });
  }

 private:
  ag::Var weight_;
};

TEST(ModuleGradcheck, RejectsAWrongParameterGradient) {
  const ag::GradcheckCase check = nn::module_gradcheck(
      "wrong", "x [4, 3]", [] { return std::make_shared<WrongLinear>(); }, {ag::normal({4, 3})},
      [](WrongLinear& m, const std::vector<ag::Var>& in) { return m.forward(in[0]); });
  const ag::GradcheckResult result = ag::run_gradcheck(check, 0);
  EXPECT_FALSE(result.passed);
  EXPECT_NE(result.failure.find("input 1"), std::string::npos) << result.failure;  // the weight, not x
}

}  // namespace
