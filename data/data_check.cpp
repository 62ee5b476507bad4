// `stripes data check`; the list of checks is in data_check.hpp.
#include "data/data_check.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "data/contexts.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "data/song_cache.hpp"
#include "data/window_file.hpp"
#include "tensor/error.hpp"
#include "tensor/io/hdf5_file.hpp"

namespace stripes::data {

namespace {

constexpr size_t kMostProblemsListed = 6;

std::string id_list(const std::vector<int>& ids, size_t most = 40) {
  std::string text;
  for (size_t i = 0; i < ids.size() && i < most; ++i) text += (i ? " " : "") + std::to_string(ids[i]);
  if (ids.size() > most) text += fmt::format(" ... ({} more)", ids.size() - most);
  return text;
}

// The problems of one song's arrays ("" if none).
std::string song_problems(const Pop909Song& song, int chord_count) {
  std::vector<std::string> problems;
  const auto n = static_cast<size_t>(song.num_ticks);
  if (song.num_ticks <= 0) problems.push_back(fmt::format("{} ticks", song.num_ticks));
  const std::pair<const char*, const std::vector<int32_t>*> rows[] = {{"chord_ids", &song.chord_ids},
                                                                       {"melody", &song.melody},
                                                                       {"phrase_labels", &song.phrase_labels},
                                                                       {"measure_order", &song.measure_order},
                                                                       {"note_order", &song.note_order}};
  for (const auto& [name, row] : rows) {
    if (row->size() != n) problems.push_back(fmt::format("{} has {} values for {} ticks", name, row->size(), n));
  }
  if (!problems.empty()) return problems.front();
  auto out_of_range = [&](const char* name, const std::vector<int32_t>& row, int low, int high) {
    const auto bad = std::find_if(row.begin(), row.end(), [&](int32_t v) { return v < low || v > high; });
    if (bad != row.end()) {
      problems.push_back(fmt::format("{} = {} at tick {} (expected {}..{})", name, *bad, bad - row.begin(), low, high));
    }
  };
  out_of_range("chord id", song.chord_ids, 0, chord_count - 1);
  out_of_range("melody pitch", song.melody, 0, kPitchCount - 1);
  out_of_range("phrase label", song.phrase_labels, 0, kPhraseLabelCount - 1);
  out_of_range("note_order", song.note_order, 0, kTicksPerQuarter - 1);
  if (!song.measure_order.empty() && (song.measure_order.front() < 0 || song.measure_order.front() > 1)) {
    problems.push_back(fmt::format("measure_order starts at {}", song.measure_order.front()));
  }
  for (size_t t = 1; t < song.measure_order.size(); ++t) {
    const int32_t step = song.measure_order[t] - song.measure_order[t - 1];
    if (step < 0 || step > 1) {
      problems.push_back(fmt::format("measure_order steps by {} at tick {}", step, t));
      break;
    }
  }
  if (song.tempo_bucket < 0 || song.tempo_bucket >= kTempoBucketCount) {
    problems.push_back(fmt::format("tempo bucket {}", song.tempo_bucket));
  }
  bool sounds = false;
  for (const SongNote& note : song.notes) {
    if (note.track < 0 || note.track >= kTrackCount || note.pitch < 0 || note.pitch >= kPitchCount ||
        note.start < 0 || note.end < note.start || note.end > song.num_ticks) {
      problems.push_back(fmt::format("note (track {}, pitch {}, ticks [{}, {})) outside the song of {} ticks",
                                     note.track, note.pitch, note.start, note.end, song.num_ticks));
      break;
    }
    sounds = sounds || note.end > note.start;
  }
  if (!sounds) problems.push_back("no note sounds");
  return problems.empty() ? "" : problems.front();
}

}  // namespace

bool DataCheckReport::passed() const { return failures() == 0; }

int DataCheckReport::failures() const {
  return static_cast<int>(std::count_if(items.begin(), items.end(), [](const DataCheckItem& i) { return !i.passed; }));
}

DataCheckReport run_data_check(const std::string& data_root, const DataCheckOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  DataCheckReport report;
  auto add = [&report](const std::string& name, bool passed, const std::string& detail) {
    report.items.push_back({name, passed, detail});
  };
  auto finish = [&] {
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  };
  std::string& text = report.text;
  text += fmt::format("data root: {}\npreprocessing: {}\n", data_root, describe_options(options.preprocessing));

  // ---- catalogue --------------------------------------------------------------------------------
  Pop909Catalog catalog;
  try {
    catalog = load_pop909_catalog(data_root);
  } catch (const Error& error) {
    add("catalogue", false, error.what());
    return finish();
  }
  add("catalogue", true,
      fmt::format("{} songs in startpos.csv and in split.csv, {} chords in chord_db.csv (no chord = id {}), {} songs in "
                  "index.csv",
                  catalog.start_positions.size(), catalog.chords.size(), catalog.chords.no_chord_id(),
                  catalog.index.size()));

  // ---- load -------------------------------------------------------------------------------------
  const int count_length = options.window_lengths.empty() ? 512 : options.window_lengths.front().first;
  Pop909LoadResult loaded = load_all_pop909_songs(catalog, options.preprocessing, true, count_length);
  const Pop909LoadSummary& summary = loaded.summary;
  const std::vector<Pop909Song>& songs = loaded.songs;
  text += summary.report();

  std::vector<int> unusable;
  std::string unusable_detail;
  for (const SkippedSong& skipped : summary.skipped) {
    if (skipped.reason == SkipReason::kMissingFiles || skipped.reason == SkipReason::kUnreadable) {
      unusable.push_back(skipped.song_id);
      if (unusable.size() <= kMostProblemsListed) {
        unusable_detail += fmt::format("; {:03d}: {}", skipped.song_id, skipped.detail);
      }
    }
  }
  add("usable songs", unusable.empty(),
      unusable.empty() ? fmt::format("all {} songs of startpos.csv/split.csv loaded", summary.songs_used)
                       : fmt::format("{} songs of split.csv cannot be used ({}){}", unusable.size(), id_list(unusable),
                                     unusable_detail));

  // ---- split sizes ------------------------------------------------------------------------------
  std::array<int, 3> in_file = {0, 0, 0};
  for (const SongSplit& row : catalog.splits) ++in_file[static_cast<size_t>(row.split)];
  const std::array<int, 3> used = {summary.train_songs, summary.validation_songs, summary.test_songs};
  const bool split_ok = used == options.expected_split_sizes && used == in_file;
  add("split sizes", split_ok,
      fmt::format("train {} / val {} / test {} songs used; split.csv {} / {} / {}; expected (paper) {} / {} / {}",
                  used[0], used[1], used[2], in_file[0], in_file[1], in_file[2], options.expected_split_sizes[0],
                  options.expected_split_sizes[1], options.expected_split_sizes[2]));

  // ---- song arrays ------------------------------------------------------------------------------
  std::vector<std::string> problems(songs.size());
#pragma omp parallel for schedule(dynamic, 8)
  for (size_t i = 0; i < songs.size(); ++i) problems[i] = song_problems(songs[i], catalog.chords.size());
  std::vector<int> bad_songs;
  std::string bad_detail;
  for (size_t i = 0; i < songs.size(); ++i) {
    if (problems[i].empty()) continue;
    bad_songs.push_back(songs[i].song_id);
    if (bad_songs.size() <= kMostProblemsListed) bad_detail += fmt::format("; {:03d}: {}", songs[i].song_id, problems[i]);
  }
  int64_t notes = 0;
  for (const Pop909Song& song : songs) notes += static_cast<int64_t>(song.notes.size());
  add("song arrays", bad_songs.empty(),
      bad_songs.empty() ? fmt::format("{} songs, {} ticks, {} notes: every row one value per tick, every value in range",
                                      songs.size(), summary.total_ticks, notes)
                        : fmt::format("{} songs have inconsistent arrays{}", bad_songs.size(), bad_detail));

  // ---- windows ----------------------------------------------------------------------------------
  text += "windows of T + 1 ticks (hop T + 1 - overlap, only windows that fit):\n";
  text += fmt::format("  {:<22} {:>7} {:>7} {:>7} {:>7}   songs without a window\n", "", "train", "val", "test", "all");
  bool windows_ok = true;
  std::string windows_detail;
  for (const auto& [length, overlap] : options.window_lengths) {
    std::array<int64_t, 3> per_split = {0, 0, 0};
    int64_t total = 0;
    std::vector<int> too_short;
    for (const Pop909Song& song : songs) {
      const std::vector<int64_t> starts = window_starts(song.num_ticks, length, overlap);
      for (size_t w = 0; w < starts.size(); ++w) {
        const int64_t end = starts[w] + length + 1;
        if (starts[w] < 0 || end > song.num_ticks || (w > 0 && starts[w] - starts[w - 1] != length + 1 - overlap)) {
          windows_ok = false;
          windows_detail = fmt::format("song {:03d}: window {} at tick {} does not fit T = {}", song.song_id, w,
                                       starts[w], length);
        }
      }
      per_split[static_cast<size_t>(song.split)] += static_cast<int64_t>(starts.size());
      total += static_cast<int64_t>(starts.size());
      if (starts.empty()) too_short.push_back(song.song_id);
    }
    if (per_split[0] + per_split[1] + per_split[2] != total) windows_ok = false;
    text += fmt::format("  T = {:<5} overlap {:<5} {:>7} {:>7} {:>7} {:>7}   {}{}\n", length, overlap, per_split[0],
                        per_split[1], per_split[2], total, too_short.size(),
                        too_short.empty() ? "" : " (" + id_list(too_short, 12) + ")");
  }
  add("windows", windows_ok,
      windows_ok ? "every window lies inside its song and has T + 1 ticks; splits add up" : windows_detail);

  // ---- chord vocabulary and KEY tokens ----------------------------------------------------------
  const ContextEncoder encoder(catalog.chords);
  std::vector<int64_t> ticks_per_chord(static_cast<size_t>(catalog.chords.size()), 0);
  std::set<std::pair<int, int>> chord_tonic_pairs;
  std::map<std::string, int> key_names;
  int songs_with_key_changes = 0;
  for (const Pop909Song& song : songs) {
    std::set<int> ids;
    for (int32_t id : song.chord_ids) {
      if (id >= 0 && id < catalog.chords.size()) {
        ++ticks_per_chord[static_cast<size_t>(id)];
        ids.insert(id);
      }
    }
    for (int id : ids) chord_tonic_pairs.insert({id, song.key.tonic});
    ++key_names[song.key.name];
    if (song.key_changes.size() > 1) ++songs_with_key_changes;
  }
  std::vector<int> unused;
  for (int id = 0; id < catalog.chords.size(); ++id) {
    if (ticks_per_chord[static_cast<size_t>(id)] == 0) unused.push_back(id);
  }
  text += fmt::format("chord vocabulary: {} ids, {} occur in the used songs (unused ids: {}); no chord (id {}) on {:.1f}% "
                      "of the ticks\n",
                      catalog.chords.size(), catalog.chords.size() - static_cast<int>(unused.size()), id_list(unused),
                      catalog.chords.no_chord_id(),
                      100.0 * static_cast<double>(ticks_per_chord[static_cast<size_t>(catalog.chords.no_chord_id())]) /
                          static_cast<double>(std::max<int64_t>(summary.total_ticks, 1)));
  text += fmt::format("keys: {} distinct song keys (first line of analyzed_key.txt); {} songs list key changes (only "
                      "the first key is used)\n",
                      key_names.size(), songs_with_key_changes);

  std::set<int> tokens_used, extension_tokens;
  int64_t extension_ticks = 0;
  std::string key_problem;
  for (const auto& [id, tonic] : chord_tonic_pairs) {
    Key key;
    key.tonic = tonic;
    const int token = encoder.key_token(id, key);
    tokens_used.insert(token);
    if (token >= catalog.chords.size()) extension_tokens.insert(token);
    if (transpose_chord(encoder.key_token_chord(token), tonic) != catalog.chords.chord(id) && key_problem.empty()) {
      key_problem = fmt::format("chord id {} in a key with tonic {} maps to token {} whose chord does not transpose back",
                                id, tonic, token);
    }
  }
  for (const Pop909Song& song : songs) {
    for (int32_t id : song.chord_ids) {
      if (id >= 0 && id < catalog.chords.size() && encoder.key_token(id, song.key) >= catalog.chords.size()) {
        ++extension_ticks;
      }
    }
  }
  text += fmt::format("KEY tokens: vocabulary {} (chord_db's {} + {} transpositions it lacks); {} tokens occur, {} of "
                      "them outside chord_db ({} quarter notes)\n",
                      encoder.key_vocabulary_size(), catalog.chords.size(),
                      encoder.key_vocabulary_size() - catalog.chords.size(), tokens_used.size(),
                      extension_tokens.size(), extension_ticks / kTicksPerQuarter);
  add("KEY tokens", key_problem.empty(),
      key_problem.empty() ? fmt::format("{} (chord, key tonic) pairs tokenized; every token transposes back to its chord",
                                        chord_tonic_pairs.size())
                          : key_problem);

  // ---- golden windows ---------------------------------------------------------------------------
  const std::string golden_path = (std::filesystem::path(data_root) / "stripe-alignment" / "golden_windows.h5").string();
  std::error_code exists_error;
  if (!options.compare_golden) {
    text += "golden windows: not compared (disabled)\n";
  } else if (!std::filesystem::exists(golden_path, exists_error)) {
    text += fmt::format("golden windows: {} not found, not compared\n", golden_path);
  } else {
    std::string detail;
    bool equal = true;
    int compared_songs = 0, compared_windows = 0;
    try {
      const io::Hdf5File golden(golden_path, io::OpenMode::kRead);
      for (const std::string& group : golden.list_children("/")) {
        const int song_id = std::stoi(group);
        const auto song = std::find_if(songs.begin(), songs.end(), [&](const Pop909Song& s) { return s.song_id == song_id; });
        if (song == songs.end()) {
          equal = false;
          detail += fmt::format("; song {} is in the golden file but not loaded", group);
          continue;
        }
        const std::vector<int64_t> shape = golden.dataset_shape("/" + group + "/0/pianoroll");
        const int length = static_cast<int>(shape.at(1)) - 1;
        const WindowFileComparison comparison =
            compare_with_window_file(golden, *song, length, default_window_overlap(length));
        ++compared_songs;
        compared_windows += comparison.reference_windows;
        if (!comparison.equal()) {
          equal = false;
          for (const std::string& difference : comparison.differences) detail += "; " + difference;
        }
      }
    } catch (const std::exception& error) {
      equal = false;
      detail += fmt::format("; {}", error.what());
    }
    add("golden windows", equal,
        equal ? fmt::format("{} songs, {} windows of golden_windows.h5 equal ours in every value", compared_songs,
                            compared_windows)
              : "differences:" + detail.substr(1));
  }

  // ---- cache ------------------------------------------------------------------------------------
  if (options.check_cache) {
    const std::string path =
        (std::filesystem::path(song_cache_directory(options.cache_directory)) / kSongCacheFileName).string();
    const std::string key = song_cache_key(catalog, options.preprocessing);
    if (read_song_cache_key(path) != key) {
      text += fmt::format("song cache: none for these options and data at {} (not compared)\n", path);
    } else {
      std::string detail;
      try {
        const std::vector<Pop909Song> cached = read_song_cache(path);
        if (cached.size() != songs.size()) {
          detail = fmt::format("{} songs in the cache, {} loaded", cached.size(), songs.size());
        }
        for (size_t i = 0; i < cached.size() && detail.empty(); ++i) {
          std::string field;
          if (!songs_equal(cached[i], songs[i], &field)) {
            detail = fmt::format("song {:03d}: {} differs", songs[i].song_id, field);
          }
        }
      } catch (const Error& error) {
        detail = error.what();
      }
      add("cache", detail.empty(),
          detail.empty() ? fmt::format("{} (key {}) equals the fresh load", path, key) : path + ": " + detail);
    }
  }
  return finish();
}

}  // namespace stripes::data
