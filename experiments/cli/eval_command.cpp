// `stripes eval RUN_DIR`: evaluate a trained harmonization run on the test split (in-domain windows
// of the run's eval length), binarized with the grid search on validation windows, and print CS,
// SSMD, GS, NDD next to the paper's Table II/III row for the run's PE and context (method.md §4.8).
// Writes RUN_DIR/metrics.json.
//
//   stripes eval RUN_DIR [--T N] [--max-windows N] [--max-val-windows N] [--tracks piano|all]
//                [--ssmd stripe-code-halved|paper|stripe-code] [--ndd per-sixteenth|pooled|stripe-code]
//                [--data DIR] [--device cpu|cuda] [-q]
#include "experiments/cli/command_registry.hpp"
#include "experiments/cli/device_option.hpp"
#include "experiments/harmonization/paper_results.hpp"
#include "experiments/harmonization/training.hpp"

#include <fmt/core.h>

#include <array>

namespace stripes::cli {

namespace {

struct EvalCliOptions {
  std::string run_dir;
  std::string data;
  int sequence_length = 0;
  int64_t max_windows = -1;
  int64_t max_val_windows = -1;
  int batch_size = 8;
  std::string device = "cpu";
  bool quiet = false;
  std::string scored_tracks, ssmd_variant, ndd_normalization;
};

void run_eval(const EvalCliOptions& cli) {
  harmonization::EvalOptions options;
  options.device = usable_device("eval", cli.device);
  options.scored_tracks = cli.scored_tracks;
  options.ssmd_variant = cli.ssmd_variant;
  options.ndd_normalization = cli.ndd_normalization;
  // Check the run directory and the options before loading the data.
  const harmonization::HarmonizationConfig config = options.scoring_config(harmonization::read_run_config(cli.run_dir));
  const harmonization::HarmonizationData data = harmonization::load_harmonization_data(cli.data, !cli.quiet);
  options.sequence_length = cli.sequence_length;
  options.max_windows = cli.max_windows;
  options.max_val_windows = cli.max_val_windows;
  options.batch_size = cli.batch_size;
  options.progress = !cli.quiet;
  const harmonization::EvalResult result = harmonization::evaluate_run(cli.run_dir, data, options);

  fmt::print("run {}: pe {}, context {}, preset {}, seed {}\n", cli.run_dir, config.pe, config.context, config.preset,
             config.seed);
  fmt::print("scored: {} track(s), SSMD {}, NDD {}\n", config.scored_tracks, config.ssmd_variant, config.ndd_normalization);
  fmt::print("test: {} windows of T = {}; binarization {}{}; {:.1f} s\n", result.windows, result.sequence_length,
             result.binarization.label(), result.grid_searched ? " (grid search on validation)" : "", result.seconds);
  const std::array<double, 4> ours = {result.scores.chroma_similarity, result.scores.self_similarity_matrix_distance,
                                      result.scores.grooving_similarity, result.scores.note_density_distance};
  fmt::print("\n{:<24} {:>8} {:>8} {:>8} {:>8}\n", "", "CS ↑", "SSMD ↓", "GS ↑", "NDD ↓");
  fmt::print("{:<24} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f}\n", "ours", ours[0], ours[1], ours[2], ours[3]);
  if (const auto row = harmonization::find_paper_result(config.context, config.pe)) {
    const bool in_domain = result.setting(config) == "in_domain";
    const auto& p = in_domain ? row->in_domain : row->length_generalization;
    fmt::print("{:<24} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f}\n",
               fmt::format("paper {} {} ({})", config.context, row->label, in_domain ? "ID" : "LG"), p[0], p[1], p[2],
               p[3]);
  } else {
    fmt::print("(the paper reports no row for pe {} with context {})\n", config.pe, config.context);
  }
  fmt::print("(paper: T = 1024 test windows of the full model, 5 seeds; ours: this run's T and preset)\n");
  fmt::print("metrics written to {}/metrics.json\n", cli.run_dir);
}

}  // namespace

static void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a harmonization run on the test split (CS, SSMD, GS, NDD) and write metrics.json");
  auto options = std::make_shared<EvalCliOptions>();
  cmd->add_option("run_dir", options->run_dir, "Run directory written by `stripes train`")->required();
  cmd->add_option("--T", options->sequence_length, "Test window length (default: the run's eval length)");
  cmd->add_option("--max-windows", options->max_windows, "Evenly spaced subset of test windows (0: all; default: the run's)");
  cmd->add_option("--max-val-windows", options->max_val_windows, "Validation windows for the binarization grid (0: all)");
  cmd->add_option("--batch", options->batch_size, "Windows per forward")->capture_default_str();
  cmd->add_option("--data", options->data, "POP909 data root (default: STRIPES_DATA, else ../shared/data)");
  cmd->add_option("--tracks", options->scored_tracks, "Scored tracks: piano or all (default: the run's, piano)");
  cmd->add_option("--ssmd", options->ssmd_variant, "SSMD vectors: stripe-code-halved, paper or stripe-code (default: the run's)");
  cmd->add_option("--ndd", options->ndd_normalization, "NDD normalization: per-sixteenth, pooled or stripe-code (default: the run's)");
  add_device_option(*cmd, options->device, "Where the model predicts");
  cmd->add_flag("-q,--quiet", options->quiet, "No progress output");
  cmd->callback([options] { run_eval(*options); });
}
STRIPES_REGISTER_COMMANDS(add_eval_command)

}  // namespace stripes::cli
