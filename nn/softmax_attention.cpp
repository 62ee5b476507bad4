#include "nn/softmax_attention.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"

#include <cmath>
#include <limits>

namespace stripes::nn {

Tensor causal_mask(int64_t length, Device device) {
  Tensor mask = Tensor::zeros({length, length}, DType::UInt8);
  uint8_t* m = mask.mutable_data<uint8_t>();
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t u = t + 1; u < length; ++u) m[t * length + u] = 1;
  }
  return mask.to(device);
}

ag::Var split_heads(const ag::Var& x, int64_t num_heads) {
  const int64_t batch = x.size(0), length = x.size(1), width = x.size(2);
  return ag::permute(ag::reshape(x, {batch, length, num_heads, width / num_heads}), {0, 2, 1, 3});
}

ag::Var merge_heads(const ag::Var& x) {
  const int64_t batch = x.size(0), heads = x.size(1), length = x.size(2), head_dim = x.size(3);
  return ag::reshape(ag::permute(x, {0, 2, 1, 3}), {batch, length, heads * head_dim});
}

SoftmaxAttention::SoftmaxAttention(int64_t d_model, int64_t num_heads, double attention_dropout, Generator& init,
                                   std::shared_ptr<Generator> dropout_generator, DType dtype)
    : d_model_(d_model), num_heads_(num_heads), head_dim_(num_heads > 0 ? d_model / num_heads : 0) {
  STRIPES_CHECK(num_heads > 0 && d_model % num_heads == 0,
                "SoftmaxAttention: d_model {} is not divisible by {} heads", d_model, num_heads);
  q_proj_ = register_module("q_proj", std::make_shared<Linear>(d_model, d_model, init, true, dtype));
  k_proj_ = register_module("k_proj", std::make_shared<Linear>(d_model, d_model, init, true, dtype));
  v_proj_ = register_module("v_proj", std::make_shared<Linear>(d_model, d_model, init, true, dtype));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(d_model, d_model, init, true, dtype));
  attn_dropout_ = register_module("attn_dropout", std::make_shared<Dropout>(attention_dropout, std::move(dropout_generator)));
}

std::string SoftmaxAttention::describe() const {
  return fmt::format("SoftmaxAttention(d_model {}, {} heads of {})", d_model_, num_heads_, head_dim_);
}

ag::Var SoftmaxAttention::forward(const ag::Var& x, const AttentionInputs& inputs) {
  if (x.dim() != 3 || x.size(2) != d_model_) {
    fail(fmt::format("input {} must be [B, T, {}]", x.value().description(), d_model_));
  }
  const int64_t length = x.size(1);
  const ag::Var q = split_heads(q_proj_->forward(x), num_heads_);
  const ag::Var k = split_heads(k_proj_->forward(x), num_heads_);
  const ag::Var v = split_heads(v_proj_->forward(x), num_heads_);
  record("q", q, "linear", "queries x W_qᵀ + b_q split into heads [B, H, T, Dh]");
  record("k", k, "linear", "keys x W_kᵀ + b_k split into heads [B, H, T, Dh]");
  record("v", v, "linear", "values x W_vᵀ + b_v split into heads [B, H, T, Dh]");

  const ag::Var scores = ag::matmul(q, ag::transpose(k, 2, 3)) * (1.0 / std::sqrt(double(head_dim_)));
  record("scores", scores, "matmul", "scaled scores q kᵀ / √Dh before the causal mask [B, H, T, T]");
  const ag::Var masked =
      inputs.causal ? ag::masked_fill(scores, causal_mask(length, scores.value().device()), -std::numeric_limits<double>::infinity()) : scores;
  const ag::Var weights = ag::softmax(masked, -1);
  record("weights", weights, "softmax",
         inputs.causal ? "attention weights softmax(scores + causal mask) [B, H, T, T], rows sum to 1"
                       : "attention weights softmax(scores) [B, H, T, T], rows sum to 1");
  const ag::Var context = merge_heads(ag::matmul(attn_dropout_->forward(weights), v));
  record("context", context, "matmul", "weighted values, heads merged, before out_proj [B, T, D]");
  ag::Var y = out_proj_->forward(context);
  record("out", y, "linear", "attention output context W_oᵀ + b_o [B, T, D]");
  return y;
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_softmax_attention_gradchecks(ag::GradcheckRegistry& registry) {
  for (bool causal : {true, false}) {
    registry.add(module_gradcheck(
        "nn.SoftmaxAttention", fmt::format("x [2, 3, 4], 2 heads, {}", causal ? "causal" : "not causal"),
        [] {
          Generator init(7);
          return std::make_shared<SoftmaxAttention>(4, 2, 0.0, init, nullptr, DType::Float64);
        },
        {ag::normal({2, 3, 4})}, [causal](SoftmaxAttention& m, const std::vector<ag::Var>& in) {
          AttentionInputs inputs;
          inputs.causal = causal;
          return m.forward(in[0], inputs);
        }));
  }
  auto generator = std::make_shared<Generator>(8);
  registry.add(module_gradcheck(
      "nn.SoftmaxAttention", "x [1, 4, 4], 2 heads, causal, attention dropout 0.2 (fixed mask)",
      [generator] {
        Generator init(9);
        return std::make_shared<SoftmaxAttention>(4, 2, 0.2, init, generator, DType::Float64);
      },
      {ag::normal({1, 4, 4})}, [generator](SoftmaxAttention& m, const std::vector<ag::Var>& in) {
        generator->set_state(8, 0);
        return m.forward(in[0], AttentionInputs{});
      }));
}

}  // namespace stripes::nn
