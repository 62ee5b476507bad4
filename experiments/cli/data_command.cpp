// `stripes data ...`: the POP909 data of the melody-harmonization experiments.
//   data check     load every song; counts, windows per split, vocabulary; exit 1 on any inconsistency
//   data export    a song's three tracks as a MIDI file, and/or its per-tick contexts as text
//   data windows   a song's windows in the layout of the authors' golden_windows.h5 (for h5diff)
//   data mi        mutual information between content and context, beside the paper's Table I
// Every subcommand takes --data DIR (else STRIPES_DATA, else ../shared/data) and the preprocessing
// options; the logic lives in data/ (data_check, contexts, window_file, mutual_information).
#include "data/contexts.hpp"
#include "data/data_check.hpp"
#include "data/midi/midi_file.hpp"
#include "data/mutual_information.hpp"
#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "data/song_cache.hpp"
#include "data/window_file.hpp"
#include "experiments/cli/command_registry.hpp"
#include "tensor/error.hpp"

#include <fmt/core.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <set>

namespace stripes::cli {

namespace {

using namespace stripes::data;

struct CommonOptions {
  std::string data;
  std::string bar_grid = "first-note";
  std::string vanished_onsets = "keep";
  std::string midi_overlap = "fifo";

  Pop909Options preprocessing() const {
    Pop909Options options;
    options.bar_grid_from_first_note = bar_grid == "first-note";
    options.onsets_of_vanished_notes = vanished_onsets == "keep";
    options.midi_overlap = midi_overlap == "fifo" ? midi::OverlapPolicy::kFirstInFirstOut
                                                  : midi::OverlapPolicy::kCutAtRetrigger;
    return options;
  }
  std::string root() const { return resolve_data_root(data); }
};

void add_common_options(CLI::App* command, CommonOptions& options) {
  command->add_option("--data", options.data,
                      "Data root (pop909/, structure/, stripe-alignment/); default $STRIPES_DATA, else ../shared/data");
  command->add_option("--bar-grid", options.bar_grid,
                      "measure_order/note_order counted from the first note (authors) or the annotation start")
      ->check(CLI::IsMember({"first-note", "annotation-start"}))
      ->capture_default_str();
  command->add_option("--vanished-onsets", options.vanished_onsets,
                      "Onsets of notes that round to zero ticks: keep (authors) or drop")
      ->check(CLI::IsMember({"keep", "drop"}))
      ->capture_default_str();
  command->add_option("--midi-overlap", options.midi_overlap,
                      "Same-pitch overlapping MIDI notes: fifo (muspy, authors) or cut (re-trigger)")
      ->check(CLI::IsMember({"fifo", "cut"}))
      ->capture_default_str();
}

// "7", "007", "1-12", "1,5,9" -> song ids.
std::vector<int> parse_song_ids(const std::string& text) {
  std::vector<int> ids;
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const std::string part = text.substr(begin, comma - begin);
    const size_t dash = part.find('-');
    try {
      size_t used = 0;
      if (dash == std::string::npos) {
        ids.push_back(std::stoi(part, &used));
        STRIPES_CHECK(used == part.size(), "");
      } else {
        const int first = std::stoi(part.substr(0, dash));
        const int last = std::stoi(part.substr(dash + 1), &used);
        STRIPES_CHECK(used == part.size() - dash - 1 && first <= last, "");
        for (int id = first; id <= last; ++id) ids.push_back(id);
      }
    } catch (const std::exception&) {
      throw_error("expected a song id such as 7, 007, 1-12 or 1,5,9; found '{}'", part);
    }
    begin = comma + 1;
  }
  return ids;
}

std::optional<Split> parse_split_option(const std::string& name) {
  if (name == "all") return std::nullopt;
  if (name == "train") return Split::kTrain;
  if (name == "val") return Split::kValidation;
  if (name == "test") return Split::kTest;
  throw_error("unknown split '{}'; expected train, val, test or all", name);
}

// ---- data check ---------------------------------------------------------------------------------

void add_check(CLI::App* data) {
  auto* command = data->add_subcommand("check", "Load every POP909 song, report counts and windows, verify consistency");
  auto options = std::make_shared<CommonOptions>();
  auto cache = std::make_shared<std::string>();
  add_common_options(command, *options);
  command->add_option("--cache", *cache, "Song cache directory to compare with (default $STRIPES_CACHE, else build/cache)");
  command->callback([options, cache] {
    DataCheckOptions check;
    check.preprocessing = options->preprocessing();
    check.cache_directory = *cache;
    const DataCheckReport report = run_data_check(options->root(), check);
    fmt::print("{}", report.text);
    fmt::print("checks:\n");
    for (const DataCheckItem& item : report.items) {
      fmt::print("  {:<4} {:<15} {}\n", item.passed ? "ok" : "FAIL", item.name, item.detail);
    }
    fmt::print("data check: {} ({} of {} checks failed) in {:.2f} s\n", report.passed() ? "consistent" : "INCONSISTENT",
               report.failures(), report.items.size(), report.seconds);
    if (!report.passed()) cli_exit_code() = 1;
  });
}

// ---- data export --------------------------------------------------------------------------------

midi::MidiFile song_as_midi(const Pop909Song& song, int64_t begin, int64_t end) {
  midi::MidiFile file;
  file.format = 1;
  file.ticks_per_quarter = kTicksPerQuarter;
  file.tempos.push_back({0, static_cast<int>(std::lround(60'000'000.0 / song.tempo_bpm))});
  file.time_signatures.push_back({0, 4, 4});
  file.tracks.push_back(midi::Track{"", {}});  // conductor
  for (int track = 0; track < kTrackCount; ++track) {
    midi::Track out;
    out.name = kTrackNames[track];
    for (const SongNote& note : song.notes) {
      const int64_t start = std::max(note.start, begin);
      const int64_t stop = std::min(note.end, end);
      if (note.track != track || stop <= start) continue;
      out.notes.push_back(midi::Note{track + 1, track, note.pitch, 100, start - begin, stop - begin});
    }
    file.tracks.push_back(std::move(out));
  }
  file.end_tick = end - begin;
  return file;
}

std::string chord_label(const ChordVector& chord) {
  static const char* const kNames[12] = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};
  if (chord.root_plus_one == 0) return "N";
  std::string pcs;
  for (int pc = 0; pc < 12; ++pc) {
    if (chord.pitch_classes[static_cast<size_t>(pc)]) pcs += (pcs.empty() ? "" : ",") + std::string(kNames[pc]);
  }
  return fmt::format("{}[{}]", kNames[chord.root_plus_one - 1], pcs);
}

