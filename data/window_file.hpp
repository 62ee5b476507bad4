// Windows in the layout of the StrIPE authors' golden_windows.h5, so that our preprocessing can be
// diffed against theirs with h5py or `h5diff golden_windows.h5 ours.h5 /001 /001`.
//
//   /NNN/W/pianoroll      uint8 (384, T+1)   rows: MELODY 0-127, BRIDGE 128-255, PIANO 256-383
//   /NNN/W/onset          uint8 (384, T+1)
//   /NNN/W/chord_ids      int64 (1, T+1)     and likewise melody, annotation_1 (phrase labels),
//                                            measure_order, note_order
//   /NNN/W/tempo_bucket   int64 scalar
//   attribute description (string) on /
// NNN = song id with three digits, W = window number 0, 1, ... (as a group name). The golden file
// stores its datasets gzip-compressed in chunks; ours are contiguous: the values, names, types and
// shapes are the same, which is what h5diff and h5py compare.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/pop909/pop909_song.hpp"
#include "tensor/io/hdf5_file.hpp"

namespace stripes::data {

// Writes the song's windows (T + 1 ticks, the given overlap) under /NNN. Returns how many.
int write_song_windows(io::Hdf5File& file, const Pop909Song& song, int sequence_length, int overlap);

// A new file (replacing any) with `description` on / and the windows of every song.
int write_windows_file(const std::string& path, const std::vector<const Pop909Song*>& songs, int sequence_length,
                       int overlap, const std::string& description);

struct WindowFileComparison {
  int our_windows = 0;
  int reference_windows = 0;
  int64_t differing_values = 0;           // over all datasets of all compared windows
  // The first few, e.g. "/001/3/pianoroll: 12 values differ, first at (70, 100): ours 1, theirs 0".
  std::vector<std::string> differences;
  bool equal() const { return our_windows == reference_windows && differing_values == 0 && differences.empty(); }
};

// Compares our windows of `song` with group /NNN of `reference` (every dataset, value by value;
// also the window count, and each dataset's shape).
WindowFileComparison compare_with_window_file(const io::Hdf5File& reference, const Pop909Song& song,
                                              int sequence_length, int overlap);

}  // namespace stripes::data
