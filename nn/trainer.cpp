#include "nn/trainer.hpp"

#include "autograd/recorder.hpp"
#include "nn/optim/clip.hpp"
#include "nn/progress.hpp"
#include "tensor/math.hpp"

#include <cmath>

namespace stripes::nn {

Trainer::Trainer(Module& model, Optimizer& optimizer, TrainerOptions options)
    : model_(model), optimizer_(optimizer), options_(std::move(options)) {
  STRIPES_CHECK(options_.steps_per_epoch >= 0, "trainer: steps_per_epoch must be >= 0, got {}", options_.steps_per_epoch);
  STRIPES_CHECK(options_.clip_grad_norm >= 0 && options_.clip_grad_value >= 0,
                "trainer: clipping thresholds must be >= 0 (0 = off)");
}

void Trainer::add_generator(const std::string& name, std::shared_ptr<Generator> generator) {
  STRIPES_CHECK(generator != nullptr, "trainer: generator '{}' is null", name);
  for (const auto& [existing, g] : generators_) {
    STRIPES_CHECK(existing != name, "trainer: a generator named '{}' was already added", name);
  }
  generators_.emplace_back(name, std::move(generator));
}

int64_t Trainer::epoch() const {
  return options_.steps_per_epoch > 0 ? state_.step / options_.steps_per_epoch : 0;
}

StepContext Trainer::context() const {
  StepContext context;
  context.step = state_.step;
  context.epoch = epoch();
  context.sequence_length = options_.sequence_length ? options_.sequence_length(state_.step) : 0;
  return context;
}

ag::Var Trainer::run_forward_backward(const LossFunction& loss_function, const StepContext& context) {
  model_.zero_grad();
  const ag::Var loss = loss_function(context);
  STRIPES_CHECK(loss.defined() && loss.numel() == 1, "trainer: step {}: the loss function must return a scalar, got {}",
                context.step, loss.defined() ? loss.value().description() : std::string("an undefined Var"));
  ag::record("loss", loss, "loss", "the training loss of this step");
  STRIPES_CHECK(loss.requires_grad(), "trainer: step {}: the loss does not depend on any parameter", context.step);
  loss.backward();
  return loss;
}

double Trainer::train_step(const LossFunction& loss_function) {
  const StepContext step_context = context();
  const double learning_rate = options_.schedule.at(step_context.step, step_context.epoch);
  optimizer_.set_learning_rate(learning_rate);
  std::vector<std::pair<uint64_t, uint64_t>> generator_states;
  for (const auto& [name, generator] : generators_) generator_states.emplace_back(generator->seed(), generator->offset());

  double loss_value = 0;
  const bool dumping = !options_.dump_path.empty() && step_context.step == options_.dump_step;
  if (dumping) {
    ag::Recorder recorder(options_.dump_path, options_.dump_filter);
    {
      ag::RecordingScope scope(recorder);
      loss_value = run_forward_backward(loss_function, step_context).item();
    }
    recorder.write_gradients(model_.named_parameters());
    recorder.write_root_attribute("step", step_context.step);
    recorder.write_root_attribute("epoch", step_context.epoch);
    recorder.write_root_attribute("learning_rate", learning_rate);
    recorder.write_root_attribute("loss", loss_value);
    recorder.close();
  } else {
    loss_value = run_forward_backward(loss_function, step_context).item();
  }

  if (options_.check_finite) {
    bool finite = std::isfinite(loss_value);
    for (const auto& [name, parameter] : model_.named_parameters()) {
      if (!finite) break;
      finite = !parameter.grad().defined() || all_finite(parameter.grad());
    }
    if (!finite) report_non_finite(loss_function, step_context, loss_value, generator_states);
  }

  const NamedParameters& parameters = optimizer_.parameters();
  last_grad_norm_ = options_.clip_grad_norm > 0 ? clip_grad_norm(parameters, options_.clip_grad_norm) : grad_norm(parameters);
  if (options_.clip_grad_value > 0) clip_grad_value(parameters, options_.clip_grad_value);
  optimizer_.step();
  ++state_.step;
  state_.epoch = epoch();
  return loss_value;
}

void Trainer::report_non_finite(const LossFunction& loss_function, const StepContext& context, double loss,
                                const std::vector<std::pair<uint64_t, uint64_t>>& generator_states) {
  std::string first_gradient;
  for (const auto& [name, parameter] : model_.named_parameters()) {
    if (parameter.grad().defined() && !all_finite(parameter.grad())) {
      first_gradient = name;
      break;
    }
  }
  std::string first_activation, dump_note;
  if (!options_.guard_dump_path.empty()) {
    // Replay the step with the recorder on: same generator states, parameters not updated yet.
    for (size_t i = 0; i < generators_.size(); ++i) {
      generators_[i].second->set_state(generator_states[i].first, generator_states[i].second);
    }
    ag::Recorder recorder(options_.guard_dump_path, options_.dump_filter);
    {
      ag::RecordingScope scope(recorder);
      try {
        run_forward_backward(loss_function, context);
      } catch (const Error&) {
        // the dump holds what was recorded before the failure
      }
    }
    recorder.write_gradients(model_.named_parameters());
    recorder.write_root_attribute("step", context.step);
    recorder.write_root_attribute("epoch", context.epoch);
    recorder.write_root_attribute("loss", loss);
    recorder.write_root_attribute("reason", std::string("non-finite loss or gradient"));
    if (const ag::Recorder::Entry* entry = recorder.first_non_finite()) first_activation = entry->name;
    recorder.close();
    dump_note = fmt::format("; the step was dumped to {}", options_.guard_dump_path);
  }
  throw_error("non-finite values at step {} (epoch {}): loss = {}{}{}{}", context.step, context.epoch, loss,
              first_activation.empty() ? "" : fmt::format("; first non-finite activation: {}", first_activation),
              first_gradient.empty() ? "" : fmt::format("; first parameter with a non-finite gradient: {}", first_gradient),
              dump_note);
}

std::vector<double> Trainer::train(const LossFunction& loss_function, int64_t steps,
                                   const std::function<void(int64_t, double)>& on_step) {
  std::vector<double> losses;
  losses.reserve(size_t(std::max<int64_t>(steps, 0)));
  const int64_t last = std::max(state_.step + steps, options_.progress_total);
  ProgressBar bar(options_.progress_label, state_.step, last, options_.progress ? stderr : nullptr);
  double tokens = 0;
  for (int64_t i = 0; i < steps; ++i) {
    if (options_.tokens_of_step) tokens += options_.tokens_of_step(state_.step);
    const double loss = train_step(loss_function);
    losses.push_back(loss);
    bar.update(state_.step, loss, tokens);
    if (on_step) on_step(state_.step, loss);
  }
  bar.finish();
  return losses;
}

void Trainer::save_checkpoint(const std::string& path, const nlohmann::json& config) const {
  nn::save_checkpoint(path, model_, &optimizer_, state_, generators_, config);
}

nlohmann::json Trainer::load_checkpoint(const std::string& path) {
  return nn::load_checkpoint(path, model_, &optimizer_, &state_, generators_);
}

}  // namespace stripes::nn
