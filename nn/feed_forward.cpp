#include "nn/feed_forward.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"

namespace stripes::nn {

std::string_view activation_name(Activation activation) {
  return activation == Activation::ReLU ? "relu" : "gelu";
}

Activation parse_activation(std::string_view name) {
  if (name == "relu") return Activation::ReLU;
  if (name == "gelu") return Activation::GELU;
  throw_error("unknown activation '{}' (expected relu or gelu)", name);
}

ag::Var apply_activation(Activation activation, const ag::Var& x) {
  return activation == Activation::ReLU ? ag::relu(x) : ag::gelu(x);
}

FeedForward::FeedForward(int64_t d_model, int64_t d_ff, Activation activation, double dropout, Generator& init,
                         std::shared_ptr<Generator> dropout_generator, DType dtype)
    : activation_(activation) {
  linear1_ = register_module("linear1", std::make_shared<Linear>(d_model, d_ff, init, true, dtype));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(dropout, std::move(dropout_generator)));
  linear2_ = register_module("linear2", std::make_shared<Linear>(d_ff, d_model, init, true, dtype));
}

std::string FeedForward::describe() const {
  return fmt::format("FeedForward({} -> {} -> {}, {})", linear1_->in_features(), linear1_->out_features(),
                     linear2_->out_features(), activation_name(activation_));
}

ag::Var FeedForward::forward(const ag::Var& x) {
  const ag::Var hidden = apply_activation(activation_, linear1_->forward(x));
  record("hidden", hidden, activation_name(activation_), "hidden activations act(x W1ᵀ + b1) [..., d_ff]");
  ag::Var y = linear2_->forward(dropout_->forward(hidden));
  record("out", y, "linear", "feed-forward output [..., d_model]");
  return y;
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_feed_forward_gradchecks(ag::GradcheckRegistry& registry) {
  for (Activation activation : {Activation::GELU, Activation::ReLU}) {
    // ReLU's kink is in the hidden pre-activations, which the checker cannot mask; with these seeds
    // none lies within h·|W| of 0 (a hit would show as one large error, not a subtle one).
    registry.add(module_gradcheck(
        "nn.FeedForward", fmt::format("x [2, 3, 4], d_ff 6, {}, dropout 0", activation_name(activation)),
        [activation] {
          Generator init(4);
          return std::make_shared<FeedForward>(4, 6, activation, 0.0, init, nullptr, DType::Float64);
        },
        {ag::normal({2, 3, 4})}, [](FeedForward& m, const std::vector<ag::Var>& in) { return m.forward(in[0]); }));
  }
  // Dropout inside: re-seeded before each evaluation so the mask is fixed.
  auto generator = std::make_shared<Generator>(6);
  registry.add(module_gradcheck(
      "nn.FeedForward", "x [2, 3, 4], d_ff 6, gelu, dropout 0.3 (fixed mask)",
      [generator] {
        Generator init(4);
        return std::make_shared<FeedForward>(4, 6, Activation::GELU, 0.3, init, generator, DType::Float64);
      },
      {ag::normal({2, 3, 4})}, [generator](FeedForward& m, const std::vector<ag::Var>& in) {
        generator->set_state(6, 0);
        return m.forward(in[0]);
      }));
}

}  // namespace stripes::nn
