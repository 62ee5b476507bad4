// `stripes data check`: load every POP909 song, describe what is used and how, and verify that
// the preprocessed data is consistent. Each check passes or fails; any failure makes the command
// exit non-zero. The checks:
//
//   catalogue        startpos.csv and split.csv list the same songs, once each; chord_db.csv parses
//                    (a failure here stops the check: nothing else can be loaded)
//   usable songs     every song of startpos.csv / split.csv loads (none missing or unreadable)
//   split sizes      train / val / test song counts equal the paper's 692 / 86 / 88
//   song arrays      per song: each structure row has one value per tick; notes lie inside the
//                    song with pitch 0..127 and track 0..2; chord ids inside the vocabulary; melody
//                    0..127; phrase labels 0..51; note_order 0..15; measure_order starts at 0 or 1
//                    and never steps by more than one; tempo bucket 0..3; at least one note sounds
//   windows          for every (T, overlap) listed: every window lies inside its song and has
//                    T + 1 ticks; the windows of each split add up to the total
//   KEY tokens       every (chord, key) of the songs maps to a token whose chord, transposed back
//                    by the tonic, is the original chord
//   golden windows   (when stripe-alignment/golden_windows.h5 exists) the windows of its songs
//                    (001-012, T = 512, overlap 64) equal ours in every value
//   cache            (when a song cache for these options exists) it equals the fresh load
#pragma once

#include <array>
#include <string>
#include <utility>
#include <vector>

#include "data/pop909/pop909_song.hpp"

namespace stripes::data {

struct DataCheckOptions {
  Pop909Options preprocessing;
  // (T, overlap) pairs whose windows are counted and checked: the paper's training/in-domain
  // windows, its 64-bar length-generalization windows, and the golden file's 512.
  std::vector<std::pair<int, int>> window_lengths = {{1024, 128}, {4096, 512}, {512, 64}};
  std::array<int, 3> expected_split_sizes = {692, 86, 88};  // the paper's train / val / test
  bool compare_golden = true;
  bool check_cache = true;
  std::string cache_directory;  // "" -> song_cache_directory()
};

struct DataCheckItem {
  std::string name;
  bool passed = true;
  std::string detail;
};

struct DataCheckReport {
  std::string text;                  // everything measured, several lines
  std::vector<DataCheckItem> items;  // one per check, in the order above
  double seconds = 0.0;
  bool passed() const;
  int failures() const;
};

DataCheckReport run_data_check(const std::string& data_root, const DataCheckOptions& options = {});

}  // namespace stripes::data
