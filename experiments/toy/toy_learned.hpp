// The figure the paper does not draw: the toy score maps from *learned* features.
//
// Model (one attention score layer, per PE method, float64):
//   q_j = W_q x_j,  k_j = W_k x_j          x_j = [cos ψ_j, sin ψ_j],  W_q, W_k ∈ R^{2×2} (init: identity)
//   f = sigmoid(θ) ∈ (0, 1)                one learned frequency shared by every frequency slot of the
//                                          PE (init θ = 0: f = 0.5); the paper's f ∈ [0, 1]
//   s_mn = encode(q_m) · encode(k_n)       the project's PE (toy_pe_scores), positions ξ
// Objective (contrastive, every point of a set is a query): over the other keys n ≠ m of the same
// set, softmax(s_m·); the loss is −log of the probability mass on the keys of m's own context,
//   L = mean_m [ log Σ_{n≠m} e^{s_mn} − log Σ_{n≠m, ctx(n)=ctx(m)} e^{s_mn} ].
// Each step draws `batch` fresh toy sets (same contexts, new ψ); Adam (nn/optim), `steps` steps.
// Retrieval accuracy: share of queries whose highest-scoring other key is in their own context.
#pragma once

#include "experiments/toy/toy_study.hpp"

#include <vector>

namespace stripes::toy {

struct LearnedOptions {
  int64_t steps = 300;
  int64_t batch = 16;            // toy sets per step
  double learning_rate = 0.05;   // Adam
  uint64_t seed = 1;             // the training draws (the figure's set uses ToyOptions::seed)
  int64_t eval_sets = 64;        // fresh sets for the accuracy before and after training
};

struct LearnedModel {
  Method method = Method::Rope;
  Tensor w_query, w_key;         // [2, 2] float64
  double frequency = 0.5;        // sigmoid(θ)
  std::vector<double> losses;    // per step
  double initial_accuracy = 0;   // retrieval accuracy at the initialisation (W = I, f = 0.5)
  double final_accuracy = 0;     // after training, same evaluation sets
  double initial_loss = 0, final_loss = 0;  // on the evaluation sets
};

LearnedModel train_toy_model(Method method, const ToyOptions& data, const LearnedOptions& options);

}  // namespace stripes::toy
