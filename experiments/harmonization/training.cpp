#include "experiments/harmonization/training.hpp"

#include "autograd/variable.hpp"
#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "data/song_cache.hpp"
#include "experiments/harmonization/paper_results.hpp"
#include "nn/checkpoint.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/optim/schedule.hpp"
#include "nn/trainer.hpp"
#include "tensor/error.hpp"

#include <fmt/format.h>
#include <fmt/os.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

namespace stripes::harmonization {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCheckpointFile = "checkpoint.h5";
constexpr const char* kConfigFile = "config.json";

void write_json(const fs::path& path, const nlohmann::json& json) {
  std::ofstream out(path);
  STRIPES_CHECK(out.good(), "cannot write {}", path.string());
  out << json.dump(2) << "\n";
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  STRIPES_CHECK(in.good(), "cannot read {}", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const std::exception& error) {
    throw Error(fmt::format("{}: not valid JSON: {}", path.string(), error.what()));
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

HarmonizationData load_harmonization_data(const std::string& data_dir, bool progress) {
  const data::Pop909Catalog catalog = data::load_pop909_catalog(data::resolve_data_root(data_dir));
  data::SongCacheOptions cache;
  cache.progress = progress;
  const data::CachedSongs loaded = data::load_songs_cached(catalog, {}, cache);
  HarmonizationData result;
  result.songs = loaded.songs;
  result.encoder = std::make_shared<const data::ContextEncoder>(catalog.chords);
  return result;
}

std::vector<int64_t> evenly_spaced_indices(int64_t count, int64_t max) {
  std::vector<int64_t> indices;
  if (count <= 0) return indices;
  if (max <= 0 || max >= count) {
    indices.resize(size_t(count));
    std::iota(indices.begin(), indices.end(), int64_t(0));
    return indices;
  }
  indices.reserve(size_t(max));
  for (int64_t i = 0; i < max; ++i) indices.push_back(i * count / max);
  return indices;
}

data::WindowDataset make_dataset(const HarmonizationConfig& config, const HarmonizationData& data, data::Split split,
                                 int sequence_length) {
  STRIPES_CHECK(data.songs && data.encoder, "harmonization: no data loaded");
  data::DatasetOptions options;
  options.split = split;
  options.sequence_length = sequence_length;
  options.context = config.context_type();
  return data::WindowDataset(data.songs, data.encoder, options);
}

int64_t total_steps(const HarmonizationConfig& config, int64_t train_windows) {
  if (config.steps > 0) return config.steps;
  return config.epochs * std::max<int64_t>(1, train_windows / config.batch_size);
}

TrainResult train_harmonization(const HarmonizationConfig& config, const HarmonizationData& data,
                                const TrainRunOptions& options) {
  config.validate();
  STRIPES_CHECK(!options.run_dir.empty(), "train: a run directory is required");
  const fs::path run_dir(options.run_dir);
  fs::create_directories(run_dir);

  const data::WindowDataset dataset = make_dataset(config, data, data::Split::kTrain, config.sequence_length);
  const std::vector<int64_t> subset = evenly_spaced_indices(dataset.size(), config.max_train_windows);
  const int64_t windows = int64_t(subset.size());
  STRIPES_CHECK(windows >= config.batch_size, "train: {} training windows of T = {} (need at least batch_size = {})",
                windows, config.sequence_length, config.batch_size);
  const int64_t batch_size = config.batch_size;
  const int64_t steps_per_epoch = windows / batch_size;
  const int64_t steps = total_steps(config, windows);

  auto model = std::make_shared<HarmonizationModel>(config);
  model->to(options.device);  // before the optimizer: its moments are made beside the parameters
  nlohmann::json config_json;
  to_json(config_json, config);
  const fs::path checkpoint_path = run_dir / kCheckpointFile;
  const bool resuming = fs::exists(checkpoint_path) && options.resume;
  STRIPES_CHECK(!fs::exists(checkpoint_path) || options.resume || options.overwrite,
                "train: {} already holds a run ({}); resume it (--resume) or start over (--overwrite)",
                run_dir.string(), checkpoint_path.string());
  if (resuming) {
    const nlohmann::json stored = nn::read_checkpoint_config(checkpoint_path.string());
    STRIPES_CHECK(stored.contains("harmonization"), "{}: not a harmonization checkpoint", checkpoint_path.string());
    std::vector<std::string> differing;
    for (const auto& [key, value] : config_json.items()) {
      if (key == "checkpoint_every") continue;  // how often to save is not part of the run
      if (!stored["harmonization"].contains(key) || stored["harmonization"][key] != value) differing.push_back(key);
    }
    STRIPES_CHECK(differing.empty(), "train --resume: {} was trained with another configuration (differs in: {})",
                  checkpoint_path.string(), fmt::join(differing, ", "));
  }
  write_json(run_dir / kConfigFile, config_json);

  nn::Adam optimizer(model->named_parameters(), nn::AdamOptions{.learning_rate = config.learning_rate});
  nn::TrainerOptions trainer_options;
  trainer_options.steps_per_epoch = steps_per_epoch;
  trainer_options.schedule.base = config.learning_rate;
  trainer_options.schedule.warmup_steps = config.warmup_steps;
  trainer_options.schedule.decay_gamma = config.decay_gamma;
  nn::SequenceLengthCurriculum curriculum;
  curriculum.end = config.sequence_length;
  curriculum.start = std::min<int64_t>(config.curriculum_start, config.sequence_length);
  curriculum.ramp_steps = config.curriculum_ramp_steps;
  curriculum.multiple_of = std::min<int64_t>(config.curriculum_multiple, curriculum.start);
  trainer_options.sequence_length = curriculum.hook();
  trainer_options.clip_grad_norm = config.clip_grad_norm;
  trainer_options.progress = options.progress;
  trainer_options.progress_label = fmt::format("train {} {}", config.pe, config.context);
  trainer_options.progress_total = steps;
  trainer_options.tokens_of_step = [&curriculum, batch_size](int64_t step) { return double(batch_size * curriculum.at(step)); };
  trainer_options.guard_dump_path = (run_dir / "nonfinite.h5").string();
  nn::Trainer trainer(*model, optimizer, trainer_options);
  for (const auto& [name, generator] : model->run_generators()) trainer.add_generator(name, generator);

  TrainResult result;
  result.train_windows = windows;
  result.steps_per_epoch = steps_per_epoch;
  result.checkpoint_path = checkpoint_path.string();
  double tokens = 0, previous_seconds = 0;
  // The log rows of the steps already taken (resume): kept, and their losses count in the result.
  std::vector<std::string> kept_rows;
  if (resuming) {
    trainer.load_checkpoint(checkpoint_path.string());
    result.resumed_from = trainer.step();
    model->resume_at_step(result.resumed_from);
    std::ifstream old_log(run_dir / "train_log.csv");
    std::string row;
    std::getline(old_log, row);  // header
    while (std::getline(old_log, row)) {
      // step,epoch,learning_rate,sequence_length,loss,grad_norm,seconds
      std::vector<std::string> fields;
      std::stringstream stream(row);
      for (std::string field; std::getline(stream, field, ',');) fields.push_back(field);
      if (fields.size() != 7 || std::stoll(fields[0]) >= result.resumed_from) continue;
      kept_rows.push_back(row);
      result.losses.push_back(std::stod(fields[4]));
      tokens += double(batch_size) * std::stod(fields[3]);
      previous_seconds = std::stod(fields[6]);
    }
    STRIPES_CHECK(int64_t(kept_rows.size()) == result.resumed_from,
                  "train --resume: {} holds {} steps but train_log.csv has {} rows of them", checkpoint_path.string(),
                  result.resumed_from, kept_rows.size());
  }

  // The batch of a step: a pure function of (seed, step).
  int64_t cached_epoch = -1;
  std::vector<int64_t> order;
  const nn::LossFunction loss_function = [&](const nn::StepContext& context) {
    const int64_t epoch = context.step / steps_per_epoch;
    const int64_t within = context.step % steps_per_epoch;
    if (epoch != cached_epoch) {
      order = data::shuffled_indices(windows, config.seed, uint64_t(epoch));
      cached_epoch = epoch;
    }
    std::vector<int64_t> indices;
    for (int64_t i = 0; i < batch_size; ++i) indices.push_back(subset[size_t(order[size_t(within * batch_size + i)])]);
    const data::Batch batch = dataset.batch(indices);
    const int64_t length = std::clamp<int64_t>(context.sequence_length, 1, config.sequence_length);
    const auto cut = [length](const Tensor& tensor) { return tensor.slice(1, 0, length).contiguous(); };
    return model->loss(cut(batch.input), cut(batch.target), cut(batch.positions));
  };

  std::FILE* log = std::fopen((run_dir / "train_log.csv").c_str(), "w");
  STRIPES_CHECK(log != nullptr, "train: cannot write {}", (run_dir / "train_log.csv").string());
  std::fprintf(log, "step,epoch,learning_rate,sequence_length,loss,grad_norm,seconds\n");
  for (const std::string& row : kept_rows) std::fprintf(log, "%s\n", row.c_str());
  std::fflush(log);

  model->train();
  const nlohmann::json checkpoint_config = {{"harmonization", config_json}};
  const auto start = std::chrono::steady_clock::now();
  try {
    const int64_t chunk = config.checkpoint_every > 0 ? config.checkpoint_every : steps;
    while (trainer.step() < steps) {
      const int64_t count = std::min(chunk, steps - trainer.step());
      trainer.train(loss_function, count, [&](int64_t done, double loss) {
        const int64_t step = done - 1;
        const int64_t length = curriculum.at(step);
        tokens += double(batch_size * length);
        std::fprintf(log, "%lld,%lld,%.6g,%lld,%.17g,%.6g,%.3f\n", (long long)step,
                     (long long)(step / steps_per_epoch), trainer_options.schedule.at(step, step / steps_per_epoch),
                     (long long)length, loss, trainer.last_grad_norm(), previous_seconds + seconds_since(start));
        std::fflush(log);  // %.17g: the loss reads back exactly (resume keeps the logged losses)
        result.losses.push_back(loss);
        if (options.on_step) options.on_step(done, loss);
      });
      trainer.save_checkpoint(result.checkpoint_path, checkpoint_config);
    }
  } catch (...) {
    std::fclose(log);
    throw;
  }
  std::fclose(log);
  result.steps = trainer.step();
  result.seconds = previous_seconds + seconds_since(start);
  const size_t tail = std::min<size_t>(20, result.losses.size());
  result.final_loss = tail == 0 ? NAN
                                : std::accumulate(result.losses.end() - long(tail), result.losses.end(), 0.0) / double(tail);
  result.tokens_per_second = result.seconds > 0 ? tokens / result.seconds : 0;
  write_json(run_dir / "train_summary.json",
             {{"steps", result.steps},
              {"train_windows", windows},
              {"steps_per_epoch", steps_per_epoch},
              {"seconds", result.seconds},
              {"final_loss", result.final_loss},
              {"first_loss", result.losses.empty() ? NAN : result.losses.front()},
              {"tokens_per_second", result.tokens_per_second},
              {"parameters", model->parameter_count()}});
  return result;
}

HarmonizationConfig read_run_config(const std::string& run_dir) {
  const fs::path dir(run_dir);
  STRIPES_CHECK(fs::is_directory(dir), "'{}' is not a run directory (it does not exist)", run_dir);
  const fs::path checkpoint = dir / kCheckpointFile;
  nlohmann::json json;
  if (fs::exists(checkpoint)) {
    const nlohmann::json stored = nn::read_checkpoint_config(checkpoint.string());
    STRIPES_CHECK(stored.contains("harmonization"), "{}: not a harmonization checkpoint (no 'harmonization' config)",
                  checkpoint.string());
    json = stored.at("harmonization");
  } else {
    STRIPES_CHECK(fs::exists(dir / kConfigFile), "'{}' is not a run directory: neither {} nor {} in it", run_dir,
                  kCheckpointFile, kConfigFile);
    json = read_json(dir / kConfigFile);
  }
  HarmonizationConfig config;
  from_json(json, config);
  config.validate();
  return config;
}

std::shared_ptr<HarmonizationModel> load_run_model(const std::string& run_dir) {
  const HarmonizationConfig config = read_run_config(run_dir);
  const fs::path checkpoint = fs::path(run_dir) / kCheckpointFile;
  STRIPES_CHECK(fs::exists(checkpoint), "{}: no checkpoint (train first: stripes train ... --run-dir {})",
                checkpoint.string(), run_dir);
  auto model = std::make_shared<HarmonizationModel>(config);
  nn::load_checkpoint(checkpoint.string(), *model, nullptr, nullptr, {});
  model->eval();
  return model;
}

void predict_windows(HarmonizationModel& model, const data::WindowDataset& dataset,
                     const std::vector<int64_t>& indices, int batch_size, std::vector<Tensor>& logits,
                     std::vector<Tensor>& targets) {
  const bool was_training = model.training();
  model.eval();
  ag::NoGradGuard no_grad;
  for (size_t begin = 0; begin < indices.size(); begin += size_t(batch_size)) {
    const size_t end = std::min(indices.size(), begin + size_t(batch_size));
    const data::Batch batch = dataset.batch(std::span<const int64_t>(indices.data() + begin, end - begin));
    const Tensor output = model.forward(batch.input, batch.positions).value().to(Device::CPU);
    for (size_t i = 0; i < end - begin; ++i) {
      logits.push_back(output.select(0, int64_t(i)).contiguous());
      targets.push_back(batch.target.select(0, int64_t(i)).contiguous());
    }
  }
  model.train(was_training);
}

std::string EvalResult::setting(const HarmonizationConfig& config) const {
  return sequence_length > config.sequence_length ? "length_generalization" : "in_domain";
}

namespace {

nlohmann::json scores_json(const metrics::MetricScores& s) {
  return nlohmann::json{{"CS", s.chroma_similarity},
                        {"SSMD", s.self_similarity_matrix_distance},
                        {"GS", s.grooving_similarity},
                        {"NDD", s.note_density_distance}};
}

nlohmann::json paper_scores_json(const std::array<double, 4>& p) {
  return nlohmann::json{{"CS", p[0]}, {"SSMD", p[1]}, {"GS", p[2]}, {"NDD", p[3]}};
}

}  // namespace

nlohmann::json EvalResult::to_json() const {
  nlohmann::json json = {{"sequence_length", sequence_length},
                         {"windows", windows},
                         {"split", "test"},
                         {"seconds", seconds},
                         {"scores", scores_json(scores)},
                         {"binarization",
                          {{"label", binarization.label()},
                           {"threshold", binarization.threshold},
                           {"max_merged_gap", binarization.max_merged_gap},
                           {"grid_searched", grid_searched},
                           {"validation_windows", validation_windows}}}};
  if (grid_searched) json["binarization"]["validation_scores"] = scores_json(validation_scores);
  return json;
}

nlohmann::json updated_metrics_json(const nlohmann::json& existing, const HarmonizationConfig& config,
                                    const EvalResult& result) {
  nlohmann::json json = nlohmann::json::object();
  // Keep the other setting's entry of the same run (scored the same way); anything else is rebuilt.
  const nlohmann::json scoring = {{"tracks", config.scored_tracks},
                                  {"ssmd_variant", config.ssmd_variant},
                                  {"ndd_normalization", config.ndd_normalization}};
  if (existing.is_object() && existing.value("scoring", nlohmann::json()) == scoring) {
    for (const char* setting : {"in_domain", "length_generalization"}) {
      if (existing.contains(setting)) json[setting] = existing[setting];
    }
  }
  json["pe"] = config.pe;
  json["context"] = config.context;
  json["preset"] = config.preset;
  json["seed"] = config.seed;
  json["attention"] = config.attention;
  json["scoring"] = scoring;
  json[result.setting(config)] = result.to_json();
  if (const auto row = find_paper_result(config.context, config.pe)) {
    json["paper"] = {{"label", row->label},
                     {"source", "method.md §4.8 Tables II-III, mean over 5 seeds; ID: 16 bars, LG: 64 bars"},
                     {"in_domain", paper_scores_json(row->in_domain)},
                     {"length_generalization", paper_scores_json(row->length_generalization)}};
  }
  return json;
}

HarmonizationConfig EvalOptions::scoring_config(const HarmonizationConfig& config) const {
  HarmonizationConfig scored = config;
  if (!scored_tracks.empty()) scored.scored_tracks = scored_tracks;
  if (!ssmd_variant.empty()) scored.ssmd_variant = ssmd_variant;
  if (!ndd_normalization.empty()) scored.ndd_normalization = ndd_normalization;
  scored.scoring();  // throws naming the field
  return scored;
}

EvalResult evaluate_harmonization(HarmonizationModel& model, const HarmonizationData& data, const EvalOptions& options) {
  const HarmonizationConfig config = options.scoring_config(model.config());
  const metrics::ScoringOptions scoring = config.scoring();
  const auto start = std::chrono::steady_clock::now();
  EvalResult result;
  result.sequence_length = options.sequence_length > 0 ? options.sequence_length : config.eval_sequence_length;
  const int64_t max_windows = options.max_windows >= 0 ? options.max_windows : config.max_eval_windows;
  const int64_t max_val = options.max_val_windows >= 0 ? options.max_val_windows : config.max_val_windows;
  STRIPES_CHECK(options.batch_size >= 1, "eval: batch size must be >= 1, got {}", options.batch_size);

  if (config.grid_search) {
    const data::WindowDataset validation = make_dataset(config, data, data::Split::kValidation, result.sequence_length);
    const std::vector<int64_t> indices = evenly_spaced_indices(validation.size(), max_val);
    STRIPES_CHECK(!indices.empty(), "eval: no validation windows of T = {}", result.sequence_length);
    if (options.progress) fmt::print(stderr, "eval: predicting {} validation windows for the binarization grid\n", indices.size());
    std::vector<Tensor> logits, targets;
    predict_windows(model, validation, indices, options.batch_size, logits, targets);
    const metrics::GridSearchResult search =
        metrics::search_binarization(logits, targets, {}, metrics::SelectionCriterion::kMeanRank, scoring);
    result.binarization = search.best().config;
    result.validation_scores = search.best().scores;
    result.grid_searched = true;
    result.validation_windows = int64_t(indices.size());
    if (options.progress) {
      fmt::print(stderr, "eval: binarization {} (validation {})\n", result.binarization.label(),
                 metrics::format_scores(result.validation_scores));
    }
  }

  const data::WindowDataset test = make_dataset(config, data, data::Split::kTest, result.sequence_length);
  const std::vector<int64_t> indices = evenly_spaced_indices(test.size(), max_windows);
  STRIPES_CHECK(!indices.empty(), "eval: no test windows of T = {}", result.sequence_length);
  if (options.progress) fmt::print(stderr, "eval: predicting {} test windows of T = {}\n", indices.size(), result.sequence_length);
  std::vector<metrics::MetricScores> scores;
  // Batch by batch, so that only one batch of logits is held at a time.
  const size_t chunk = size_t(options.batch_size);
  for (size_t begin = 0; begin < indices.size(); begin += chunk) {
    const std::vector<int64_t> part(indices.begin() + long(begin),
                                    indices.begin() + long(std::min(indices.size(), begin + chunk)));
    std::vector<Tensor> logits, targets;
    predict_windows(model, test, part, options.batch_size, logits, targets);
    for (size_t i = 0; i < logits.size(); ++i) {
      scores.push_back(
          metrics::score_piece(targets[i], metrics::binarize_logits(logits[i], result.binarization), scoring));
    }
  }
  result.scores = metrics::mean_scores(scores);
  result.windows = int64_t(scores.size());
  result.seconds = seconds_since(start);
  return result;
}

EvalResult evaluate_run(const std::string& run_dir, const HarmonizationData& data, const EvalOptions& options) {
  const std::shared_ptr<HarmonizationModel> model = load_run_model(run_dir);
  model->to(options.device);
  const EvalResult result = evaluate_harmonization(*model, data, options);
  const fs::path path = fs::path(run_dir) / "metrics.json";
  nlohmann::json existing;
  if (fs::exists(path)) {
    std::ifstream in(path);
    existing = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);  // unreadable: rewritten
  }
  write_json(path, updated_metrics_json(existing, options.scoring_config(model->config()), result));
  return result;
}

}  // namespace stripes::harmonization
