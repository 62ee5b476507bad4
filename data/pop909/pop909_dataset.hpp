// The POP909 dataset as the StrIPE experiments use it: the catalogue of the release files, and a
// loader for all usable songs with an account of the ones it leaves out.
//
// Which songs are used: those with a row in stripe-alignment/startpos.csv (866). That list is the
// StrIPE authors' selection of 4/4 songs with aligned annotations; split.csv assigns the same 866
// songs to train/val/test (692/86/88). The 43 songs without a row are all marked non-4/4 in
// POP909's index.csv (28 triple, 15 compound duple), so they are reported as "not 4/4". Nine
// songs with a row are marked non-4/4 in index.csv (8 compound duple, 1 triple); the authors used
// them as 4/4 and so do we (they are listed in the summary as `used_despite_index_meter`).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "data/pop909/pop909_files.hpp"
#include "data/pop909/pop909_song.hpp"

namespace stripes::data {

// The release files of a data root (see data_root.hpp), parsed.
struct Pop909Catalog {
  std::string root;
  std::vector<StartPosition> start_positions;  // stripe-alignment/startpos.csv
  std::vector<SongSplit> splits;               // stripe-alignment/split.csv
  ChordDatabase chords;                        // stripe-alignment/chord_db.csv
  std::vector<SongIndexEntry> index;           // pop909/POP909/index.csv

  const StartPosition* find_start_position(int song_id) const;
  std::optional<Split> find_split(int song_id) const;
  const SongIndexEntry* find_index_entry(int song_id) const;
  std::string midi_path(int song_id) const;            // <root>/pop909/POP909/NNN/NNN.mid
  std::string structure_directory(int song_id) const;  // <root>/structure/POP909/NNN
  // Paths, start position and split of a used song; throws if it has no startpos or split row.
  SongInputs song_inputs(int song_id) const;
};

// Reads and cross-checks the catalogue files (every startpos song has a split row and vice versa).
Pop909Catalog load_pop909_catalog(const std::string& data_root);

// One song of the catalogue (throws stripes::Error naming the file at fault).
Pop909Song load_pop909_song(const Pop909Catalog& catalog, int song_id, const Pop909Options& options = {});

enum class SkipReason {
  kNotFourFour,       // no startpos row, and index.csv marks the song as not 4/4
  kNoAlignmentEntry,  // no startpos row although index.csv marks it 4/4
  kMissingFiles,      // MIDI or structure files absent
  kUnreadable,        // a file failed to parse (the detail says which and why)
};
const char* skip_reason_name(SkipReason reason);

struct SkippedSong {
  int song_id = 0;
  SkipReason reason = SkipReason::kNotFourFour;
  std::string detail;
};

struct Pop909LoadSummary {
  int songs_in_index = 0;  // rows of index.csv (909)
  int songs_used = 0;
  int train_songs = 0;
  int validation_songs = 0;
  int test_songs = 0;
  std::vector<SkippedSong> skipped;            // sorted by song id
  std::vector<int> used_despite_index_meter;   // used songs that index.csv marks as not 4/4
  int64_t total_ticks = 0;                     // over the used songs
  int window_sequence_length = 0;              // T of the window count below
  int window_overlap = 0;
  int64_t windows = 0;                         // windows of T+1 ticks over the used songs
  double seconds = 0.0;                        // wall time of the load

  int skipped_count(SkipReason reason) const;
  // A human-readable report (several lines).
  std::string report() const;
};

struct Pop909LoadResult {
  Pop909LoadSummary summary;
  std::vector<Pop909Song> songs;  // used songs, by song id; empty unless keep_songs
};

// Loads every song of index.csv that the StrIPE selection uses, in parallel (OpenMP), and counts
// what is left out and why. Windows are counted for `sequence_length` with the authors' overlap.
// `on_song_done`, if set, is called (from any thread) after each song is read, for progress bars.
Pop909LoadResult load_all_pop909_songs(const Pop909Catalog& catalog, const Pop909Options& options = {},
                                       bool keep_songs = true, int sequence_length = 512,
                                       const std::function<void()>& on_song_done = {});

}  // namespace stripes::data
