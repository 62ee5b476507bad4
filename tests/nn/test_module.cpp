// The module tree (names, order, counts, modes, errors) and the behaviour of the layers beyond
// their gradients (causality of the attention, shapes, error messages naming the module).
#include "autograd/ops.hpp"
#include "nn/softmax_attention.hpp"
#include "nn/transformer.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tests/support/expect_error.hpp"

#include <gtest/gtest.h>

namespace {

using namespace stripes;
using namespace stripes::nn;

template <typename Statement>
void expect_error_mentions(Statement statement, const std::vector<std::string>& parts) {
  try {
    statement();
    ADD_FAILURE() << "expected stripes::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << "\nmissing: " << part;
  }
}

TransformerConfig small_config() {
  TransformerConfig config;
  config.input = InputKind::Features;
  config.input_dim = 5;
  config.d_model = 8;
  config.num_heads = 2;
  config.d_ff = 12;
  config.num_layers = 2;
  config.dropout = 0.1;
  config.output_dim = 3;
  return config;
}

std::shared_ptr<TransformerEncoder> small_encoder(const TransformerConfig& config, uint64_t seed = 0) {
  Generator init(seed);
  auto dropout = std::make_shared<Generator>(seed + 1);
  return std::make_shared<TransformerEncoder>(config, softmax_attention_factory(config, init, dropout), init, dropout);
}

TEST(Module, ParameterNamesFollowTheTreeInRegistrationOrder) {
  const auto encoder = small_encoder(small_config());
  std::vector<std::string> names;
  for (const auto& [name, parameter] : encoder->named_parameters()) {
    names.push_back(name);
    EXPECT_EQ(parameter.name(), name);  // the Var carries its full name (error messages, guard)
    EXPECT_TRUE(parameter.requires_grad() && parameter.is_leaf());
  }
  const std::vector<std::string> first = {"input_proj.weight",
                                          "input_proj.bias",
                                          "layers.0.attn.q_proj.weight",
                                          "layers.0.attn.q_proj.bias",
                                          "layers.0.attn.k_proj.weight",
                                          "layers.0.attn.k_proj.bias",
                                          "layers.0.attn.v_proj.weight",
                                          "layers.0.attn.v_proj.bias",
                                          "layers.0.attn.out_proj.weight",
                                          "layers.0.attn.out_proj.bias",
                                          "layers.0.norm1.weight",
                                          "layers.0.norm1.bias",
                                          "layers.0.ff.linear1.weight",
                                          "layers.0.ff.linear1.bias",
                                          "layers.0.ff.linear2.weight",
                                          "layers.0.ff.linear2.bias",
                                          "layers.0.norm2.weight",
                                          "layers.0.norm2.bias",
                                          "layers.1.attn.q_proj.weight"};
  ASSERT_GE(names.size(), first.size());
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + long(first.size())), first);
  EXPECT_EQ(names.back(), "output_proj.bias");
  EXPECT_EQ(names.size(), 2u + 2u * 16u + 2u);
}

TEST(Module, ParameterCountIsTheSumOfShapes) {
  const auto encoder = small_encoder(small_config());
  const int64_t d = 8, f = 12, in = 5, out = 3;
  const int64_t per_layer = 4 * (d * d + d) + 2 * 2 * d + (f * d + f) + (d * f + d);
  EXPECT_EQ(encoder->parameter_count(), (in * d + d) + 2 * per_layer + (d * out + out));
  EXPECT_EQ(int64_t(encoder->parameters().size()), int64_t(encoder->named_parameters().size()));
}

TEST(Module, FullNamesAreSetWhenASubtreeIsAdoptedLater) {
  Generator init(0);
  auto layer = std::make_shared<TransformerEncoderLayer>(
      small_config(), std::make_shared<SoftmaxAttention>(8, 2, 0.0, init, nullptr), init, std::make_shared<Generator>(1));
  EXPECT_EQ(layer->attention().full_name(), "attn");
  auto list = std::make_shared<ModuleList>();
  list->append(std::make_shared<ModuleList>());
  list->append(layer);
  EXPECT_EQ(layer->full_name(), "1");
  EXPECT_EQ(layer->attention().full_name(), "1.attn");
  EXPECT_EQ(layer->named_parameters().front().second.name(), "1.attn.q_proj.weight");
  EXPECT_EQ(layer->named_parameters().front().first, "attn.q_proj.weight");  // relative to the module asked
}

