#include "experiments/harmonization/reproduce.hpp"

#include "data/contexts.hpp"
#include "tensor/error.hpp"
#include "tensor/io/hdf5_file.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <tuple>

namespace stripes::harmonization {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  return text;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? separator : "") + parts[i];
  return text;
}

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  STRIPES_CHECK(in.good(), "reproduce: cannot read {}", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("reproduce: {} is not valid JSON: {}", path.string(), error.what()));
  }
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds)) return "unknown";
  if (seconds < 60) return fmt::format("{:.1f} s", seconds);
  if (seconds < 3600) return fmt::format("{} min {:02} s", int(seconds / 60), int(seconds) % 60);
  return fmt::format("{} h {:02} min", int(seconds / 3600), int(seconds / 60) % 60);
}

std::string run_name(const PlannedRun& run) { return fs::path(run.run_dir).filename().string(); }

// Seconds of one setting's evaluation in metrics.json (new format: "<setting>.seconds"; the older flat
// format: top-level "seconds" with "setting").
double eval_seconds(const nlohmann::json& metrics, const char* key) {
  if (!metrics.contains(key) || !metrics.at(key).is_object()) return 0;
  const nlohmann::json& block = metrics.at(key);
  if (block.contains("seconds") && block.at("seconds").is_number()) return block.at("seconds").get<double>();
  if (metrics.value("setting", "") == key && metrics.contains("seconds") && metrics.at("seconds").is_number()) {
    return metrics.at("seconds").get<double>();
  }
  return 0;
}

// Running means of the measured costs, for the ETA.
struct CostModel {
  double step_seconds = 0, id_seconds = 0, lg_seconds = 0;
  double steps = 0, id_count = 0, lg_count = 0;
  void add_training(double seconds, int64_t step_count) {
    if (step_count <= 0 || seconds <= 0) return;
    step_seconds += seconds;
    steps += double(step_count);
  }
  void add_in_domain(double seconds) {
    if (seconds <= 0) return;
    id_seconds += seconds;
    id_count += 1;
  }
  void add_length_generalization(double seconds) {
    if (seconds <= 0) return;
    lg_seconds += seconds;
    lg_count += 1;
  }
  // NaN when a needed cost was never measured.
  double estimate(int64_t steps_left, bool in_domain_left, bool length_generalization_left) const {
    double total = 0;
    if (steps_left > 0) total += steps > 0 ? double(steps_left) * step_seconds / steps : NAN;
    if (in_domain_left) total += id_count > 0 ? id_seconds / id_count : (lg_count > 0 ? lg_seconds / lg_count / 4 : NAN);
    if (length_generalization_left) total += lg_count > 0 ? lg_seconds / lg_count : (id_count > 0 ? 4 * id_seconds / id_count : NAN);
    return total;
  }
};

}  // namespace

// ---- the plan --------------------------------------------------------------------------------------

std::string PlannedRun::state() const {
  std::string train;
  if (trained) train = fmt::format("train done ({} steps)", steps_done);
  else if (checkpoint_step > 0) train = fmt::format("train: resume from step {}", checkpoint_step);
  else train = "train todo";
  return fmt::format("{}, ID {}, LG {}", train, in_domain ? "done" : "todo",
                     length_generalization ? "done" : fmt::format("todo (T = {})", length_generalization_T()));
}

int ReproducePlan::trainings_left() const {
  return int(std::count_if(runs.begin(), runs.end(), [](const PlannedRun& r) { return !r.trained; }));
}
int ReproducePlan::resumed_trainings() const {
  return int(std::count_if(runs.begin(), runs.end(), [](const PlannedRun& r) { return !r.trained && r.checkpoint_step > 0; }));
}
int ReproducePlan::in_domain_left() const {
  return int(std::count_if(runs.begin(), runs.end(), [](const PlannedRun& r) { return !r.in_domain; }));
}
int ReproducePlan::length_generalization_left() const {
  return int(std::count_if(runs.begin(), runs.end(), [](const PlannedRun& r) { return !r.length_generalization; }));
}

std::string default_runs_directory(int table, const std::string& preset) {
  return fmt::format("runs/table{}-{}", table, preset);
}

