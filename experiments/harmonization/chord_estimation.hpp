// The chords and the key of a melody that comes without annotations, for `stripes harmonize` on
// any MIDI file (docs/harmonization.md, "Harmonize your own melody").
//
// The REP, KEY and BIN contexts need one chord of the database (chord_db.csv) per tick — POP909's
// chords are annotated per quarter note and held for its 16 ticks — and KEY also needs the song's
// key. A MIDI file has neither, so they are estimated from notes on the 16-per-quarter grid.
//
// Pitch-class histogram of ticks [a, b) (duration-weighted, velocity ignored):
//   h[pc] = Σ_notes |[start, end) ∩ [a, b)| · [pitch mod 12 = pc]
//
// Key (Krumhansl–Schmuckler): r(k) = Pearson correlation between h over the whole song and the
//   Krumhansl–Kessler major / minor probe-tone profile rotated to tonic k; key = argmax over the
//   24 keys (ties: the first, major before minor, C before C#).
//
// Chords from a melody (template matching, then Viterbi smoothing):
//   segments of `beats_per_segment` quarter notes (default 2: half a 4/4 bar; POP909's chords
//   mostly last 2 or 4 beats, and one beat of melody holds one or two notes, too few to name a
//   chord);
//   candidates: the database's chords in root position of the qualities `qualities` (default
//   the major and minor triads, all 12 roots of both are in the database; a melody rarely tells a
//   seventh chord from its triad, and adding 7, min7, maj7 lowers the agreement below);
//   emission of candidate c on a segment with histogram h ≠ 0, t_c = the chord's 12 bits:
//     e(c) = cos(h, t_c) + α · h[root_c] / Σh + β · [every pitch class of c is in the key's scale]
//   (α = root_weight, β = diatonic_bonus; scale: major, or natural minor plus the leading tone);
//   the chords c_1..c_S of the S sounding segments maximize
//     Σ_s e_s(c_s) − γ · #{s : c_s ≠ c_{s−1}}         (γ = change_penalty; Viterbi, O(S · K))
//   so the chord changes only where the notes ask for it; silent segments keep the chord of the
//   previous sounding one; segments before the first note get "no chord" (as POP909 pads before
//   its annotations start).
//   Sizes: one note of a triad gives cos = 0.577, two 0.816, all three 1: α and β (0.1) are
//   tie-breakers between chords that fit about equally well (single notes, two-note segments);
//   γ (0.15) keeps a chord through a passing note.
//
// Agreement with POP909's annotated chords (melody and bridge of the 88 test songs, annotated key,
// segments aligned with the annotations; ticks with an annotated chord): the estimate is the
// annotated chord on 33.5 % of the ticks and has its root on 41.6 % (the tonic triad everywhere:
// root 26.0 %); with the estimated key 32.4 % / 41.5 %. The defaults were chosen on the 86
// validation songs (2 beats per segment and α = β = 0.1, γ = 0.15 were at the top of a small grid;
// with sevenths among the candidates 25.5 % / 39.1 %). The key estimate is POP909's first
// annotated key for 78 % of the test songs (72 % of the validation songs).
//
// Chords from a chord track (CHORD / CHORDS, per quarter note): the pitch classes sounding in the
//   beat -> the chord of the whole database nearest in Hamming distance of the 12 bits; ties: the
//   chord whose root is the pitch class of the beat's lowest sounding note, then fewer pitch
//   classes, then the smaller id. Silent beats keep the previous chord ("no chord" before the
//   first one).
#pragma once

#include "data/pop909/pop909_files.hpp"
#include "data/quantize.hpp"

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace stripes::harmonization {

using PitchClassHistogram = std::array<double, 12>;

// h[pc] over ticks [begin, end) (see the header comment). Notes that do not sound are ignored.
PitchClassHistogram pitch_class_histogram(std::span<const data::GridNote> notes, int64_t begin, int64_t end);

// ---- keys -----------------------------------------------------------------------------------------

struct KeyEstimate {
  data::Key key;
  double correlation = 0.0;  // r of the chosen key, in [-1, 1]
};

// Krumhansl–Schmuckler on a histogram; throws when the histogram is all zero (no notes).
KeyEstimate estimate_key(const PitchClassHistogram& histogram);

// A key from tonic and mode, named as POP909's analyzed_key.txt ("C:maj", "Eb:maj", "F#:min").
data::Key make_key(int tonic, bool is_minor);

// A key as given on the command line: "C:maj", "A:min", "Bb:maj", "F#:min" (data::parse_key_name).
data::Key parse_key_option(const std::string& text);

// The key's scale as 12 flags: major, or natural minor plus the leading tone (harmonic minor's
// raised 7th, so that V and V7 of a minor key count as in the key).
std::array<bool, 12> key_scale(const data::Key& key);

// ---- chords ---------------------------------------------------------------------------------------

// "C:maj", "A:min", "G:7", "B:hdim7", "N" for no chord; chords outside the table of qualities
// are named by root and intervals above it, "C:(0,3,8)".
std::string chord_name(const data::ChordVector& chord);

// The pitch classes above the root of a quality name ("maj" -> {0, 4, 7}); throws listing the
// known names.
std::vector<int> chord_quality_intervals(const std::string& quality);

// Ids of the database's chords that are one of `qualities` in root position (root + intervals),
// in id order.
std::vector<int> chord_candidates(const data::ChordDatabase& chords, const std::vector<std::string>& qualities);

struct ChordEstimationOptions {
  int beats_per_segment = 2;                                         // quarter notes per chord decision
  std::vector<std::string> qualities = {"maj", "min"};               // candidate chords (see above)
  double root_weight = 0.1;                                          // α
  double diatonic_bonus = 0.1;                                       // β
  double change_penalty = 0.15;                                      // γ
};

// One chord id per tick (num_ticks of them) estimated from `notes` (melody and bridge together).
std::vector<int32_t> estimate_chords_from_melody(std::span<const data::GridNote> notes, int64_t num_ticks,
                                                 const data::Key& key, const data::ChordDatabase& chords,
                                                 const ChordEstimationOptions& options = {});

// One chord id per tick read from the notes of a chord track (see the header comment).
std::vector<int32_t> chords_from_track(std::span<const data::GridNote> chord_notes, int64_t num_ticks,
                                       const data::ChordDatabase& chords);

// Number of ticks t > 0 whose chord differs from tick t - 1's.
int64_t chord_changes(std::span<const int32_t> chord_ids);

}  // namespace stripes::harmonization
