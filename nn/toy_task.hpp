// A first trainable model: a small causal Transformer on a synthetic sequence task.
//
// A sample is L payload symbols s ∈ {0..V−1}, a separator token V, then the answer y:
//   copy:     y = s          reverse:  y = s reversed          sort:  y = s sorted
//   sequence z = [s_1 .. s_L, SEP, y_1 .. y_L]        (2L + 1 tokens)
// The model reads z_0 .. z_{2L−1} (T = 2L) and predicts the next token at every position; the
// loss is the cross-entropy on the L answer positions only (t ≥ L: the target z_{t+1} is y), so
// chance level is ln V, and an exact answer needs attention to the right earlier position
// (copy: t − L, reverse: 2L − 1 − t) — a causal task that learned positions make solvable.
//
// Everything is seeded from one seed: parameters from Generator(seed), batches from
// Generator(seed + 1000003), dropout from Generator(seed + 2000003); the latter two are saved in
// checkpoints, so a resumed run continues bit for bit.
#pragma once

#include "nn/trainer.hpp"
#include "nn/transformer.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace stripes::nn {

enum class ToyTaskKind { Copy, Reverse, Sort };
const char* toy_task_name(ToyTaskKind kind);
ToyTaskKind parse_toy_task(const std::string& name);  // "copy" | "reverse" | "sort"

struct ToyBatch {
  Tensor tokens;   // int64 [B, 2L]: z_0 .. z_{2L−1}
  Tensor targets;  // int64 [B·2L]: z_{t+1} at answer positions, −100 (ignored) elsewhere
};
// Draws B samples from `generator` (advances it by B·L counters).
ToyBatch make_toy_batch(ToyTaskKind task, int64_t symbols, int64_t length, int64_t batch_size, Generator& generator);

struct ToyTaskOptions {
  ToyTaskKind task = ToyTaskKind::Copy;
  int64_t symbols = 8;            // V
  int64_t length = 8;             // L (the maximum under a curriculum)
  int64_t min_length = 0;         // curriculum: L grows from min_length to length ...
  int64_t curriculum_steps = 0;   // ... over these steps (0: no curriculum)
  int64_t batch_size = 32;
  uint64_t seed = 0;
  double learning_rate = 3e-3;    // Adam
  int64_t warmup_steps = 20;
  double decay_gamma = 1.0;       // per epoch
  int64_t steps_per_epoch = 0;
  double clip_grad_norm = 1.0;
  TransformerConfig model;        // input/output/positions are set from the task

  ToyTaskOptions();               // the defaults: d_model 32, 2 heads, d_ff 64, 2 pre-LN layers
  void validate() const;
};
void to_json(nlohmann::json& json, const ToyTaskOptions& options);
void from_json(const nlohmann::json& json, ToyTaskOptions& options);

class ToyExperiment {
 public:
  // `trainer_options` supplies dumps and the progress bar; the schedule, clipping, epochs and the
  // curriculum are set from `options`.
  explicit ToyExperiment(const ToyTaskOptions& options, TrainerOptions trainer_options = {});

  std::vector<double> train(int64_t steps, const std::function<void(int64_t, double)>& on_step = {});
  // Accuracy of the argmax prediction on the answer tokens of `batches` fresh batches (eval mode,
  // a generator of its own: training is not disturbed).
  double evaluate_accuracy(int64_t batches, uint64_t seed = 12345);
  // The loss on one batch, computed as in training (for tests).
  ag::Var loss_on(const ToyBatch& batch);

  void save_checkpoint(const std::string& path) const;
  // Restores a checkpoint written by an experiment with the same options (checked: a different
  // model or task is an error naming the differing field).
  void load_checkpoint(const std::string& path);
  // The options stored in a checkpoint (to build the experiment that can resume it).
  static ToyTaskOptions options_from_checkpoint(const std::string& path);

  TransformerEncoder& model() { return *model_; }
  Trainer& trainer() { return *trainer_; }
  const ToyTaskOptions& options() const { return options_; }
  nlohmann::json config() const;

 private:
  ToyTaskOptions options_;
  std::shared_ptr<Generator> data_generator_, dropout_generator_;
  std::shared_ptr<TransformerEncoder> model_;
  std::unique_ptr<Adam> optimizer_;
  std::unique_ptr<Trainer> trainer_;
};

}  // namespace stripes::nn