HarmonizationConfig reproduce_config(const ReproduceOptions& options, const std::string& context, const std::string& pe,
                                     uint64_t seed) {
  HarmonizationConfig config = preset_config(options.preset);
  config.pe = pe;
  config.context = data::context_name(data::parse_context_type(context));
  config.seed = seed;
  if (options.checkpoint_every > 0) config.checkpoint_every = options.checkpoint_every;
  if (!options.overrides.empty()) {
    nlohmann::json json;
    to_json(json, config);
    for (const std::string& item : options.overrides) {
      const size_t equals = item.find('=');
      STRIPES_CHECK(equals != std::string::npos && equals > 0, "reproduce: --set expects KEY=VALUE, got '{}'", item);
      const std::string key = item.substr(0, equals), text = item.substr(equals + 1);
      STRIPES_CHECK(key != "pe" && key != "context" && key != "seed" && key != "preset",
                    "reproduce: --set cannot change '{}' (the grid sets it; use --pes, --contexts, --seeds, --preset)", key);
      STRIPES_CHECK(json.contains(key), "reproduce: --set {}: unknown config key '{}'", item, key);
      nlohmann::json value;
      try {
        value = nlohmann::json::parse(text);
      } catch (const nlohmann::json::exception&) {
        value = text;  // a bare string: --set feature_map=trig
      }
      json[key] = value;
    }
    try {
      from_json(json, config);
    } catch (const nlohmann::json::exception& error) {
      throw Error(fmt::format("reproduce: --set {}: {}", join(options.overrides, " "), error.what()));
    }
  }
  if (options.adjust) options.adjust(config);
  config.validate();
  return config;
}

ReproducePlan plan_reproduction(const ReproduceOptions& options) {
  STRIPES_CHECK(options.table == 2 || options.table == 3, "reproduce: --table must be 2 or 3, got {}", options.table);
  STRIPES_CHECK(options.seeds >= 1, "reproduce: --seeds must be at least 1, got {}", options.seeds);
  preset_config(options.preset);  // validates the name
  ReproducePlan plan;
  plan.table = options.table;
  plan.preset = options.preset;
  plan.runs_dir = options.runs_dir.empty() ? default_runs_directory(options.table, options.preset) : options.runs_dir;

  // The table's rows, filtered.
  const std::vector<std::pair<std::string, std::string>> table_rows = paper_table_rows(options.table);
  std::vector<std::string> table_contexts, table_pes;
  for (const auto& [context, pe] : table_rows) {
    if (std::find(table_contexts.begin(), table_contexts.end(), context) == table_contexts.end()) table_contexts.push_back(context);
    if (std::find(table_pes.begin(), table_pes.end(), pe) == table_pes.end()) table_pes.push_back(pe);
  }
  std::set<std::string> contexts, pes;
  for (const std::string& context : options.contexts) {
    STRIPES_CHECK(std::find(table_contexts.begin(), table_contexts.end(), upper(context)) != table_contexts.end(),
                  "reproduce: Table {} has no context '{}' (it has {})", options.table, context, join(table_contexts, ", "));
    contexts.insert(upper(context));
  }
  for (const std::string& pe : options.pes) {
    STRIPES_CHECK(std::find(table_pes.begin(), table_pes.end(), lower(pe)) != table_pes.end(),
                  "reproduce: Table {} has no PE '{}' (it has {})", options.table, pe, join(table_pes, ", "));
    pes.insert(lower(pe));
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& row : table_rows) {
    if ((contexts.empty() || contexts.count(row.first)) && (pes.empty() || pes.count(row.second))) rows.push_back(row);
  }
  STRIPES_CHECK(!rows.empty(), "reproduce: no row of Table {} has both a context of {{{}}} and a PE of {{{}}}", options.table,
                join(options.contexts, ", "), join(options.pes, ", "));

  // Seed-major order: every row has seed 0 before any row has seed 1, so a partial grid already
  // gives a complete (one-seed) table.
  for (int seed = 0; seed < options.seeds; ++seed) {
    for (const auto& [context, pe] : rows) {
      PlannedRun run;
      run.config = reproduce_config(options, context, pe, uint64_t(seed));
      run.run_dir = (fs::path(plan.runs_dir) / fmt::format("{}-{}-s{}", pe, lower(context), seed)).string();
      const fs::path dir(run.run_dir);

      nlohmann::json planned;
      to_json(planned, run.config);
      if (fs::exists(dir / "config.json")) {
        const nlohmann::json stored = read_json(dir / "config.json");
        std::vector<std::string> differing;
        for (const auto& [key, value] : planned.items()) {
          if (key == "checkpoint_every") continue;  // how often to save is not part of the run
          if (!stored.contains(key) || stored.at(key) != value) {
            differing.push_back(fmt::format("{}: {} there, {} planned", key, stored.contains(key) ? stored.at(key).dump() : "absent",
                                            value.dump()));
          }
        }
        STRIPES_CHECK(differing.empty(),
                      "reproduce: {} holds a run of another configuration ({}); rerun with the options it was started "
                      "with, or use another --runs-dir",
                      run.run_dir, join(differing, "; "));
      }
      if (fs::exists(dir / "train_summary.json")) {
        const nlohmann::json summary = read_json(dir / "train_summary.json");
        run.steps_done = summary.value("steps", int64_t(0));
        run.train_seconds = summary.value("seconds", 0.0);
        const int64_t windows = summary.value("train_windows", int64_t(0));
        run.trained = run.steps_done > 0 && run.steps_done >= total_steps(run.config, std::max<int64_t>(windows, 1));
      }
      if (!run.trained && fs::exists(dir / "checkpoint.h5")) {
        try {
          const io::Hdf5File file((dir / "checkpoint.h5").string(), io::OpenMode::kRead);
          run.checkpoint_step = file.read_int_attribute("/", "step");
        } catch (const Error& error) {
          throw Error(fmt::format("reproduce: cannot read the step of {}: {}", (dir / "checkpoint.h5").string(), error.what()));
        }
      }
      if (run.trained && fs::exists(dir / "metrics.json")) {
        const nlohmann::json metrics = read_json(dir / "metrics.json");
        run.in_domain = metrics.contains("in_domain") && metrics.at("in_domain").is_object();
        run.length_generalization = metrics.contains("length_generalization") && metrics.at("length_generalization").is_object();
        run.in_domain_seconds = eval_seconds(metrics, "in_domain");
        run.length_generalization_seconds = eval_seconds(metrics, "length_generalization");
      }
      plan.runs.push_back(std::move(run));
    }
  }
  return plan;
}

