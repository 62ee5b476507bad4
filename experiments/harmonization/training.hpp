// Training and evaluation of the melody-harmonization model (method.md §4.4-4.6).
//
// Training (train_harmonization): Adam; learning rate η(s, e) = lr · min(1, (s+1)/warmup) · γ^e
// (linear warm-up, StepLR per epoch); gradient clipping by global norm; a length curriculum
// (the first L(s) ticks of each window, L growing linearly from curriculum_start to T over
// curriculum_ramp_steps steps, rounded down to a multiple of curriculum_multiple); batches of
// batch_size training windows in a seeded per-epoch permutation (step s takes the windows
// order_e[(s mod S)·B .. +B] of epoch e = s / S, S = ⌊windows / B⌋): a pure function of the step,
// so replays (NaN guard) and resumes see the same batch. Dropout masks come from the model's
// dropout generator (saved in checkpoints).
//
// Resuming (TrainRunOptions::resume) restores parameters, Adam state, step and every generator of
// the run (HarmonizationModel::run_generators), keeps train_log.csv's rows of the steps already
// taken, and continues: the losses are bit-identical to an uninterrupted run.
//
// Run directory (created): config.json (the HarmonizationConfig), train_log.csv
// (step,epoch,learning_rate,sequence_length,loss,grad_norm,seconds), checkpoint.h5 (nn checkpoint
// whose config attribute is {"harmonization": config}), train_summary.json (steps, seconds,
// final_loss = mean of the last 20 losses, tokens_per_second).
//
// Evaluation (evaluate_harmonization): the model in eval mode, no gradients, on test windows of
// eval_sequence_length ticks (evenly spaced subset of max_eval_windows when > 0); logits
// binarized with the configuration picked by metrics::search_binarization on validation windows
// (or threshold 0.5 without grid search); CS, SSMD, GS, NDD as means over windows.
#pragma once

#include "data/contexts.hpp"
#include "data/dataset.hpp"
#include "data/pop909/pop909_song.hpp"
#include "experiments/harmonization/model.hpp"
#include "experiments/metrics/binarization.hpp"
#include "experiments/metrics/pianoroll_metrics.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stripes::harmonization {

struct HarmonizationData {
  std::shared_ptr<const std::vector<data::Pop909Song>> songs;
  std::shared_ptr<const data::ContextEncoder> encoder;
};

// Every used POP909 song (through the song cache) and the context encoder. `data_dir` "" = the
// usual search (--data, STRIPES_DATA, ../shared/data).
HarmonizationData load_harmonization_data(const std::string& data_dir = "", bool progress = true);

// `max` indices evenly spaced over 0..count-1 (all of them when max == 0 or max >= count).
std::vector<int64_t> evenly_spaced_indices(int64_t count, int64_t max);

// The dataset of `split` with T = `sequence_length` and the config's context.
data::WindowDataset make_dataset(const HarmonizationConfig& config, const HarmonizationData& data, data::Split split,
                                 int sequence_length);

struct TrainRunOptions {
  std::string run_dir;        // required: created if missing
  // A run directory that already holds a checkpoint: resume = true continues from it (its config
  // must equal `config`; a finished run returns at once), overwrite = true starts over; neither is
  // an error naming the directory.
  bool resume = false;
  bool overwrite = false;
  bool progress = true;       // progress bar on stderr
  Device device = Device::CPU;  // where the model trains (batches are made on the host and copied)
  std::function<void(int64_t, double)> on_step;  // after each step (steps done, loss)
};

struct TrainResult {
  std::vector<double> losses;
  int64_t steps = 0;
  int64_t train_windows = 0;
  int64_t steps_per_epoch = 0;
  double seconds = 0;
  double final_loss = 0;         // mean of the last min(20, steps) losses
  double tokens_per_second = 0;  // ticks (B·L summed over steps) per second
  int64_t resumed_from = 0;      // steps already in the checkpoint when the run started (resume)
  std::string checkpoint_path;
};

// Number of optimizer steps of a run (config.steps, else epochs × batches per epoch).
int64_t total_steps(const HarmonizationConfig& config, int64_t train_windows);

TrainResult train_harmonization(const HarmonizationConfig& config, const HarmonizationData& data,
                                const TrainRunOptions& options);

// The config stored in a run directory's checkpoint (or config.json when there is no checkpoint).
HarmonizationConfig read_run_config(const std::string& run_dir);
// A model rebuilt from the run directory's checkpoint.h5, in eval mode.
std::shared_ptr<HarmonizationModel> load_run_model(const std::string& run_dir);

// Logits of windows `indices` of `dataset`, one [T, 384] float32 CPU tensor per window, and the
// matching targets [T, 384] (model in eval mode, no gradients, on the model's device).
void predict_windows(HarmonizationModel& model, const data::WindowDataset& dataset,
                     const std::vector<int64_t>& indices, int batch_size, std::vector<Tensor>& logits,
                     std::vector<Tensor>& targets);

struct EvalOptions {
  int sequence_length = 0;       // 0: config.eval_sequence_length
  int64_t max_windows = -1;      // -1: config.max_eval_windows
  int64_t max_val_windows = -1;  // -1: config.max_val_windows
  int batch_size = 8;
  bool progress = true;          // one line per phase on stderr
  Device device = Device::CPU;   // where the model predicts (logits come back to the host for scoring)
  // Scoring overrides ("" = the run's config): see HarmonizationConfig::scored_tracks etc.
  std::string scored_tracks, ssmd_variant, ndd_normalization;
  // The run's config with the scoring overrides applied (validated).
  HarmonizationConfig scoring_config(const HarmonizationConfig& config) const;
};

struct EvalResult {
  metrics::MetricScores scores;
  metrics::BinarizationConfig binarization;
  bool grid_searched = false;
  metrics::MetricScores validation_scores;  // of the chosen binarization (grid search only)
  int64_t windows = 0;
  int64_t validation_windows = 0;
  int sequence_length = 0;
  double seconds = 0;
  // "in_domain" (test windows no longer than the training windows) or "length_generalization".
  std::string setting(const HarmonizationConfig& config) const;
  // The object metrics.json holds under the setting's key:
  // {sequence_length, windows, split, seconds, scores{CS,SSMD,GS,NDD}, binarization{...}}.
  nlohmann::json to_json() const;
};

// metrics.json of a run after `result`: `existing` (the file's content, or null) with the run's
// fields (pe, context, preset, seed, attention, scoring), result.setting(config) replaced and the
// paper's row for (context, pe) when it has one. The other setting's entry is kept.
nlohmann::json updated_metrics_json(const nlohmann::json& existing, const HarmonizationConfig& config,
                                    const EvalResult& result);

EvalResult evaluate_harmonization(HarmonizationModel& model, const HarmonizationData& data,
                                  const EvalOptions& options = {});

// load_run_model + (model moved to options.device) + evaluate_harmonization + RUN_DIR/metrics.json (updated, see above).
EvalResult evaluate_run(const std::string& run_dir, const HarmonizationData& data, const EvalOptions& options = {});

}  // namespace stripes::harmonization