TEST(Module, TrainAndEvalReachTheWholeTree) {
  const auto encoder = small_encoder(small_config());
  encoder->eval();
  for (const auto& [name, module] : encoder->named_modules()) EXPECT_FALSE(module->training()) << name;
  encoder->train();
  for (const auto& [name, module] : encoder->named_modules()) EXPECT_TRUE(module->training()) << name;
}

TEST(Module, EvalModeIsDeterministicAndTrainingModeDropsOut) {
  const auto encoder = small_encoder(small_config());
  Generator g(5);
  const ag::Var x(Tensor::randn({2, 4, 5}, g));
  encoder->eval();
  const Tensor a = encoder->forward(x).value(), b = encoder->forward(x).value();
  EXPECT_EQ(max_abs(a - b), 0.0);
  encoder->train();
  const Tensor c = encoder->forward(x).value();
  EXPECT_GT(max_abs(a - c), 0.0);
}

TEST(Module, RegistrationErrorsNameTheModule) {
  class Probe : public Module {
   public:
    void add(const std::string& name) { register_parameter(name, Tensor::zeros({2})); }
    void add_int(const std::string& name) { register_parameter(name, Tensor::zeros({2}, DType::Int64)); }
  };
  auto root = std::make_shared<ModuleList>();
  auto probe = root->append(std::make_shared<Probe>());
  probe->add("w");
  expect_error_mentions([&] { probe->add("w"); }, {"0", "'w'", "already registered"});
  expect_error_mentions([&] { probe->add("a.b"); }, {"must not contain"});
  expect_error_mentions([&] { probe->add_int("i"); }, {"float tensor"});
  auto other = std::make_shared<ModuleList>();
  expect_error_mentions([&] { other->append(probe); }, {"already belongs", "'0'"});
  expect_error_mentions([&] { (void)root->parameter("nope"); }, {"no parameter named 'nope'"});
}

TEST(Module, ShapeErrorsNameTheModuleAndTheShapes) {
  const auto encoder = small_encoder(small_config());
  expect_error_mentions([&] { encoder->forward(ag::Var(Tensor::zeros({2, 4, 7}))); }, {"<root>", "[2, 4, 7]", "5"});
  Generator init(0);
  auto list = std::make_shared<ModuleList>();
  auto attention = list->append(std::make_shared<SoftmaxAttention>(8, 2, 0.0, init, nullptr));
  expect_error_mentions([&] { attention->forward(ag::Var(Tensor::zeros({2, 3, 6})), {}); },
                        {"0 (SoftmaxAttention", "[2, 3, 6]", "[B, T, 8]"});
  Linear linear(4, 2, init);
  expect_error_mentions([&] { linear.forward(ag::Var(Tensor::zeros({3, 5}))); }, {"Linear(4 -> 2", "[3, 5]", "4 features"});
  expect_error_mentions([&] { SoftmaxAttention(6, 4, 0.0, init, nullptr); }, {"not divisible"});
}

TEST(Module, LinearIsXWTransposedPlusB) {
  Generator init(3);
  Linear linear(3, 2, init, true, DType::Float64);
  Generator g(4);
  const Tensor x = Tensor::randn({4, 3}, g, DType::Float64);
  const Tensor y = linear.forward(ag::Var(x)).value();
  const Tensor w = linear.weight().value(), b = linear.bias().value();
  for (int64_t i = 0; i < 4; ++i) {
    for (int64_t o = 0; o < 2; ++o) {
      double expected = b.at({o});
      for (int64_t k = 0; k < 3; ++k) expected += x.at({i, k}) * w.at({o, k});
      EXPECT_NEAR(y.at({i, o}), expected, 1e-12);
    }
  }
  // PyTorch's default initialisation bound 1/√in.
  EXPECT_LE(max_abs(w), 1.0 / std::sqrt(3.0));
}

TEST(SoftmaxAttention, IsCausalAndItsWeightsAreDistributions) {
  Generator init(1);
  SoftmaxAttention attention(8, 2, 0.0, init, nullptr, DType::Float64);
  Generator g(2);
  const Tensor x = Tensor::randn({2, 6, 8}, g, DType::Float64);
  const Tensor y = attention.forward(ag::Var(x), {}).value();
  // Changing step t must leave every output before t unchanged (exactly).
  for (int64_t t = 0; t < 6; ++t) {
    Tensor moved = x.clone();
    moved.slice(1, t, t + 1).add_(Tensor::ones({2, 1, 8}, DType::Float64), 3.0);
    const Tensor y_moved = attention.forward(ag::Var(moved), {}).value();
    if (t > 0) {
      EXPECT_EQ(max_abs(y_moved.slice(1, 0, t) - y.slice(1, 0, t)), 0.0) << "step " << t;
    }
    EXPECT_GT(max_abs(y_moved.slice(1, t, 6) - y.slice(1, t, 6)), 0.0) << "step " << t;
  }
  AttentionInputs both_ways;
  both_ways.causal = false;
  const Tensor y_full = attention.forward(ag::Var(x), both_ways).value();
  EXPECT_NEAR(max_abs(y_full.slice(1, 5, 6) - y.slice(1, 5, 6)), 0.0, 1e-12);  // the last step sees everything anyway
  EXPECT_GT(max_abs(y_full.slice(1, 0, 1) - y.slice(1, 0, 1)), 1e-6);
}