std::string format_plan(const ReproducePlan& plan) {
  std::set<uint64_t> seeds;
  for (const PlannedRun& run : plan.runs) seeds.insert(run.config.seed);
  const size_t rows = seeds.empty() ? 0 : plan.runs.size() / seeds.size();
  std::string text = fmt::format("reproduce Table {}, preset {}: {} rows × {} seeds = {} runs in {}\n", plan.table == 2 ? "II" : "III",
                                 plan.preset, rows, seeds.size(), plan.runs.size(), plan.runs_dir);
  const int width = int(std::to_string(plan.runs.size()).size());
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const PlannedRun& run = plan.runs[i];
    text += fmt::format("  [{:>{}}/{}] {:<22} {}{}\n", i + 1, width, plan.runs.size(), run_name(run), run.state(),
                        run.done() ? "  -> nothing to do" : "");
  }
  const size_t complete = size_t(std::count_if(plan.runs.begin(), plan.runs.end(), [](const PlannedRun& r) { return r.done(); }));
  text += fmt::format("complete: {} of {} runs; remaining: {} trainings ({} resumed from a checkpoint), {} in-domain evals, {} "
                      "length-generalization evals\n",
                      complete, plan.runs.size(), plan.trainings_left(), plan.resumed_trainings(), plan.in_domain_left(),
                      plan.length_generalization_left());
  return text;
}

// ---- running it ------------------------------------------------------------------------------------