void add_export(CLI::App* data) {
  auto* command = data->add_subcommand("export", "Write a song's three tracks as MIDI and/or print its per-tick contexts");
  struct Options {
    CommonOptions common;
    std::string song;
    std::string output;
    std::string contexts;
    std::string ticks;
  };
  auto options = std::make_shared<Options>();
  add_common_options(command, options->common);
  command->add_option("song", options->song, "Song id (e.g. 1 or 001)")->required();
  command->add_option("-o,--output", options->output, "MIDI file to write (16 ticks per quarter note)");
  command->add_option("--context", options->contexts,
                      "Print per-tick contexts: TIME, REP, KEY, BIN, MCP, a comma list, or all (the paper's four)");
  command->add_option("--ticks", options->ticks, "Only ticks BEGIN:END of the song (default: all)");
  command->callback([options] {
    STRIPES_CHECK(!options->output.empty() || !options->contexts.empty(),
                  "data export: nothing to do; give -o FILE.mid and/or --context TYPES");
    const std::vector<int> ids = parse_song_ids(options->song);
    STRIPES_CHECK(ids.size() == 1, "data export: one song at a time, got '{}'", options->song);
    const Pop909Catalog catalog = load_pop909_catalog(options->common.root());
    const Pop909Song song = load_pop909_song(catalog, ids[0], options->common.preprocessing());
    int64_t begin = 0, end = song.num_ticks;
    if (!options->ticks.empty()) {
      const size_t colon = options->ticks.find(':');
      try {
        STRIPES_CHECK(colon != std::string::npos, "");
        if (colon > 0) begin = std::stoll(options->ticks.substr(0, colon));
        if (colon + 1 < options->ticks.size()) end = std::stoll(options->ticks.substr(colon + 1));
      } catch (const std::exception&) {
        throw_error("data export: --ticks expects BEGIN:END (e.g. 0:1024), found '{}'", options->ticks);
      }
      STRIPES_CHECK(0 <= begin && begin < end && end <= song.num_ticks,
                    "data export: --ticks {}:{} is not inside the song's {} ticks", begin, end, song.num_ticks);
    }
    if (!options->output.empty()) {
      const midi::MidiFile file = song_as_midi(song, begin, end);
      midi::write_midi(file, options->output);
      fmt::print(stderr, "wrote song {:03d} ticks {}..{} ({} notes, {} BPM, 16 ticks per quarter) to {}\n", song.song_id,
                 begin, end, file.note_count(), song.tempo_bpm, options->output);
    }
    if (options->contexts.empty()) return;
    const std::vector<ContextType> types = parse_context_list(options->contexts);
    const ContextEncoder encoder(catalog.chords);
    const auto length = static_cast<size_t>(end - begin);
    ContextSpan span;
    span.chord_ids = std::span<const int32_t>(song.chord_ids.data() + begin, length);
    span.melody = std::span<const int32_t>(song.melody.data() + begin, length);
    span.phrase_labels = std::span<const int32_t>(song.phrase_labels.data() + begin, length);
    span.key = song.key;
    fmt::print("# song {:03d}, key {} (tonic {}, {}), ticks {}..{} of {}; TIME counts from tick {}, REP ranks within "
               "these ticks\n",
               song.song_id, song.key.name, song.key.tonic, song.key.is_minor ? "minor" : "major", begin, end,
               song.num_ticks, begin);
    std::string header = "tick\tchord_id\tchord";
    std::vector<std::vector<float>> values;
    for (ContextType type : types) {
      header += std::string("\t") + context_name(type);
      std::vector<float> v(length * static_cast<size_t>(context_width(type)));
      encoder.positions(type, span, v.data());
      values.push_back(std::move(v));
    }
    fmt::print("{}\n", header);
    for (size_t t = 0; t < length; ++t) {
      const int chord = span.chord_ids[t];
      std::string line = fmt::format("{}\t{}\t{}", begin + static_cast<int64_t>(t), chord,
                                     chord_label(catalog.chords.chord(chord)));
      for (size_t c = 0; c < types.size(); ++c) {
        const int width = context_width(types[c]);
        line += '\t';
        for (int k = 0; k < width; ++k) {
          const float value = values[c][t * static_cast<size_t>(width) + static_cast<size_t>(k)];
          if (types[c] == ContextType::kBin) line += value != 0.0f ? '1' : '0';
          else line += fmt::format("{}{}", k ? "," : "", static_cast<int64_t>(value));
        }
      }
      fmt::print("{}\n", line);
    }
  });
}

