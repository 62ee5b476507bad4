// The preprocessed POP909 songs cached in one HDF5 file, so that experiments do not re-read 866
// MIDI files and 4330 annotation files each time, and so that anyone can open the preprocessing
// with h5py.
//
// What is cached: every used song as load_pop909_song makes it (Pop909Song: notes on the
// 16-per-quarter grid, the five per-tick structure rows, tempo, key, split). Windows are not
// cached: they are views of the songs (any T and overlap), rendered when a batch is made.
//
// Key: a 64-bit FNV-1a hash (16 hex digits) of the cache format version, the preprocessing options
// (describe_options), the data root's absolute path, and a fingerprint of the data: the bytes of
// startpos.csv, split.csv, chord_db.csv and index.csv, and the size and modification time of each
// used song's six files. The file stores its key; when the key of the current request differs
// (an option, the data root or a data file changed, or the format version was bumped) the file is
// rebuilt automatically. A file that cannot be read (truncated, from another program) is rebuilt
// too. Building writes a temporary file beside the cache and renames it over the cache, so a
// reader never sees a half-written cache and concurrent builders do not corrupt each other.
//
// Where: `directory/pop909-songs.h5`. The directory is, in order: the explicit directory (from
// --cache), the environment variable STRIPES_CACHE, `cache/` next to the running program (so
// build/cache/ for build/stripes and the test programs). Never inside the data root: a directory
// inside it is refused (the data is read-only and shared).
//
// Layout (all datasets 1-d; N songs, M notes, S ticks in all):
//   attributes of /: format_version (int), key (16 hex digits), description (the text the key hashes:
//          format, options, data root, data fingerprint)
//   /songs/song_id int32 [N], split uint8 [N] (0 train, 1 val, 2 test), start_position int32 [N],
//          num_ticks int64 [N], tempo_bpm int32 [N], tempo_bucket int32 [N],
//          note_offset int64 [N+1], tick_offset int64 [N+1]   (song i: notes / ticks [offset[i], offset[i+1]))
//          attribute keys: "Gb:maj;D:maj,E:maj;..." (per song, its analyzed_key.txt lines)
//   /notes/track uint8 [M], pitch uint8 [M], start int64 [M], end int64 [M]
//   /rows/chord_ids int16 [S], melody uint8 [S], phrase_labels uint8 [S], measure_order int32 [S],
//         note_order uint8 [S]
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/pop909/pop909_dataset.hpp"

namespace stripes::data {

inline constexpr int kSongCacheFormatVersion = 1;
inline constexpr const char* kSongCacheFileName = "pop909-songs.h5";

struct SongCacheOptions {
  std::string directory;  // "" -> STRIPES_CACHE, else cache/ next to the running program
  bool enabled = true;    // false: load from the data root, read and write no cache
  bool progress = true;   // progress bar on stderr while building
};

struct CachedSongs {
  std::shared_ptr<const std::vector<Pop909Song>> songs;  // by song id
  std::string path;     // the cache file ("" when the cache is disabled)
  std::string key;
  bool rebuilt = false;  // true: the songs were loaded from the data root (and the cache written)
  std::string rebuild_reason;  // why it was rebuilt ("no cache file", "options changed: ...", ...)
  Pop909LoadSummary summary;   // of the load, when rebuilt
  double seconds = 0.0;
};

// The directory the cache goes in (see above; not created here).
std::string song_cache_directory(const std::string& explicit_directory = "");

// The key of a cache of `catalog`'s songs preprocessed with `options`, and the text it hashes.
std::string song_cache_key(const Pop909Catalog& catalog, const Pop909Options& options,
                           std::string* hashed_text = nullptr);

// The songs, from the cache when it is current, else loaded from the data root (and cached).
// Songs that fail to load make the build fail (a cache never holds a partial dataset).
CachedSongs load_songs_cached(const Pop909Catalog& catalog, const Pop909Options& options = {},
                              const SongCacheOptions& cache = {});

// The two halves, for tests and tools.
void write_song_cache(const std::string& path, const std::string& key, const std::string& description,
                      const std::vector<Pop909Song>& songs);
std::vector<Pop909Song> read_song_cache(const std::string& path);
std::string read_song_cache_key(const std::string& path);  // "" when the file is missing or not a cache

// Equal in every field (notes, rows, tempo, key, split ...). On a difference, `difference` (if
// given) names the first field that differs.
bool songs_equal(const Pop909Song& a, const Pop909Song& b, std::string* difference = nullptr);

}  // namespace stripes::data