ReproduceResult run_reproduction(const ReproduceOptions& options, std::ostream& log) {
  const auto started = std::chrono::steady_clock::now();
  const auto since = [](std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  ReproduceResult result;
  result.plan = plan_reproduction(options);
  const ReproducePlan& plan = result.plan;
  log << format_plan(plan) << std::flush;
  if (options.dry_run) {
    log << "(dry run: nothing trained or evaluated)\n";
    return result;
  }

  const bool work_left = std::any_of(plan.runs.begin(), plan.runs.end(), [](const PlannedRun& r) { return !r.done(); });
  HarmonizationData loaded;
  const HarmonizationData* data = options.data;
  if (work_left && data == nullptr) {
    log << "loading the data (once for every run)\n" << std::flush;
    loaded = load_harmonization_data(options.data_dir, options.progress);
    data = &loaded;
  }

  // Costs measured so far (finished runs' files, then this session), for the ETA.
  CostModel costs;
  for (const PlannedRun& run : plan.runs) {
    if (run.trained) costs.add_training(run.train_seconds, run.steps_done);
    if (run.in_domain) costs.add_in_domain(run.in_domain_seconds);
    if (run.length_generalization) costs.add_length_generalization(run.length_generalization_seconds);
  }
  // Total steps per run need the number of training windows: computed once per distinct data setting.
  std::map<std::tuple<std::string, int, int64_t>, int64_t> windows_cache;
  const auto run_steps = [&](const HarmonizationConfig& config) {
    if (config.steps > 0) return config.steps;
    const auto key = std::make_tuple(config.context, config.sequence_length, config.max_train_windows);
    auto found = windows_cache.find(key);
    if (found == windows_cache.end()) {
      const data::WindowDataset dataset = make_dataset(config, *data, data::Split::kTrain, config.sequence_length);
      found = windows_cache.emplace(key, int64_t(evenly_spaced_indices(dataset.size(), config.max_train_windows).size())).first;
    }
    return total_steps(config, found->second);
  };

  const int width = int(std::to_string(plan.runs.size()).size());
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const PlannedRun& run = plan.runs[i];
    if (run.done()) continue;
    const std::string prefix = fmt::format("[{:>{}}/{}] {}", i + 1, width, plan.runs.size(), run_name(run));
    const auto run_started = std::chrono::steady_clock::now();
    std::vector<std::string> parts;
    bool trained_now = false;
    if (!run.trained) {
      // Scores of an unfinished model are stale.
      const fs::path metrics = fs::path(run.run_dir) / "metrics.json";
      if (fs::exists(metrics)) fs::remove(metrics);
      log << prefix << ": training" << (run.checkpoint_step > 0 ? fmt::format(" (resuming from step {})", run.checkpoint_step) : "")
          << "\n"
          << std::flush;
      TrainRunOptions train;
      train.run_dir = run.run_dir;
      train.resume = true;  // continues from checkpoint.h5 when there is one
      train.progress = options.progress;
      const auto train_started = std::chrono::steady_clock::now();
      const TrainResult trained = train_harmonization(run.config, *data, train);
      const double seconds = since(train_started);
      costs.add_training(seconds, trained.steps - trained.resumed_from);
      parts.push_back(fmt::format("trained {} steps{} in {} (final loss {:.4f})", trained.steps - trained.resumed_from,
                                  trained.resumed_from > 0 ? fmt::format(" from step {}", trained.resumed_from) : "",
                                  duration(seconds), trained.final_loss));
      ++result.trained;
      trained_now = true;
    }
    EvalOptions eval;
    eval.batch_size = options.eval_batch_size;
    eval.progress = options.progress;
    const auto scores_text = [](const EvalResult& e) {
      return fmt::format("CS {:.2f} SSMD {:.2f} GS {:.2f} NDD {:.2f}", e.scores.chroma_similarity,
                         e.scores.self_similarity_matrix_distance, e.scores.grooving_similarity,
                         e.scores.note_density_distance);
    };
    if (!run.in_domain || trained_now) {
      const EvalResult e = evaluate_run(run.run_dir, *data, eval);
      costs.add_in_domain(e.seconds);
      parts.push_back(fmt::format("ID (T = {}) {} in {}", e.sequence_length, scores_text(e), duration(e.seconds)));
      ++result.in_domain_evaluated;
    }
    if (!run.length_generalization || trained_now) {
      eval.sequence_length = run.length_generalization_T();
      const EvalResult e = evaluate_run(run.run_dir, *data, eval);
      costs.add_length_generalization(e.seconds);
      parts.push_back(fmt::format("LG (T = {}) {} in {}", e.sequence_length, scores_text(e), duration(e.seconds)));
      ++result.length_generalization_evaluated;
    }

    // ETA of what is left after this run.
    double eta = 0;
    int left = 0;
    for (size_t j = i + 1; j < plan.runs.size(); ++j) {
      const PlannedRun& next = plan.runs[j];
      if (next.done()) continue;
      ++left;
      const int64_t steps_left = next.trained ? 0 : std::max<int64_t>(0, run_steps(next.config) - next.checkpoint_step);
      eta += costs.estimate(steps_left, !next.in_domain || !next.trained, !next.length_generalization || !next.trained);
    }
    log << prefix << ": " << join(parts, "; ") << fmt::format(" — {}; ", duration(since(run_started)))
        << (left == 0 ? std::string("last run") : fmt::format("{} runs left, ETA {}", left, duration(eta))) << "\n"
        << std::flush;
  }
  result.seconds = since(started);
  log << fmt::format("grid done: {} trained, {} in-domain and {} length-generalization evaluations in {}\n", result.trained,
                     result.in_domain_evaluated, result.length_generalization_evaluated, duration(result.seconds));

  if (options.report) {
    ReportRunOptions report;
    report.paths = {plan.runs_dir};
    report.out_dir = (fs::path(plan.runs_dir) / "report").string();
    report.report.table = plan.table == 2 ? TableSelection::kTable2 : TableSelection::kTable3;
    report.data_dir = options.data_dir;
    report.data = data;
    report.mutual_information = options.mutual_information;
    result.report = write_report(report);
  }
  return result;
}

}  // namespace stripes::harmonization