// ---- data windows -------------------------------------------------------------------------------

void add_windows(CLI::App* data) {
  auto* command = data->add_subcommand(
      "windows", "Write songs' windows in the layout of golden_windows.h5 (/NNN/W/<dataset>), for h5diff / h5py");
  struct Options {
    CommonOptions common;
    std::string songs;
    int length = 512;
    int overlap = -1;
    std::string output;
  };
  auto options = std::make_shared<Options>();
  add_common_options(command, options->common);
  command->add_option("songs", options->songs, "Song id(s): 1, 001, 1-12, 1,5,9")->required();
  command->add_option("--T", options->length, "Sequence length T (windows of T + 1 ticks)")->capture_default_str();
  command->add_option("--overlap", options->overlap, "Overlap in ticks (default T / 8, the authors' rule)");
  command->add_option("-o,--output", options->output, "HDF5 file to write")->required();
  command->callback([options] {
    const std::string root = options->common.root();
    const Pop909Catalog catalog = load_pop909_catalog(root);
    const int overlap = options->overlap < 0 ? default_window_overlap(options->length) : options->overlap;
    std::vector<Pop909Song> songs;
    for (int id : parse_song_ids(options->songs)) {
      songs.push_back(load_pop909_song(catalog, id, options->common.preprocessing()));
    }
    std::vector<const Pop909Song*> pointers;
    for (const Pop909Song& song : songs) pointers.push_back(&song);
    const std::string description = fmt::format(
        "Windows of {} ticks (16 ticks per quarter note, T = {}, overlap {}) as preprocessed by stripes ({}): "
        "pianoroll rows = 3 tracks (melody, bridge, piano) x 128 pitches; structure rows per tick. Data root {}.",
        options->length + 1, options->length, overlap, describe_options(options->common.preprocessing()), root);
    const int windows = write_windows_file(options->output, pointers, options->length, overlap, description);
    fmt::print("wrote {} windows of {} song(s) (T = {}, overlap {}) to {}\n", windows, songs.size(), options->length,
               overlap, options->output);
    if (options->length == 512 && overlap == 64) {
      fmt::print("compare with the authors': h5diff {}/stripe-alignment/golden_windows.h5 {} /{:03d} /{:03d}\n", root,
                 options->output, songs.front().song_id, songs.front().song_id);
    }
  });
}

