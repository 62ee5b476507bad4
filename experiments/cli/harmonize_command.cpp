// `stripes harmonize`: harmonize a melody with a trained run and write MIDI.
//
//   stripes harmonize MELODY.mid [--model RUN_DIR] [-o OUT.mid] [--track NAME|INDEX]
//                     [--chords auto|track|melody|none] [--key auto|C:maj|A:min|...] [--T N]
//                     [--threshold X] [--merge N] [--data DIR] [--device cpu|cuda]
//       any MIDI file with a melody (experiments/harmonization/harmonize_midi.hpp); the output
//       holds the melody, the bridge (if any), the generated PIANO and the chords used as context.
//       Default output: <melody stem>-harmonized.mid next to the input.
//   stripes harmonize --song ID [--window N] [--T N] [--model RUN_DIR] [-o OUT.mid] ...
//       one window of a POP909 song (experiments/harmonization/harmonize.hpp), with the song's own
//       annotated chords and its original piano beside the model's.
//       Default output: RUN_DIR/harmonized-<song>-w<window>.mid.
//
// --model defaults to runs/quickstart/ropepool-bin-s0, the run the README's quick start trains. The
// binarization is the one `stripes eval` picked (RUN_DIR/metrics.json) when there is one, else
// threshold 0.5; --threshold / --merge override it.
#include "data/pop909/data_root.hpp"
#include "experiments/cli/command_registry.hpp"
#include "experiments/cli/device_option.hpp"
#include "experiments/harmonization/harmonize.hpp"
#include "experiments/harmonization/harmonize_midi.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

namespace stripes::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultRunDir = "runs/quickstart/ropepool-bin-s0";

struct HarmonizeCliOptions {
  std::string melody, run_dir, out, data, track, chords = "auto", key = "auto";
  std::optional<int> song_id;
  std::optional<int64_t> window;
  int sequence_length = 0;
  std::optional<double> threshold;
  std::optional<int64_t> merge;
  std::string device = "cpu";
};

std::string run_directory(const HarmonizeCliOptions& cli) {
  if (!cli.run_dir.empty()) return cli.run_dir;
  STRIPES_CHECK(fs::is_directory(kDefaultRunDir),
                "harmonize: no model given and the default run directory '{}' does not exist (relative to {}). Train "
                "it first, as the README's quick start does (bash scripts/quickstart.sh), or alone:\n  build/stripes train "
                "--pe ropepool --context bin --preset small --run-dir runs/quickstart/ropepool-bin-s0\nor pass a run directory written by `stripes train` with --model RUN_DIR",
                kDefaultRunDir, fs::current_path().string());
  return kDefaultRunDir;
}

metrics::BinarizationConfig binarization_for(const HarmonizeCliOptions& cli, const std::string& run_dir,
                                             std::string& source) {
  const harmonization::RunBinarization stored = harmonization::read_run_binarization(run_dir);
  metrics::BinarizationConfig binarization = stored.config;
  source = stored.source == "default" ? "default: no binarization in RUN_DIR/metrics.json" : "from " + stored.source;
  if (cli.threshold) binarization.threshold = *cli.threshold, source = "given";
  if (cli.merge) binarization.max_merged_gap = *cli.merge, source = "given";
  STRIPES_CHECK(binarization.threshold > 0 && binarization.threshold <= 1, "harmonize: --threshold must be in (0, 1], got {}",
                binarization.threshold);
  STRIPES_CHECK(binarization.max_merged_gap >= 0, "harmonize: --merge must be >= 0, got {}", binarization.max_merged_gap);
  return binarization;
}

// Which of MELODY.mid / --song, and no option of the other mode.
void check_mode(const HarmonizeCliOptions& cli) {
  STRIPES_CHECK(!(cli.melody.empty() && !cli.song_id),
                "harmonize: give a MIDI file with a melody (stripes harmonize melody.mid) or a POP909 song (--song ID)");
  STRIPES_CHECK(cli.melody.empty() || !cli.song_id,
                "harmonize: give either a MIDI file ('{}') or --song {}, not both", cli.melody, *cli.song_id);
  if (!cli.melody.empty() && fs::is_directory(cli.melody)) {
    throw_error("harmonize: '{}' is a directory; the run is given with --model (stripes harmonize melody.mid --model "
                "{} or stripes harmonize --song ID --model {})",
                cli.melody, cli.melody, cli.melody);
  }
  if (cli.song_id) {
    STRIPES_CHECK(cli.track.empty() && cli.chords == "auto" && cli.key == "auto",
                  "harmonize: --track, --chords and --key are for a MIDI file; a POP909 song (--song) brings its own "
                  "annotated chords and key");
  } else {
    STRIPES_CHECK(!cli.window, "harmonize: --window chooses a window of a POP909 song; it needs --song ID");
  }
}

