#include "experiments/toy/toy_learned.hpp"

#include "nn/optim/optimizer.hpp"
#include "tensor/math.hpp"

#include <cmath>

namespace stripes::toy {

namespace {

// A batch of toy sets as tensors: content [B, 1, T, 2], positions [B, T], masks [B, 1, T, T].
struct Batch {
  Tensor content, positions;
  Tensor other;  // 1 where n ≠ m
  Tensor same;   // 1 where n ≠ m and ctx(n) = ctx(m)
};

Batch draw_batch(const ToyOptions& data, int64_t sets, Generator& generator) {
  std::vector<Tensor> contents, positions;
  std::vector<double> other, same;
  for (int64_t b = 0; b < sets; ++b) {
    const ToySet set = draw_toy_set(data, generator);
    const int64_t t = set.points();
    contents.push_back(set.content().reshape({1, 1, t, 2}));
    positions.push_back(set.positions());
    for (int64_t m = 0; m < t; ++m) {
      for (int64_t n = 0; n < t; ++n) {
        other.push_back(m != n ? 1.0 : 0.0);
        same.push_back(m != n && set.context[size_t(m)] == set.context[size_t(n)] ? 1.0 : 0.0);
      }
    }
  }
  const int64_t t = contents.front().size(2);
  return {concat(contents, 0), concat(positions, 0), Tensor::from_vector(other, {sets, 1, t, t}),
          Tensor::from_vector(same, {sets, 1, t, t})};
}

struct Parameters {
  ag::Var w_query, w_key, theta;
};

// Scores [B, 1, T, T] of the model on a batch.
ag::Var model_scores(Method method, const Parameters& p, const Batch& batch) {
  const ag::Var x(batch.content);
  const ag::Var q = ag::matmul(x, ag::transpose(p.w_query, 0, 1));  // q_j = W_q x_j
  const ag::Var k = ag::matmul(x, ag::transpose(p.w_key, 0, 1));    // k_j = W_k x_j
  return toy_pe_scores(method, q, k, batch.positions, ag::sigmoid(p.theta));
}

// L = mean_m [log Σ_{n≠m} e^{s_mn} − log Σ_{same, n≠m} e^{s_mn}]; the row maximum (a constant)
// is subtracted first and cancels between the two terms.
ag::Var contrastive_loss(const ag::Var& scores, const Batch& batch) {
  const Tensor row_max = max(scores.value(), {-1}, true);
  const ag::Var e = ag::exp(scores - ag::Var(row_max));
  const ag::Var all = ag::sum(e * ag::Var(batch.other), {-1});
  const ag::Var positive = ag::sum(e * ag::Var(batch.same), {-1});
  return ag::mean(ag::log(all) - ag::log(positive));
}

// Share of queries whose highest-scoring other key shares their context.
double retrieval_accuracy(const Tensor& scores, const Batch& batch) {
  const Tensor s = scores.contiguous();
  const int64_t t = s.size(-1), rows = s.numel() / t;
  const double* a = s.data<double>();
  const Tensor other = batch.other.contiguous(), same = batch.same.contiguous();
  const double* o = other.data<double>();
  const double* p = same.data<double>();
  int64_t hits = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t best = -1;
    for (int64_t n = 0; n < t; ++n) {
      if (o[r * t + n] == 0.0) continue;
      if (best < 0 || a[r * t + n] > a[r * t + best]) best = n;
    }
    hits += best >= 0 && p[r * t + best] != 0.0 ? 1 : 0;
  }
  return double(hits) / double(rows);
}

}  // namespace

LearnedModel train_toy_model(Method method, const ToyOptions& data, const LearnedOptions& options) {
  STRIPES_CHECK(options.steps >= 0 && options.batch >= 1 && options.eval_sets >= 1,
                "toy: learned model needs steps >= 0, batch >= 1 and eval sets >= 1 (got {}, {}, {})", options.steps,
                options.batch, options.eval_sets);
  Parameters p{ag::Var(Tensor::from_vector(std::vector<double>{1, 0, 0, 1}, {2, 2}), true, "w_query"),
               ag::Var(Tensor::from_vector(std::vector<double>{1, 0, 0, 1}, {2, 2}), true, "w_key"),
               ag::Var(Tensor::zeros({1}, DType::Float64), true, "theta")};
  nn::Adam adam({{"w_query", p.w_query}, {"w_key", p.w_key}, {"theta", p.theta}}, {.learning_rate = options.learning_rate});

  // Separate streams for the evaluation sets and the training sets, both from options.seed.
  Generator eval_generator(options.seed * 2 + 1), train_generator(options.seed * 2 + 2);
  const Batch eval = draw_batch(data, options.eval_sets, eval_generator);
  auto evaluate = [&](double& loss, double& accuracy) {
    ag::NoGradGuard no_grad;
    const ag::Var scores = model_scores(method, p, eval);
    loss = contrastive_loss(scores, eval).item();
    accuracy = retrieval_accuracy(scores.value(), eval);
  };

  LearnedModel out;
  out.method = method;
  evaluate(out.initial_loss, out.initial_accuracy);
  for (int64_t step = 0; step < options.steps; ++step) {
    const Batch batch = draw_batch(data, options.batch, train_generator);
    adam.zero_grad();
    const ag::Var loss = contrastive_loss(model_scores(method, p, batch), batch);
    loss.backward();
    adam.step();
    out.losses.push_back(loss.item());
  }
  evaluate(out.final_loss, out.final_accuracy);
  out.w_query = p.w_query.value().clone();
  out.w_key = p.w_key.value().clone();
  out.frequency = 1.0 / (1.0 + std::exp(-p.theta.value().item()));
  return out;
}

}  // namespace stripes::toy