// ---- data mi ------------------------------------------------------------------------------------

void add_mi(CLI::App* data) {
  auto* command = data->add_subcommand(
      "mi", "Mutual information between content (active pitches) and context, beside the paper's Table I");
  struct Options {
    CommonOptions common;
    int length = 1024;
    int overlap = -1;
    std::string split = "train";
    std::string content = "all";
    std::string contexts = "all";
    std::string cache;
    bool no_cache = false;
  };
  auto options = std::make_shared<Options>();
  add_common_options(command, options->common);
  command->add_option("--T", options->length, "Window length T (windows of T + 1 ticks)")->capture_default_str();
  command->add_option("--overlap", options->overlap, "Overlap in ticks (default T / 8)");
  command->add_option("--split", options->split, "train, val, test or all")->capture_default_str();
  command->add_option("--content", options->content,
                      "Tracks whose active cells are the content: all, melody, bridge, piano, input, or a list")
      ->capture_default_str();
  command->add_option("--context", options->contexts, "TIME, REP, KEY, BIN, a comma list, or all")->capture_default_str();
  command->add_option("--cache", options->cache, "Song cache directory (default $STRIPES_CACHE, else build/cache)");
  command->add_flag("--no-cache", options->no_cache, "Load the songs from the data root; read and write no cache");
  command->callback([options] {
    const auto started = std::chrono::steady_clock::now();
    const Pop909Catalog catalog = load_pop909_catalog(options->common.root());
    SongCacheOptions cache;
    cache.directory = options->cache;
    cache.enabled = !options->no_cache;
    const CachedSongs loaded = load_songs_cached(catalog, options->common.preprocessing(), cache);
    const ContextEncoder encoder(catalog.chords);
    MutualInformationOptions mi;
    mi.split = parse_split_option(options->split);
    mi.sequence_length = options->length;
    mi.overlap = options->overlap;
    mi.tracks = parse_track_set(options->content);
    mi.contexts = parse_context_list(options->contexts);
    const MutualInformationReport report = content_context_mutual_information(*loaded.songs, encoder, mi);

    const std::string source = loaded.path.empty() ? "loaded from the data root"
                               : (loaded.rebuilt ? "cache rebuilt: " : "from cache ") + loaded.path;
    fmt::print("songs: {} ({}{})\n", loaded.songs->size(), source,
               loaded.rebuilt && !loaded.path.empty() ? " (" + loaded.rebuild_reason + ")" : "");
    fmt::print("content: MIDI pitch of every active pianoroll cell of {}; context: the cell's tick under each type\n",
               track_set_name(mi.tracks));
    fmt::print("windows: {} split, {} songs, {} windows of {} ticks (T = {}, overlap {}); contexts computed per window\n",
               options->split, report.songs, report.windows, mi.sequence_length + 1, mi.sequence_length, report.overlap);
    fmt::print("MI = sum p(x,y) ln p(x,y)/(p(x)p(y)), plug-in over all (pitch, context) pairs, nats\n\n");
    fmt::print("{:<8} {:>10} {:>12} {:>10} {:>12} {:>14}\n", "context", "ours", "paper (T. I)", "|Y|", "pairs N",
               "bias (X-1)(Y-1)/2N");
    for (const MutualInformationResult& result : report.results) {
      const double paper = paper_mutual_information(result.context);
      fmt::print("{:<8} {:>10.4f} {:>12} {:>10} {:>12} {:>14.4f}\n", context_name(result.context), result.nats,
                 std::isnan(paper) ? std::string("-") : fmt::format("{:.4f}", paper), result.context_symbols,
                 result.pairs, result.plug_in_bias);
    }
    fmt::print("\n(mutual information in {:.2f} s; {:.2f} s in all)\n", report.seconds,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });
}

}  // namespace

static void add_data_commands(CLI::App& app) {
  auto* data = app.add_subcommand("data", "POP909 data: check, export, windows, mi");
  data->require_subcommand(1);
  add_check(data);
  add_export(data);
  add_windows(data);
  add_mi(data);
}
STRIPES_REGISTER_COMMANDS(add_data_commands)

}  // namespace stripes::cli
