// The POP909 catalogue and the all-songs loader; see pop909_dataset.hpp.
#include "data/pop909/pop909_dataset.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "tensor/error.hpp"

namespace stripes::data {

namespace fs = std::filesystem;

namespace {

std::string three_digits(int song_id) { return fmt::format("{:03d}", song_id); }

// The song files the loader reads, in the order it reads them.
std::vector<std::string> song_file_paths(const Pop909Catalog& catalog, int song_id) {
  const fs::path structure(catalog.structure_directory(song_id));
  std::vector<std::string> paths = {catalog.midi_path(song_id)};
  for (const char* name : {"finalized_chord.txt", "melody.txt", "human_label1.txt", "tempo.txt", "analyzed_key.txt"}) {
    paths.push_back((structure / name).string());
  }
  return paths;
}

}  // namespace

// ---- catalogue ----------------------------------------------------------------------------------

const StartPosition* Pop909Catalog::find_start_position(int song_id) const {
  for (const StartPosition& row : start_positions) {
    if (row.song_id == song_id) return &row;
  }
  return nullptr;
}

std::optional<Split> Pop909Catalog::find_split(int song_id) const {
  for (const SongSplit& row : splits) {
    if (row.song_id == song_id) return row.split;
  }
  return std::nullopt;
}

const SongIndexEntry* Pop909Catalog::find_index_entry(int song_id) const {
  for (const SongIndexEntry& row : index) {
    if (row.song_id == song_id) return &row;
  }
  return nullptr;
}

std::string Pop909Catalog::midi_path(int song_id) const {
  const std::string name = three_digits(song_id);
  return (fs::path(root) / "pop909" / "POP909" / name / (name + ".mid")).string();
}

std::string Pop909Catalog::structure_directory(int song_id) const {
  return (fs::path(root) / "structure" / "POP909" / three_digits(song_id)).string();
}

SongInputs Pop909Catalog::song_inputs(int song_id) const {
  const StartPosition* start = find_start_position(song_id);
  STRIPES_CHECK(start != nullptr, "POP909 song {}: no row in {}/stripe-alignment/startpos.csv (not a used song)",
                three_digits(song_id), root);
  const std::optional<Split> split = find_split(song_id);
  STRIPES_CHECK(split.has_value(), "POP909 song {}: no row in {}/stripe-alignment/split.csv", three_digits(song_id),
                root);
  SongInputs inputs;
  inputs.song_id = song_id;
  inputs.start_position = start->position_ticks;
  inputs.split = *split;
  inputs.midi_path = midi_path(song_id);
  inputs.structure_directory = structure_directory(song_id);
  return inputs;
}

Pop909Catalog load_pop909_catalog(const std::string& data_root) {
  Pop909Catalog catalog;
  catalog.root = data_root;
  const fs::path root(data_root);
  const std::string startpos_path = (root / "stripe-alignment" / "startpos.csv").string();
  const std::string split_path = (root / "stripe-alignment" / "split.csv").string();
  catalog.start_positions = read_startpos_csv(startpos_path);
  catalog.splits = read_split_csv(split_path);
  catalog.chords = read_chord_db_csv((root / "stripe-alignment" / "chord_db.csv").string());
  catalog.index = read_index_csv((root / "pop909" / "POP909" / "index.csv").string());

  std::set<int> aligned;
  for (const StartPosition& row : catalog.start_positions) {
    STRIPES_CHECK(aligned.insert(row.song_id).second, "{}: song {} has two rows", startpos_path, row.song_id);
  }
  std::set<int> split_songs;
  for (const SongSplit& row : catalog.splits) {
    STRIPES_CHECK(split_songs.insert(row.song_id).second, "{}: song {} has two rows", split_path, row.song_id);
    STRIPES_CHECK(aligned.count(row.song_id) == 1, "{}: song {} has a split but no row in {}", split_path,
                  row.song_id, startpos_path);
  }
  for (int song_id : aligned) {
    STRIPES_CHECK(split_songs.count(song_id) == 1, "{}: song {} has no split row (it is in {})", split_path, song_id,
                  startpos_path);
  }
  return catalog;
}

Pop909Song load_pop909_song(const Pop909Catalog& catalog, int song_id, const Pop909Options& options) {
  return load_pop909_song(catalog.song_inputs(song_id), catalog.chords, options);
}

// ---- all songs ----------------------------------------------------------------------------------

const char* skip_reason_name(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNotFourFour: return "not 4/4";
    case SkipReason::kNoAlignmentEntry: return "no alignment entry";
    case SkipReason::kMissingFiles: return "missing files";
    case SkipReason::kUnreadable: return "unreadable file";
  }
  return "?";
}

int Pop909LoadSummary::skipped_count(SkipReason reason) const {
  return static_cast<int>(
      std::count_if(skipped.begin(), skipped.end(), [reason](const SkippedSong& song) { return song.reason == reason; }));
}

