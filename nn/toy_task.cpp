#include "nn/toy_task.hpp"

#include "autograd/ops.hpp"

#include <algorithm>

namespace stripes::nn {

const char* toy_task_name(ToyTaskKind kind) {
  switch (kind) {
    case ToyTaskKind::Copy: return "copy";
    case ToyTaskKind::Reverse: return "reverse";
    case ToyTaskKind::Sort: return "sort";
  }
  return "?";
}

ToyTaskKind parse_toy_task(const std::string& name) {
  if (name == "copy") return ToyTaskKind::Copy;
  if (name == "reverse") return ToyTaskKind::Reverse;
  if (name == "sort") return ToyTaskKind::Sort;
  throw_error("unknown toy task '{}' (expected copy, reverse or sort)", name);
}

ToyBatch make_toy_batch(ToyTaskKind task, int64_t symbols, int64_t length, int64_t batch_size, Generator& generator) {
  STRIPES_CHECK(symbols > 1 && length > 0 && batch_size > 0, "toy batch: need symbols > 1, length > 0, batch > 0");
  const std::vector<double> uniform = Tensor::rand({batch_size, length}, generator, DType::Float64).to_vector<double>();
  const int64_t steps = 2 * length;
  std::vector<int64_t> tokens(size_t(batch_size * steps)), targets(size_t(batch_size * steps), -100);
  std::vector<int64_t> payload(static_cast<size_t>(length)), answer;
  for (int64_t b = 0; b < batch_size; ++b) {
    for (int64_t i = 0; i < length; ++i) {
      payload[size_t(i)] = std::min(symbols - 1, int64_t(uniform[size_t(b * length + i)] * double(symbols)));
    }
    answer = payload;
    if (task == ToyTaskKind::Reverse) std::reverse(answer.begin(), answer.end());
    if (task == ToyTaskKind::Sort) std::sort(answer.begin(), answer.end());
    // z = [payload, SEP, answer]; tokens = z[0 .. 2L−1]; target at t = z[t+1] for t ≥ L.
    std::vector<int64_t> z(payload);
    z.push_back(symbols);
    z.insert(z.end(), answer.begin(), answer.end());
    for (int64_t t = 0; t < steps; ++t) {
      tokens[size_t(b * steps + t)] = z[size_t(t)];
      if (t >= length) targets[size_t(b * steps + t)] = z[size_t(t + 1)];
    }
  }
  return {Tensor::from_vector(tokens, {batch_size, steps}), Tensor::from_vector(targets, {batch_size * steps})};
}

ToyTaskOptions::ToyTaskOptions() {
  model.input = InputKind::Tokens;
  model.positional = PositionalKind::Learned;
  model.d_model = 32;
  model.num_heads = 2;
  model.d_ff = 64;
  model.num_layers = 2;
  model.dropout = 0.0;
  model.activation = Activation::ReLU;
  model.pre_norm = true;
  model.final_norm = true;
}

void ToyTaskOptions::validate() const {
  STRIPES_CHECK(symbols > 1, "toy task: symbols must be > 1, got {}", symbols);
  STRIPES_CHECK(length > 0 && batch_size > 0, "toy task: length {} and batch_size {} must be positive", length,
                batch_size);
  STRIPES_CHECK(curriculum_steps == 0 || (min_length > 0 && min_length <= length),
                "toy task: a curriculum needs 0 < min_length <= length, got {} and {}", min_length, length);
  model.validate();
}

void to_json(nlohmann::json& json, const ToyTaskOptions& o) {
  json = {{"task", toy_task_name(o.task)},
          {"symbols", o.symbols},
          {"length", o.length},
          {"min_length", o.min_length},
          {"curriculum_steps", o.curriculum_steps},
          {"batch_size", o.batch_size},
          {"seed", o.seed},
          {"learning_rate", o.learning_rate},
          {"warmup_steps", o.warmup_steps},
          {"decay_gamma", o.decay_gamma},
          {"steps_per_epoch", o.steps_per_epoch},
          {"clip_grad_norm", o.clip_grad_norm},
          {"model", o.model}};
}

void from_json(const nlohmann::json& json, ToyTaskOptions& o) {
  STRIPES_CHECK(json.is_object(), "toy task config: expected a JSON object");
  o = ToyTaskOptions{};
  for (const auto& [key, value] : json.items()) {
    try {
      if (key == "task") o.task = parse_toy_task(value.get<std::string>());
      else if (key == "symbols") o.symbols = value.get<int64_t>();
      else if (key == "length") o.length = value.get<int64_t>();
      else if (key == "min_length") o.min_length = value.get<int64_t>();
      else if (key == "curriculum_steps") o.curriculum_steps = value.get<int64_t>();
      else if (key == "batch_size") o.batch_size = value.get<int64_t>();
      else if (key == "seed") o.seed = value.get<uint64_t>();
      else if (key == "learning_rate") o.learning_rate = value.get<double>();
      else if (key == "warmup_steps") o.warmup_steps = value.get<int64_t>();
      else if (key == "decay_gamma") o.decay_gamma = value.get<double>();
      else if (key == "steps_per_epoch") o.steps_per_epoch = value.get<int64_t>();
      else if (key == "clip_grad_norm") o.clip_grad_norm = value.get<double>();
      else if (key == "model") o.model = value.get<TransformerConfig>();
      else throw_error("unknown key");
    } catch (const nlohmann::json::exception& e) {
      throw_error("toy task config: field '{}' = {}: {}", key, value.dump(), e.what());
    } catch (const Error& e) {
      throw_error("toy task config: field '{}': {}", key, e.what());
    }
  }
  o.validate();
}

ToyExperiment::ToyExperiment(const ToyTaskOptions& options, TrainerOptions trainer_options) : options_(options) {
  // The task fixes the model's ends: tokens in (V symbols + SEP), V logits out, 2L positions.
  options_.model.input = InputKind::Tokens;
  options_.model.input_dim = options_.symbols + 1;
  options_.model.output_dim = options_.symbols;
  if (options_.model.positional == PositionalKind::Learned) options_.model.max_length = 2 * options_.length;
  options_.validate();

  Generator init(options_.seed);
  data_generator_ = std::make_shared<Generator>(options_.seed + 1000003);
  dropout_generator_ = std::make_shared<Generator>(options_.seed + 2000003);
  model_ = std::make_shared<TransformerEncoder>(
      options_.model, softmax_attention_factory(options_.model, init, dropout_generator_), init, dropout_generator_);
  optimizer_ = std::make_unique<Adam>(model_->named_parameters(), AdamOptions{.learning_rate = options_.learning_rate});

  trainer_options.schedule = {options_.learning_rate, options_.warmup_steps, options_.decay_gamma, 1};
  trainer_options.steps_per_epoch = options_.steps_per_epoch;
  trainer_options.clip_grad_norm = options_.clip_grad_norm;
  if (options_.curriculum_steps > 0) {
    trainer_options.sequence_length = SequenceLengthCurriculum{options_.min_length, options_.length,
                                                               options_.curriculum_steps, 1}.hook();
  }
  trainer_ = std::make_unique<Trainer>(*model_, *optimizer_, std::move(trainer_options));
  trainer_->add_generator("data", data_generator_);
  trainer_->add_generator("dropout", dropout_generator_);
}

nlohmann::json ToyExperiment::config() const { return {{"experiment", "train-toy"}, {"toy", options_}}; }

ag::Var ToyExperiment::loss_on(const ToyBatch& batch) {
  ag::record("tokens", batch.tokens, "input", "input tokens z_0 .. z_{2L-1} [B, T]");
  ag::record("targets", batch.targets, "input", "next-token targets at answer positions, -100 elsewhere [B*T]");
  const ag::Var logits = model_->forward_tokens(batch.tokens);
  const int64_t rows = logits.size(0) * logits.size(1);
  return ag::cross_entropy(ag::reshape(logits, {rows, options_.symbols}), batch.targets);
}

std::vector<double> ToyExperiment::train(int64_t steps, const std::function<void(int64_t, double)>& on_step) {
  model_->train();
  const LossFunction loss_function = [this](const StepContext& context) {
    const int64_t length = context.sequence_length > 0 ? context.sequence_length : options_.length;
    return loss_on(make_toy_batch(options_.task, options_.symbols, length, options_.batch_size, *data_generator_));
  };
  return trainer_->train(loss_function, steps, on_step);
}

double ToyExperiment::evaluate_accuracy(int64_t batches, uint64_t seed) {
  ag::NoGradGuard no_grad;
  model_->eval();
  Generator generator(seed);
  int64_t correct = 0, total = 0;
  for (int64_t i = 0; i < batches; ++i) {
    const ToyBatch batch = make_toy_batch(options_.task, options_.symbols, options_.length, options_.batch_size, generator);
    const Tensor logits = model_->forward_tokens(batch.tokens).value();
    const int64_t rows = logits.size(0) * logits.size(1);
    const std::vector<float> scores = logits.to(DType::Float32).reshape({rows, options_.symbols}).to_vector<float>();
    const std::vector<int64_t> targets = batch.targets.to_vector<int64_t>();
    for (int64_t r = 0; r < rows; ++r) {
      if (targets[size_t(r)] < 0) continue;
      const float* row = scores.data() + r * options_.symbols;
      const int64_t predicted = std::max_element(row, row + options_.symbols) - row;
      correct += predicted == targets[size_t(r)];
      ++total;
    }
  }
  model_->train();
  return total > 0 ? double(correct) / double(total) : 0.0;
}

void ToyExperiment::save_checkpoint(const std::string& path) const { trainer_->save_checkpoint(path, config()); }

ToyTaskOptions ToyExperiment::options_from_checkpoint(const std::string& path) {
  const nlohmann::json config = read_checkpoint_config(path);
  STRIPES_CHECK(config.value("experiment", std::string()) == "train-toy" && config.contains("toy"),
                "checkpoint {}: not a train-toy checkpoint (config: {})", path, config.dump());
  return config["toy"].get<ToyTaskOptions>();
}

void ToyExperiment::load_checkpoint(const std::string& path) {
  const nlohmann::json stored = options_from_checkpoint(path);
  const nlohmann::json ours = options_;
  const nlohmann::json stored_json = nlohmann::json(stored);
  for (const auto& [key, value] : ours.items()) {
    if (key == "model") {
      for (const auto& [model_key, model_value] : value.items()) {
        STRIPES_CHECK(stored_json["model"].value(model_key, nlohmann::json()) == model_value,
                      "checkpoint {}: model.{} is {} in the checkpoint, {} here", path, model_key,
                      stored_json["model"].value(model_key, nlohmann::json()).dump(), model_value.dump());
      }
    } else if (key == "task" || key == "symbols" || key == "length") {
      STRIPES_CHECK(stored_json.value(key, nlohmann::json()) == value, "checkpoint {}: {} is {} in the checkpoint, {} here",
                    path, key, stored_json.value(key, nlohmann::json()).dump(), value.dump());
    }
  }
  trainer_->load_checkpoint(path);
}

}  // namespace stripes::nn