TEST(Transformer, ConfigRoundTripsThroughJsonAndRejectsUnknownKeys) {
  TransformerConfig config = small_config();
  config.activation = Activation::GELU;
  config.positional = PositionalKind::Sinusoidal;
  config.pre_norm = true;
  const nlohmann::json json = config;
  const TransformerConfig back = json.get<TransformerConfig>();
  EXPECT_EQ(nlohmann::json(back), json);
  nlohmann::json typo = json;
  typo["d_modle"] = 4;
  expect_error_mentions([&] { (void)typo.get<TransformerConfig>(); }, {"d_modle"});
  nlohmann::json bad = json;
  bad["num_heads"] = 3;
  expect_error_mentions([&] { (void)bad.get<TransformerConfig>(); }, {"num_heads 3"});
}

TEST(Transformer, PostAndPreLayerNormDiffer) {
  TransformerConfig post = small_config(), pre = small_config();
  post.dropout = pre.dropout = 0.0;
  pre.pre_norm = true;
  Generator g(9);
  const ag::Var x(Tensor::randn({1, 3, 5}, g));
  const Tensor a = small_encoder(post)->forward(x).value(), b = small_encoder(pre)->forward(x).value();
  EXPECT_EQ(a.shape(), (Shape{1, 3, 3}));
  EXPECT_GT(max_abs(a - b), 1e-4);
}

TEST(Transformer, SinusoidalTableMatchesTheFormula) {
  const Tensor table = sinusoidal_positions(5, 4, DType::Float64);
  EXPECT_NEAR(table.at({3, 0}), std::sin(3.0), 1e-12);
  EXPECT_NEAR(table.at({3, 1}), std::cos(3.0), 1e-12);
  EXPECT_NEAR(table.at({3, 2}), std::sin(3.0 / 100.0), 1e-12);
  EXPECT_NEAR(table.at({3, 3}), std::cos(3.0 / 100.0), 1e-12);
}

// ---- Module::to -----------------------------------------------------------------------------------
// (the GPU side, moved values and training on the device, is tests/nn/test_cuda_training.cpp)

TEST(ModuleDevice, MovingToTheCpuKeepsEveryHandleValueAndGradient) {
  const auto encoder = small_encoder(small_config());
  const NamedParameters before = encoder->named_parameters();
  const Tensor weight = before.front().second.value();
  ag::sum(encoder->forward(ag::Var(Tensor::ones({2, 3, 5})), {})).backward();
  encoder->to(Device::CPU);  // already there: nothing is copied, nothing dropped
  EXPECT_EQ(encoder->device(), Device::CPU);
  const NamedParameters after = encoder->named_parameters();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].second.data(), before[i].second.data()) << after[i].first;  // the same parameter
    EXPECT_TRUE(after[i].second.grad().defined()) << after[i].first;
  }
  EXPECT_EQ(after.front().second.value().data<float>(), weight.data<float>());  // the same storage
}

TEST(ModuleDevice, MovingToAMissingGpuNamesTheParameterAndMovesNothing) {
  if (cuda::available()) GTEST_SKIP() << "a GPU is present: " << cuda::device_description();
  const auto encoder = small_encoder(small_config());
  const Tensor first = encoder->named_parameters().front().second.value();
  stripes::testing::expect_error_message([&] { encoder->to(Device::CUDA); },
                                         {"cannot move parameter 'input_proj.weight'", "to cuda", cuda::device_description()});
  EXPECT_EQ(encoder->device(), Device::CPU);
  EXPECT_EQ(encoder->named_parameters().front().second.value().data<float>(), first.data<float>());
  EXPECT_EQ(encoder->forward(ag::Var(Tensor::ones({1, 2, 5})), {}).value().device(), Device::CPU);  // still usable
}

}  // namespace
