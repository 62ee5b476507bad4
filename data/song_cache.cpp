// HDF5 cache of the preprocessed POP909 songs; layout and key in song_cache.hpp.
#include "data/song_cache.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <system_error>

#include "data/progress.hpp"
#include "tensor/error.hpp"
#include "tensor/io/hdf5_file.hpp"

namespace stripes::data {

namespace fs = std::filesystem;
using io::Hdf5File;
using io::OpenMode;

namespace {

uint64_t fnv1a(const std::string& text, uint64_t hash = 14695981039346656037ull) {
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

std::string program_directory() {
  std::error_code error;
  const fs::path exe = fs::read_symlink("/proc/self/exe", error);
  if (error || exe.empty()) return fs::current_path(error).string();
  return exe.parent_path().string();
}

fs::path normalized(const fs::path& path) {
  std::error_code error;
  fs::path canonical = fs::weakly_canonical(path, error);
  if (error) canonical = fs::absolute(path, error).lexically_normal();
  return canonical;
}

bool is_inside(const fs::path& inner, const fs::path& outer) {
  const fs::path a = normalized(inner);
  const fs::path b = normalized(outer);
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

// The files whose size and modification time enter the key, per used song.
std::vector<std::string> song_files(const Pop909Catalog& catalog, int song_id) {
  const fs::path structure(catalog.structure_directory(song_id));
  std::vector<std::string> paths = {catalog.midi_path(song_id)};
  for (const char* name : {"finalized_chord.txt", "melody.txt", "human_label1.txt", "tempo.txt", "analyzed_key.txt"}) {
    paths.push_back((structure / name).string());
  }
  return paths;
}

std::string join_keys(const std::vector<Pop909Song>& songs) {
  std::string text;
  for (size_t i = 0; i < songs.size(); ++i) {
    if (i > 0) text += ';';
    for (size_t k = 0; k < songs[i].key_changes.size(); ++k) {
      if (k > 0) text += ',';
      text += songs[i].key_changes[k].name;
    }
  }
  return text;
}

template <typename T>
std::vector<T> column(const std::vector<Pop909Song>& songs, T (*get)(const Pop909Song&)) {
  std::vector<T> out;
  out.reserve(songs.size());
  for (const Pop909Song& song : songs) out.push_back(get(song));
  return out;
}

}  // namespace

std::string song_cache_directory(const std::string& explicit_directory) {
  if (!explicit_directory.empty()) return normalized(explicit_directory).string();
  if (const char* from_environment = std::getenv("STRIPES_CACHE"); from_environment != nullptr && *from_environment) {
    return normalized(from_environment).string();
  }
  return normalized(fs::path(program_directory()) / "cache").string();
}

std::string song_cache_key(const Pop909Catalog& catalog, const Pop909Options& options, std::string* hashed_text) {
  std::string text = fmt::format("stripes POP909 song cache, format {}\noptions: {}\ndata root: {}\n",
                                 kSongCacheFormatVersion, describe_options(options), catalog.root);
  const fs::path root(catalog.root);
  uint64_t content_hash = 14695981039346656037ull;
  for (const fs::path& file : {root / "stripe-alignment" / "startpos.csv", root / "stripe-alignment" / "split.csv",
                               root / "stripe-alignment" / "chord_db.csv", root / "pop909" / "POP909" / "index.csv"}) {
    content_hash = fnv1a(read_text_file(file.string()), content_hash);
  }
  text += fmt::format("release files: {:016x}\n", content_hash);
  uint64_t stat_hash = 14695981039346656037ull;
  int64_t files = 0;
  for (const StartPosition& row : catalog.start_positions) {
    for (const std::string& path : song_files(catalog, row.song_id)) {
      std::error_code error;
      const auto size = fs::file_size(path, error);
      const auto time = fs::last_write_time(path, error);
      stat_hash = fnv1a(fmt::format("{} {} {}\n", path, error ? -1 : static_cast<int64_t>(size),
                                    error ? 0 : static_cast<int64_t>(time.time_since_epoch().count())),
                        stat_hash);
      ++files;
    }
  }
  text += fmt::format("song files: {} (sizes and times {:016x})\n", files, stat_hash);
  if (hashed_text != nullptr) *hashed_text = text;
  return fmt::format("{:016x}", fnv1a(text));
}

// ---- writing and reading ------------------------------------------------------------------------

void write_song_cache(const std::string& path, const std::string& key, const std::string& description,
                      const std::vector<Pop909Song>& songs) {
  Hdf5File file(path, OpenMode::kTruncate);
  file.write_attribute("/", "format_version", static_cast<int64_t>(kSongCacheFormatVersion));
  file.write_attribute("/", "key", key);
  file.write_attribute("/", "description", description);

  const int64_t n = static_cast<int64_t>(songs.size());
  using S = const Pop909Song&;
  file.write_dataset<int32_t>("/songs/song_id", {n}, column<int32_t>(songs, [](S s) { return int32_t(s.song_id); }));
  file.write_dataset<uint8_t>("/songs/split", {n}, column<uint8_t>(songs, [](S s) { return uint8_t(s.split); }));
  file.write_dataset<int32_t>("/songs/start_position", {n},
                              column<int32_t>(songs, [](S s) { return int32_t(s.start_position); }));
  file.write_dataset<int64_t>("/songs/num_ticks", {n}, column<int64_t>(songs, [](S s) { return s.num_ticks; }));
  file.write_dataset<int32_t>("/songs/tempo_bpm", {n}, column<int32_t>(songs, [](S s) { return int32_t(s.tempo_bpm); }));
  file.write_dataset<int32_t>("/songs/tempo_bucket", {n},
                              column<int32_t>(songs, [](S s) { return int32_t(s.tempo_bucket); }));
  file.write_attribute("/songs", "keys", join_keys(songs));

  std::vector<int64_t> note_offset = {0}, tick_offset = {0};
  for (const Pop909Song& song : songs) {
    note_offset.push_back(note_offset.back() + static_cast<int64_t>(song.notes.size()));
    tick_offset.push_back(tick_offset.back() + song.num_ticks);
  }
  file.write_dataset<int64_t>("/songs/note_offset", {n + 1}, note_offset);
  file.write_dataset<int64_t>("/songs/tick_offset", {n + 1}, tick_offset);

  const int64_t m = note_offset.back();
  std::vector<uint8_t> track, pitch;
  std::vector<int64_t> start, end;
  track.reserve(static_cast<size_t>(m));
  pitch.reserve(static_cast<size_t>(m));
  start.reserve(static_cast<size_t>(m));
  end.reserve(static_cast<size_t>(m));
  for (const Pop909Song& song : songs) {
    for (const SongNote& note : song.notes) {
      track.push_back(static_cast<uint8_t>(note.track));
      pitch.push_back(static_cast<uint8_t>(note.pitch));
      start.push_back(note.start);
      end.push_back(note.end);
    }
  }
  file.write_dataset<uint8_t>("/notes/track", {m}, track);
  file.write_dataset<uint8_t>("/notes/pitch", {m}, pitch);
  file.write_dataset<int64_t>("/notes/start", {m}, start);
  file.write_dataset<int64_t>("/notes/end", {m}, end);

  const int64_t s = tick_offset.back();
  auto write_row = [&](const char* name, auto narrow, const std::vector<int32_t> Pop909Song::*row) {
    using Narrow = decltype(narrow);
    std::vector<Narrow> values;
    values.reserve(static_cast<size_t>(s));
    for (const Pop909Song& song : songs) {
      STRIPES_CHECK(static_cast<int64_t>((song.*row).size()) == song.num_ticks,
                    "song cache: song {}: row {} has {} values for {} ticks", song.song_id, name, (song.*row).size(),
                    song.num_ticks);
      for (int32_t value : song.*row) {
        STRIPES_CHECK(value >= std::numeric_limits<Narrow>::min() && value <= std::numeric_limits<Narrow>::max(),
                      "song cache: song {}: row {} value {} does not fit its cache type", song.song_id, name, value);
        values.push_back(static_cast<Narrow>(value));
      }
    }
    file.write_dataset<Narrow>(std::string("/rows/") + name, {s}, values);
  };
  write_row("chord_ids", int16_t{}, &Pop909Song::chord_ids);
  write_row("melody", uint8_t{}, &Pop909Song::melody);
  write_row("phrase_labels", uint8_t{}, &Pop909Song::phrase_labels);
  write_row("measure_order", int32_t{}, &Pop909Song::measure_order);
  write_row("note_order", uint8_t{}, &Pop909Song::note_order);
  file.flush();
}

std::string read_song_cache_key(const std::string& path) {
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return "";
  try {
    const Hdf5File file(path, OpenMode::kRead);
    if (!file.has_attribute("/", "key") || !file.has_attribute("/", "format_version")) return "";
    if (file.read_int_attribute("/", "format_version") != kSongCacheFormatVersion) return "";
    return file.read_string_attribute("/", "key");
  } catch (const Error&) {
    return "";
  }
}

std::vector<Pop909Song> read_song_cache(const std::string& path) {
  const Hdf5File file(path, OpenMode::kRead);
  STRIPES_CHECK(file.read_int_attribute("/", "format_version") == kSongCacheFormatVersion,
                "{}: song cache format {} (this program reads format {})", path,
                file.read_int_attribute("/", "format_version"), kSongCacheFormatVersion);
  const auto song_id = file.read_dataset<int32_t>("/songs/song_id");
  const auto split = file.read_dataset<uint8_t>("/songs/split");
  const auto start_position = file.read_dataset<int32_t>("/songs/start_position");
  const auto num_ticks = file.read_dataset<int64_t>("/songs/num_ticks");
  const auto tempo_bpm = file.read_dataset<int32_t>("/songs/tempo_bpm");
  const auto tempo_bucket = file.read_dataset<int32_t>("/songs/tempo_bucket");
  const auto note_offset = file.read_dataset<int64_t>("/songs/note_offset");
  const auto tick_offset = file.read_dataset<int64_t>("/songs/tick_offset");
  const size_t n = song_id.size();
  STRIPES_CHECK(split.size() == n && start_position.size() == n && num_ticks.size() == n && tempo_bpm.size() == n &&
                    tempo_bucket.size() == n && note_offset.size() == n + 1 && tick_offset.size() == n + 1,
                "{}: /songs datasets disagree on the number of songs", path);
  const std::string keys = file.read_string_attribute("/songs", "keys");

  const auto track = file.read_dataset<uint8_t>("/notes/track");
  const auto pitch = file.read_dataset<uint8_t>("/notes/pitch");
  const auto start = file.read_dataset<int64_t>("/notes/start");
  const auto end = file.read_dataset<int64_t>("/notes/end");
  STRIPES_CHECK(track.size() == static_cast<size_t>(note_offset.back()) && pitch.size() == track.size() &&
                    start.size() == track.size() && end.size() == track.size(),
                "{}: /notes datasets do not hold {} notes", path, note_offset.back());
  const auto chord_ids = file.read_dataset<int32_t>("/rows/chord_ids");
  const auto melody = file.read_dataset<int32_t>("/rows/melody");
  const auto phrase_labels = file.read_dataset<int32_t>("/rows/phrase_labels");
  const auto measure_order = file.read_dataset<int32_t>("/rows/measure_order");
  const auto note_order = file.read_dataset<int32_t>("/rows/note_order");
  for (const auto* row : {&chord_ids, &melody, &phrase_labels, &measure_order, &note_order}) {
    STRIPES_CHECK(row->size() == static_cast<size_t>(tick_offset.back()), "{}: /rows datasets do not hold {} ticks",
                  path, tick_offset.back());
  }

  std::vector<Pop909Song> songs(n);
  size_t key_begin = 0;
  for (size_t i = 0; i < n; ++i) {
    Pop909Song& song = songs[i];
    song.song_id = song_id[i];
    STRIPES_CHECK(split[i] <= 2, "{}: song {} has split {}", path, song.song_id, split[i]);
    song.split = static_cast<Split>(split[i]);
    song.start_position = start_position[i];
    song.num_ticks = num_ticks[i];
    song.tempo_bpm = tempo_bpm[i];
    song.tempo_bucket = tempo_bucket[i];
    STRIPES_CHECK(note_offset[i] <= note_offset[i + 1] && tick_offset[i + 1] - tick_offset[i] == song.num_ticks,
                  "{}: song {}: offsets are inconsistent", path, song.song_id);
    for (int64_t j = note_offset[i]; j < note_offset[i + 1]; ++j) {
      const auto k = static_cast<size_t>(j);
      song.notes.push_back(SongNote{track[k], pitch[k], start[k], end[k]});
    }
    const auto from = static_cast<ptrdiff_t>(tick_offset[i]);
    const auto to = static_cast<ptrdiff_t>(tick_offset[i + 1]);
    song.chord_ids.assign(chord_ids.begin() + from, chord_ids.begin() + to);
    song.melody.assign(melody.begin() + from, melody.begin() + to);
    song.phrase_labels.assign(phrase_labels.begin() + from, phrase_labels.begin() + to);
    song.measure_order.assign(measure_order.begin() + from, measure_order.begin() + to);
    song.note_order.assign(note_order.begin() + from, note_order.begin() + to);

    const size_t key_end = std::min(keys.find(';', key_begin), keys.size());
    const std::string song_keys = keys.substr(key_begin, key_end - key_begin);
    key_begin = key_end + 1;
    size_t begin = 0;
    while (begin <= song_keys.size()) {
      const size_t comma = std::min(song_keys.find(',', begin), song_keys.size());
      song.key_changes.push_back(parse_key_name(song_keys.substr(begin, comma - begin), path + " (/songs keys)",
                                                static_cast<int>(i) + 1));
      begin = comma + 1;
    }
    song.key = song.key_changes.front();
  }
  return songs;
}

bool songs_equal(const Pop909Song& a, const Pop909Song& b, std::string* difference) {
  auto differ = [difference](const std::string& what) {
    if (difference != nullptr) *difference = what;
    return false;
  };
  if (a.song_id != b.song_id) return differ("song_id");
  if (a.split != b.split) return differ("split");
  if (a.start_position != b.start_position) return differ("start_position");
  if (a.num_ticks != b.num_ticks) return differ("num_ticks");
  if (a.notes.size() != b.notes.size()) return differ("number of notes");
  for (size_t i = 0; i < a.notes.size(); ++i) {
    const SongNote& x = a.notes[i];
    const SongNote& y = b.notes[i];
    if (x.track != y.track || x.pitch != y.pitch || x.start != y.start || x.end != y.end) {
      return differ(fmt::format("note {}", i));
    }
  }
  if (a.chord_ids != b.chord_ids) return differ("chord_ids");
  if (a.melody != b.melody) return differ("melody");
  if (a.phrase_labels != b.phrase_labels) return differ("phrase_labels");
  if (a.measure_order != b.measure_order) return differ("measure_order");
  if (a.note_order != b.note_order) return differ("note_order");
  if (a.tempo_bpm != b.tempo_bpm || a.tempo_bucket != b.tempo_bucket) return differ("tempo");
  if (a.key_changes.size() != b.key_changes.size()) return differ("key changes");
  for (size_t i = 0; i < a.key_changes.size(); ++i) {
    if (a.key_changes[i].name != b.key_changes[i].name) return differ(fmt::format("key change {}", i));
  }
  if (a.key.name != b.key.name || a.key.tonic != b.key.tonic || a.key.is_minor != b.key.is_minor) return differ("key");
  return true;
}

// ---- the cached load ----------------------------------------------------------------------------

CachedSongs load_songs_cached(const Pop909Catalog& catalog, const Pop909Options& options,
                              const SongCacheOptions& cache) {
  const auto started = std::chrono::steady_clock::now();
  CachedSongs result;
  auto load_fresh = [&](const std::string& reason) {
    ProgressBar progress("building POP909 song cache", static_cast<int64_t>(catalog.start_positions.size()), "songs",
                         cache.progress);
    Pop909LoadResult loaded = load_all_pop909_songs(catalog, options, true, 1024, [&progress] { progress.advance(); });
    progress.finish();
    std::string failures;
    for (const SkippedSong& skipped : loaded.summary.skipped) {
      if (skipped.reason == SkipReason::kMissingFiles || skipped.reason == SkipReason::kUnreadable) {
        failures += fmt::format("\n  {:03d}: {}", skipped.song_id, skipped.detail);
      }
    }
    STRIPES_CHECK(failures.empty(), "POP909: songs of startpos.csv could not be loaded (the cache is not written):{}",
                  failures);
    result.rebuilt = true;
    result.rebuild_reason = reason;
    result.summary = loaded.summary;
    result.songs = std::make_shared<const std::vector<Pop909Song>>(std::move(loaded.songs));
  };
  auto finish = [&] {
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
  };

  if (!cache.enabled) {
    load_fresh("cache disabled");
    return finish();
  }

  const std::string directory = song_cache_directory(cache.directory);
  STRIPES_CHECK(!is_inside(directory, catalog.root),
                "song cache: the cache directory {} is inside the data root {}; the data root is read-only and "
                "shared, choose another (--cache DIR or STRIPES_CACHE)",
                directory, catalog.root);
  std::string hashed;
  result.key = song_cache_key(catalog, options, &hashed);
  result.path = (fs::path(directory) / kSongCacheFileName).string();

  const std::string existing = read_song_cache_key(result.path);
  if (existing == result.key) {
    try {
      auto songs = read_song_cache(result.path);
      result.songs = std::make_shared<const std::vector<Pop909Song>>(std::move(songs));
      return finish();
    } catch (const Error& error) {
      load_fresh(fmt::format("the cache could not be read ({})", error.what()));
    }
  } else {
    std::string reason = "no cache file";
    std::error_code error;
    if (fs::exists(result.path, error)) {
      reason = "the cache was made for other options or data";
      try {
        const Hdf5File old(result.path, OpenMode::kRead);
        if (old.has_attribute("/", "description")) {
          reason += " (it holds: " + old.read_string_attribute("/", "description") + ")";
        }
      } catch (const Error&) {
        reason = "the cache file is not a readable song cache";
      }
    }
    load_fresh(reason);
  }

  std::error_code error;
  fs::create_directories(directory, error);
  STRIPES_CHECK(!error, "song cache: cannot create the directory {}: {} (choose another with --cache DIR or "
                "STRIPES_CACHE)", directory, error.message());
  const std::string temporary =
      (fs::path(directory) / fmt::format("pop909-songs.{}.h5.tmp", static_cast<long>(getpid()))).string();
  std::string description = hashed;
  while (!description.empty() && description.back() == '\n') description.pop_back();
  try {
    write_song_cache(temporary, result.key, description, *result.songs);
  } catch (...) {
    fs::remove(temporary, error);
    throw;
  }
  fs::rename(temporary, result.path, error);
  if (error) {
    fs::remove(temporary, error);
    throw_error("song cache: cannot move {} to {}: {}", temporary, result.path, error.message());
  }
  return finish();
}

}  // namespace stripes::data
