// A small training loop: learning-rate schedule, sequence-length curriculum, gradient clipping,
// the NaN/Inf guard, intermediate dumps, checkpoints and a progress bar.
//
// One step s (0-based; epoch e = s / steps_per_epoch):
//   η ← schedule.at(s, e);  L ← sequence_length(s)
//   zero the gradients;  loss = loss_function({s, e, L});  loss.backward()
//   guard: loss and every parameter gradient finite, else stop (below)
//   clip (global norm, then value);  optimizer.step();  s ← s + 1
// The loss function draws its batch and runs the forward; it must take its randomness only from
// the generators added with add_generator() (data order, dropout, ...): they are saved in
// checkpoints, and restored to replay a step.
//
// NaN/Inf guard: when the loss or a gradient is not finite the step is replayed with the
// recorder on (same generator states, parameters not yet updated, so the same computation) into
// the guard's dump file when one is configured, and training stops with a stripes::Error that names
// the step, the epoch, the first non-finite recorded activation (in forward order) and the first
// parameter whose gradient is not finite.
//
// Dumps: with dump_path set, step dump_step is run with the recorder on (filter dump_filter):
// every recorded intermediate, every recorded gradient, every parameter and its gradient
// (before clipping) go to the file, with the root attributes step, epoch, learning_rate, loss.
#pragma once

#include "nn/checkpoint.hpp"
#include "nn/module.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/optim/schedule.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stripes::nn {

struct TrainerOptions {
  int64_t steps_per_epoch = 0;            // 0: the epoch stays 0
  LearningRateSchedule schedule;          // schedule.base is the learning rate
  std::function<int64_t(int64_t)> sequence_length;  // curriculum hook: step -> length (null: 0)
  double clip_grad_norm = 0;              // 0: no clipping by norm
  double clip_grad_value = 0;             // 0: no clipping by value
  bool check_finite = true;               // the NaN/Inf guard
  std::string dump_path;                  // "" : no dump
  std::string dump_filter;                // "" : everything
  int64_t dump_step = 0;                  // the step to dump
  std::string guard_dump_path;            // where the guard writes the failing step ("" : no dump)
  std::string progress_label = "train";
  bool progress = true;                   // progress bar on stderr
  int64_t progress_total = 0;             // the bar's last step (0: the end of each train() call)
  std::function<double(int64_t)> tokens_of_step;  // step -> tokens it trains on (the bar shows tokens/s)
};

struct StepContext {
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t sequence_length = 0;  // from the curriculum hook, 0 without one
};

using LossFunction = std::function<ag::Var(const StepContext&)>;

class Trainer {
 public:
  Trainer(Module& model, Optimizer& optimizer, TrainerOptions options);

  // Generators whose state is part of the run: saved in checkpoints, restored for replays.
  void add_generator(const std::string& name, std::shared_ptr<Generator> generator);
  const NamedGenerators& generators() const { return generators_; }

  // One step; returns the loss (before the update).
  double train_step(const LossFunction& loss_function);
  // `steps` steps with the progress bar; returns their losses. `on_step(step, loss)` is called
  // after each (step = the number of steps done).
  std::vector<double> train(const LossFunction& loss_function, int64_t steps,
                            const std::function<void(int64_t, double)>& on_step = {});

  int64_t step() const { return state_.step; }
  int64_t epoch() const;
  const TrainingState& state() const { return state_; }
  double last_grad_norm() const { return last_grad_norm_; }
  TrainerOptions& options() { return options_; }

  void save_checkpoint(const std::string& path, const nlohmann::json& config) const;
  // Restores model, optimizer, step/epoch and the added generators; returns the stored config.
  nlohmann::json load_checkpoint(const std::string& path);

 private:
  StepContext context() const;
  [[noreturn]] void report_non_finite(const LossFunction& loss_function, const StepContext& context, double loss,
                                      const std::vector<std::pair<uint64_t, uint64_t>>& generator_states);
  ag::Var run_forward_backward(const LossFunction& loss_function, const StepContext& context);

  Module& model_;
  Optimizer& optimizer_;
  TrainerOptions options_;
  NamedGenerators generators_;
  TrainingState state_;
  double last_grad_norm_ = 0;
};

}  // namespace stripes::nn
