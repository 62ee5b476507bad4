// Quantizing MIDI times to the grid of the StrIPE preprocessing: 16 ticks per quarter note, as
// muspy's adjust_resolution does it (docs/data.md, convention 1). A time t of a file with
// `ticks_per_quarter` (tpq) ticks per quarter note becomes
//
//   q(t) = round(t · 16 / tpq)          in double precision, ties to even (Python's round)
//
// and a note's start and end are rounded separately (q(end), not q(start) + q(duration)), so a
// note shorter than about half a grid tick can vanish (end == start). The POP909 loader
// (data/pop909/pop909_song.cpp) and `stripes harmonize` on any MIDI file both quantize with these
// functions; with first-in-first-out note pairing (midi::OverlapPolicy::kFirstInFirstOut) this is
// exactly what the authors' muspy pipeline did to POP909.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "data/midi/midi_file.hpp"

namespace stripes::data {

// The grid of the paper's pianorolls (equal to data::kTicksPerQuarter of the POP909 loader).
inline constexpr int kGridTicksPerQuarter = 16;

// q(t) = round(t · grid_ticks_per_quarter / ticks_per_quarter), ties to even. Throws if
// ticks_per_quarter <= 0.
int64_t quantize_tick(int64_t midi_tick, int ticks_per_quarter, int grid_ticks_per_quarter = kGridTicksPerQuarter);

// A note on the grid: ticks [start, end) of `pitch`; end == start when it vanished in the rounding.
struct GridNote {
  int pitch = 0;
  int velocity = 0;
  int64_t start = 0;
  int64_t end = 0;
  bool sounds() const { return end > start; }
};

// Every note of `notes` (ticks at `ticks_per_quarter`) on the grid, in the input order; vanished
// notes are kept (end == start), the caller decides (POP909 keeps their onsets).
std::vector<GridNote> quantize_notes(std::span<const midi::Note> notes, int ticks_per_quarter,
                                     int grid_ticks_per_quarter = kGridTicksPerQuarter);

}  // namespace stripes::data
