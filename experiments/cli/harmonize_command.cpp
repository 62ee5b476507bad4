// `stripes harmonize RUN_DIR`: harmonize one window of a POP909 song with a trained run and write
// a MIDI file (input melody and bridge, the model's three tracks, the original piano;
// experiments/harmonization/harmonize.hpp). The binarization is the one `stripes eval` picked
// (RUN_DIR/metrics.json) when present, else threshold 0.5, unless --threshold / --merge are given.
//
//   stripes harmonize RUN_DIR [--song ID] [--window N] [--T N] [--out FILE.mid] [--data DIR]
#include "experiments/cli/command_registry.hpp"
#include "experiments/harmonization/harmonize.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

namespace stripes::cli {

namespace {

struct HarmonizeCliOptions {
  std::string run_dir, out, data;
  int song_id = -1;
  int64_t window = 0;
  int sequence_length = 0;
  std::optional<double> threshold;
  std::optional<int64_t> merge;
};

void run_harmonize(const HarmonizeCliOptions& cli) {
  const std::shared_ptr<harmonization::HarmonizationModel> model = harmonization::load_run_model(cli.run_dir);
  harmonization::HarmonizeOptions options;
  options.song_id = cli.song_id;
  options.window = cli.window;
  options.sequence_length = cli.sequence_length;
  metrics::BinarizationConfig binarization;
  const std::filesystem::path metrics_path = std::filesystem::path(cli.run_dir) / "metrics.json";
  std::string source = "default";
  if (std::filesystem::exists(metrics_path)) {
    std::ifstream in(metrics_path);
    const nlohmann::json metrics = nlohmann::json::parse(in, nullptr, false);
    if (!metrics.is_discarded() && metrics.contains("binarization")) {
      binarization.threshold = metrics["binarization"].value("threshold", 0.5);
      binarization.max_merged_gap = metrics["binarization"].value("max_merged_gap", int64_t(0));
      source = "from metrics.json";
    }
  }
  if (cli.threshold) binarization.threshold = *cli.threshold, source = "given";
  if (cli.merge) binarization.max_merged_gap = *cli.merge, source = "given";
  STRIPES_CHECK(binarization.threshold > 0 && binarization.threshold <= 1, "harmonize: --threshold must be in (0, 1], got {}",
                binarization.threshold);
  STRIPES_CHECK(binarization.max_merged_gap >= 0, "harmonize: --merge must be >= 0, got {}", binarization.max_merged_gap);
  options.binarization = binarization;

  const harmonization::HarmonizationData data = harmonization::load_harmonization_data(cli.data, true);
  const harmonization::HarmonizeResult result = harmonization::harmonize_window(*model, data, options);
  const std::string out = cli.out.empty() ? fmt::format("{}/harmonized-{:03d}-w{}.mid", cli.run_dir, result.song_id, cli.window)
                                          : cli.out;
  midi::write_midi(result.midi, out);
  fmt::print("song {} window {} (ticks {}..{}, T = {}); binarization {} ({})\n", result.song_id, cli.window,
             result.start_tick, result.start_tick + result.sequence_length, result.sequence_length,
             result.binarization.label(), source);
  fmt::print("piano notes: {} predicted, {} in the original; window scores {}\n", result.predicted_piano_notes,
             result.original_piano_notes, metrics::format_scores(result.scores));
  fmt::print("MIDI written to {}\n", out);
}

}  // namespace

static void add_harmonize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("harmonize", "Harmonize one window of a POP909 song with a trained run and write MIDI");
  auto options = std::make_shared<HarmonizeCliOptions>();
  cmd->add_option("run_dir", options->run_dir, "Run directory written by `stripes train`")->required();
  cmd->add_option("--song", options->song_id, "POP909 song id (default: the first test song)");
  cmd->add_option("--window", options->window, "Window of the song (0-based)")->capture_default_str();
  cmd->add_option("--T", options->sequence_length, "Window length in ticks (default: the run's eval length)");
  cmd->add_option("--threshold", options->threshold, "Binarization threshold (default: from metrics.json, else 0.5)");
  cmd->add_option("--merge", options->merge, "Fill gaps of at most this many ticks (default: from metrics.json, else 0)");
  cmd->add_option("--out", options->out, "Output MIDI file (default RUN_DIR/harmonized-<song>-w<window>.mid)");
  cmd->add_option("--data", options->data, "POP909 data root (default: STRIPES_DATA, else ../shared/data)");
  cmd->callback([options] { run_harmonize(*options); });
}
STRIPES_REGISTER_COMMANDS(add_harmonize_command)

}  // namespace stripes::cli