void run_song_window(const HarmonizeCliOptions& cli, Device device) {
  const std::string run_dir = run_directory(cli);
  const std::shared_ptr<harmonization::HarmonizationModel> model = harmonization::load_run_model(run_dir);
  model->to(device);
  harmonization::HarmonizeOptions options;
  options.song_id = *cli.song_id;
  options.window = cli.window.value_or(0);
  options.sequence_length = cli.sequence_length;
  std::string source;
  options.binarization = binarization_for(cli, run_dir, source);

  const harmonization::HarmonizationData data = harmonization::load_harmonization_data(cli.data, true);
  const harmonization::HarmonizeResult result = harmonization::harmonize_window(*model, data, options);
  const std::string out = cli.out.empty()
                              ? fmt::format("{}/harmonized-{:03d}-w{}.mid", run_dir, result.song_id, options.window)
                              : cli.out;
  midi::write_midi(result.midi, out);
  fmt::print("song {} window {} (ticks {}..{}, T = {}); binarization {} ({})\n", result.song_id, options.window,
             result.start_tick, result.start_tick + result.sequence_length, result.sequence_length,
             result.binarization.label(), source);
  fmt::print("piano notes: {} predicted, {} in the original; window scores {}\n", result.predicted_piano_notes,
             result.original_piano_notes, metrics::format_scores(result.scores));
  fmt::print("MIDI written to {}\n", out);
}

void run_midi_file(const HarmonizeCliOptions& cli, Device device) {
  // Options first, so that a typo fails before anything is loaded.
  harmonization::MidiHarmonizeOptions options;
  options.track = cli.track;
  options.chords = harmonization::parse_chord_source(cli.chords);
  if (cli.key != "auto") options.key = harmonization::parse_key_option(cli.key);
  options.sequence_length = cli.sequence_length;
  STRIPES_CHECK(fs::exists(cli.melody), "{}: no such file", cli.melody);

  const std::string run_dir = run_directory(cli);
  const std::shared_ptr<harmonization::HarmonizationModel> model = harmonization::load_run_model(run_dir);
  model->to(device);
  std::string source;
  options.binarization = binarization_for(cli, run_dir, source);
  const std::string chord_db = (fs::path(data::resolve_data_root(cli.data)) / "stripe-alignment" / "chord_db.csv").string();
  const data::ContextEncoder encoder(data::read_chord_db_csv(chord_db));

  const harmonization::MidiHarmonizeResult result =
      harmonization::harmonize_midi_file(*model, encoder, cli.melody, options);
  const fs::path input(cli.melody);
  const std::string out =
      cli.out.empty() ? (input.parent_path() / (input.stem().string() + "-harmonized.mid")).string() : cli.out;
  midi::write_midi(result.midi, out);

  const harmonization::MelodyMidi& melody = result.input;
  for (const std::string& warning : melody.warnings) fmt::print(stderr, "warning: {}\n", warning);
  const harmonization::HarmonizationConfig& config = model->config();
  fmt::print("{}: {} bars ({} ticks at 16 per quarter from tick {}), {:.1f} bpm\n", cli.melody, melody.bars(),
             melody.num_ticks, melody.origin, melody.bpm());
  fmt::print("melody: track {} '{}' ({} notes); bridge: {}; chord track: {}\n", melody.melody_track,
             melody.melody_track_name, melody.melody.size(),
             melody.bridge_track >= 0 ? fmt::format("track {} ({} notes)", melody.bridge_track, melody.bridge.size())
                                      : "none (zero rows)",
             melody.chord_track >= 0 ? fmt::format("track {}", melody.chord_track) : "none");
  fmt::print("key: {} ({})\n", result.key.name,
             result.key_estimated ? fmt::format("estimated, Krumhansl-Schmuckler r = {:.2f}", result.key_correlation)
                                  : "given");
  // The chords by the share of ticks they hold, most used first.
  const data::ChordDatabase& chords = encoder.chords();
  std::map<int32_t, int64_t> ticks_of;
  for (int32_t id : result.chord_ids) ++ticks_of[id];
  std::vector<std::pair<int64_t, int32_t>> by_use;
  for (const auto& [id, ticks] : ticks_of) by_use.push_back({-ticks, id});
  std::sort(by_use.begin(), by_use.end());
  std::vector<std::string> names;
  for (size_t i = 0; i < std::min<size_t>(by_use.size(), 8); ++i) {
    names.push_back(fmt::format("{} {:.0f}%", harmonization::chord_name(chords.chord(by_use[i].second)),
                                100.0 * double(-by_use[i].first) / double(std::max<int64_t>(1, melody.num_ticks))));
  }
  if (by_use.size() > 8) names.push_back("...");
  const char* chord_source = result.chord_source == harmonization::ChordSource::kTrack    ? "read from the chord track"
                             : result.chord_source == harmonization::ChordSource::kMelody ? "estimated from the melody"
                                                                                          : "none (--chords none)";
  fmt::print("chords: {}; {} changes, {} distinct: {}{}\n", chord_source, harmonization::chord_changes(result.chord_ids),
             ticks_of.size(), fmt::join(names, ", "),
             config.context_type() == data::ContextType::kTime ? " (not used by the TIME context)" : "");
  fmt::print("model: {} ({} on {}), {} window{} of T = {}\n", run_dir, config.pe, config.context, result.windows,
             result.windows == 1 ? "" : "s", result.sequence_length);
  fmt::print("binarization: {} ({})\n", result.binarization.label(), source);
  fmt::print("piano: {} notes generated\n", result.piano_notes);
  fmt::print("MIDI written to {}\n", out);
}