std::string Pop909LoadSummary::report() const {
  std::string text = fmt::format("POP909: {} songs in index.csv, {} used (train {}, val {}, test {}), {} skipped\n",
                                 songs_in_index, songs_used, train_songs, validation_songs, test_songs, skipped.size());
  for (SkipReason reason : {SkipReason::kNotFourFour, SkipReason::kNoAlignmentEntry, SkipReason::kMissingFiles,
                            SkipReason::kUnreadable}) {
    const int count = skipped_count(reason);
    if (count == 0) continue;
    std::string ids;
    for (const SkippedSong& song : skipped) {
      if (song.reason == reason) ids += (ids.empty() ? "" : " ") + three_digits(song.song_id);
    }
    text += fmt::format("  skipped, {}: {} ({})\n", skip_reason_name(reason), count, ids);
    for (const SkippedSong& song : skipped) {
      if (song.reason == reason && (reason == SkipReason::kMissingFiles || reason == SkipReason::kUnreadable)) {
        text += fmt::format("    {}: {}\n", three_digits(song.song_id), song.detail);
      }
    }
  }
  if (!used_despite_index_meter.empty()) {
    std::string ids;
    for (int song_id : used_despite_index_meter) ids += (ids.empty() ? "" : " ") + three_digits(song_id);
    text += fmt::format("  used as 4/4 (startpos.csv) although index.csv says otherwise: {} ({})\n",
                        used_despite_index_meter.size(), ids);
  }
  text += fmt::format("  {} ticks in all; {} windows of {} ticks (T = {}, overlap {}); loaded in {:.2f} s\n",
                      total_ticks, windows, window_sequence_length + 1, window_sequence_length, window_overlap,
                      seconds);
  return text;
}

Pop909LoadResult load_all_pop909_songs(const Pop909Catalog& catalog, const Pop909Options& options, bool keep_songs,
                                       int sequence_length, const std::function<void()>& on_song_done) {
  const auto started = std::chrono::steady_clock::now();
  Pop909LoadResult result;
  Pop909LoadSummary& summary = result.summary;
  summary.songs_in_index = static_cast<int>(catalog.index.size());
  summary.window_sequence_length = sequence_length;
  summary.window_overlap = default_window_overlap(sequence_length);

  // Decide per song, serially, what to load; then load in parallel.
  std::vector<int> to_load;
  for (const SongIndexEntry& entry : catalog.index) {
    if (catalog.find_start_position(entry.song_id) == nullptr) {
      summary.skipped.push_back({entry.song_id,
                                 entry.is_four_four() ? SkipReason::kNoAlignmentEntry : SkipReason::kNotFourFour,
                                 fmt::format("index.csv meter: {} beats of {} quavers", entry.num_beats_per_measure,
                                             entry.num_quavers_per_beat)});
      continue;
    }
    std::string missing;
    for (const std::string& path : song_file_paths(catalog, entry.song_id)) {
      std::error_code error;
      if (!fs::is_regular_file(path, error)) missing += (missing.empty() ? "" : ", ") + path;
    }
    if (!missing.empty()) {
      summary.skipped.push_back({entry.song_id, SkipReason::kMissingFiles, "missing " + missing});
      continue;
    }
    to_load.push_back(entry.song_id);
  }

  std::vector<Pop909Song> songs(to_load.size());
  std::vector<std::string> errors(to_load.size());
#pragma omp parallel for schedule(dynamic, 4)
  for (size_t i = 0; i < to_load.size(); ++i) {
    try {
      songs[i] = load_pop909_song(catalog, to_load[i], options);
    } catch (const std::exception& error) {
      errors[i] = error.what();
    }
    if (on_song_done) on_song_done();
  }

  for (size_t i = 0; i < to_load.size(); ++i) {
    if (!errors[i].empty()) {
      summary.skipped.push_back({to_load[i], SkipReason::kUnreadable, errors[i]});
      continue;
    }
    const Pop909Song& song = songs[i];
    ++summary.songs_used;
    switch (song.split) {
      case Split::kTrain: ++summary.train_songs; break;
      case Split::kValidation: ++summary.validation_songs; break;
      case Split::kTest: ++summary.test_songs; break;
    }
    const SongIndexEntry* entry = catalog.find_index_entry(song.song_id);
    if (entry != nullptr && !entry->is_four_four()) summary.used_despite_index_meter.push_back(song.song_id);
    summary.total_ticks += song.num_ticks;
    summary.windows +=
        static_cast<int64_t>(window_starts(song.num_ticks, sequence_length, summary.window_overlap).size());
    if (keep_songs) result.songs.push_back(std::move(songs[i]));
  }
  std::sort(summary.skipped.begin(), summary.skipped.end(),
            [](const SkippedSong& a, const SkippedSong& b) { return a.song_id < b.song_id; });
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace stripes::data
