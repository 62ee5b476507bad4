// `stripes reproduce`: the paper's full grid of harmonization runs (method.md §4.8) — every
// (context, PE) row of Table II or III × seeds 0..S-1 — trained, evaluated in-domain and at 4× the
// training length, then reported (report.hpp). Resumable: each run's state is read from its
// directory, and only what is missing is done:
//
//   train   skipped when train_summary.json holds all the run's steps; continued from checkpoint.h5
//           otherwise (TrainRunOptions::resume; checkpoints every `checkpoint_every` steps)
//   ID eval skipped when metrics.json has "in_domain" (test T = the config's eval T)
//   LG eval skipped when metrics.json has "length_generalization" (test T = 4 × the training T)
//
// Run directories: RUNS_DIR/<pe>-<context>-s<seed> (e.g. runs/table3-paper/ropepool-bin-s0), so
// that Tables II and III can share their common RoPE runs by sharing --runs-dir.
#pragma once

#include "experiments/harmonization/model.hpp"
#include "experiments/harmonization/report.hpp"
#include "experiments/harmonization/training.hpp"

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace stripes::harmonization {

struct ReproduceOptions {
  int table = 3;                       // 2 or 3
  int seeds = 5;                       // seeds 0 .. seeds-1
  std::string preset = "paper";        // paper | small
  std::string runs_dir;                // "" : runs/table<N>-<preset>
  std::vector<std::string> contexts;   // empty: every context of the table (case-insensitive)
  std::vector<std::string> pes;        // empty: every PE of the table
  int64_t checkpoint_every = 500;      // steps between checkpoints (0: the preset's)
  std::vector<std::string> overrides;  // "key=value" applied to every run's config (JSON values)
  std::function<void(HarmonizationConfig&)> adjust;  // applied after the overrides (tests)
  bool dry_run = false;
  std::string data_dir;                      // "" : the usual search
  const HarmonizationData* data = nullptr;   // already loaded (tests); else loaded once when needed
  int eval_batch_size = 8;
  bool progress = true;                      // progress bars of training and evaluation
  bool report = true;                        // write the report of RUNS_DIR at the end
  MutualInformationSource mutual_information = MutualInformationSource::kAuto;
};

struct PlannedRun {
  std::string run_dir;
  HarmonizationConfig config;
  bool trained = false;           // train_summary.json holds every step
  int64_t checkpoint_step = 0;    // steps in checkpoint.h5 (0: none)
  int64_t steps_done = 0;         // train_summary.json's steps (finished runs)
  double train_seconds = 0;       // train_summary.json's seconds (finished runs)
  bool in_domain = false;         // metrics.json has "in_domain"
  bool length_generalization = false;
  double in_domain_seconds = 0, length_generalization_seconds = 0;  // from metrics.json, when present
  int length_generalization_T() const { return 4 * config.sequence_length; }
  bool done() const { return trained && in_domain && length_generalization; }
  std::string state() const;      // "train done (300 steps), ID done, LG todo"
};

struct ReproducePlan {
  int table = 3;
  std::string preset;
  std::string runs_dir;
  std::vector<PlannedRun> runs;
  int trainings_left() const;
  int resumed_trainings() const;  // among trainings_left: those with a checkpoint
  int in_domain_left() const;
  int length_generalization_left() const;
};

// The default runs directory: runs/table<N>-<preset>.
std::string default_runs_directory(int table, const std::string& preset);

// The config of one run of the grid: the preset, then pe/context/seed, checkpoint_every, the
// overrides ("key=value", value parsed as JSON when it is JSON, else taken as a string), then adjust.
HarmonizationConfig reproduce_config(const ReproduceOptions& options, const std::string& context, const std::string& pe,
                                     uint64_t seed);

// The grid and each run's state, from the run directories alone (no data). Throws when a run
// directory holds a run of another configuration (naming the differing keys).
ReproducePlan plan_reproduction(const ReproduceOptions& options);
// The plan as text: one line per run with its state, then what remains.
std::string format_plan(const ReproducePlan& plan);

struct ReproduceResult {
  ReproducePlan plan;  // as found before running
  int trained = 0, in_domain_evaluated = 0, length_generalization_evaluated = 0;
  double seconds = 0;
  std::optional<ReportOutput> report;
};

// plan_reproduction, then (unless dry_run) each remaining step of each run, one status line per
// run on `log` with an ETA; the data is loaded once, and only when something remains to be done.
ReproduceResult run_reproduction(const ReproduceOptions& options, std::ostream& log);

}  // namespace stripes::harmonization