void run_harmonize(const HarmonizeCliOptions& cli) {
  const Device device = usable_device("harmonize", cli.device);
  check_mode(cli);
  if (cli.song_id) {
    run_song_window(cli, device);
  } else {
    run_midi_file(cli, device);
  }
}

}  // namespace

static void add_harmonize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("harmonize", "Harmonize a melody (any MIDI file, or a POP909 song window) with a trained run");
  auto options = std::make_shared<HarmonizeCliOptions>();
  cmd->add_option("melody", options->melody, "MIDI file with a melody (a track named MELODY, else --track, else the first "
                                             "track with notes)");
  cmd->add_option("--model", options->run_dir, fmt::format("Run directory written by `stripes train` (default {})", kDefaultRunDir));
  cmd->add_option("-o,--out", options->out, "Output MIDI file (default <melody>-harmonized.mid next to the input; "
                                            "RUN_DIR/harmonized-<song>-w<window>.mid with --song)");
  cmd->add_option("--track", options->track, "Melody track: a name (case-insensitive) or a track index");
  cmd->add_option("--chords", options->chords, "Chords for the context: auto (a CHORD/CHORDS track, else estimated), "
                                               "track, melody (estimated) or none")
      ->capture_default_str();
  cmd->add_option("--key", options->key, "Song key for the KEY context and the chord estimate: auto (Krumhansl-Schmuckler) "
                                         "or C:maj, A:min, Bb:maj, ...")
      ->capture_default_str();
  cmd->add_option("--song", options->song_id, "POP909 song id, instead of a MIDI file (harmonizes one window)");
  cmd->add_option("--window", options->window, "With --song: the window of the song (0-based, default 0)");
  cmd->add_option("--T", options->sequence_length, "Window length in ticks (default: the run's eval length)");
  cmd->add_option("--threshold", options->threshold, "Binarization threshold (default: from metrics.json, else 0.5)");
  cmd->add_option("--merge", options->merge, "Fill gaps of at most this many ticks (default: from metrics.json, else 0)");
  cmd->add_option("--data", options->data, "Data root: chord_db.csv, and POP909 with --song (default: STRIPES_DATA, "
                                           "else ../shared/data)");
  add_device_option(*cmd, options->device, "Where the model runs");
  cmd->callback([options] { run_harmonize(*options); });
}
STRIPES_REGISTER_COMMANDS(add_harmonize_command)

}  // namespace stripes::cli
