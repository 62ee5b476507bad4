// One POP909 song as the StrIPE authors preprocess it (structurePE, data/pop909/preprocessing.py),
// reproduced tick for tick: binary pianorolls of the MIDI tracks MELODY, BRIDGE, PIANO at 16 ticks
// per quarter note, note onsets, and per-tick structure rows (chord id, melody pitch, phrase label,
// bar index, tick within the beat) plus the song's tempo bucket and key; then windows of T+1 ticks.
// Plain std::vector storage; turning it into tensors is the caller's business.
//
// The conventions below were read in the authors' code and checked against their own windows
// (stripe-alignment/golden_windows.h5, songs 001-012, every dataset equal); docs/data.md has the
// evidence for each. In order of the pipeline:
//
//  0. Notes. The MIDI file is read with first-in-first-out pairing of same-pitch overlapping notes,
//     as muspy does (Pop909Options::midi_overlap; 9 songs depend on it).
//  1. Ticks. MIDI times (480 or 960 ticks per quarter) are scaled by 16/tpq and rounded to the
//     nearest tick, ties to even (Python's round(), via muspy's adjust_resolution). A note's end
//     is rounded on its own (round(end), not round(start) + round(duration)). A note can shrink to
//     zero ticks: it sounds nowhere but still has an onset (see 5).
//  2. Song start. Tick 0 is the first tick at which any of the three tracks sounds. The song's
//     length is (largest note end + 1) - first tick: muspy's pianoroll has one row past the last
//     note end.
//  3. Annotation start. startpos.csv gives where the annotations (melody.txt, finalized_chord.txt,
//     human_label1.txt) start relative to tick 0, in ticks. If it is negative, the pianoroll is
//     preceded by that many silent ticks and the annotations start at the new tick 0. If it is
//     positive, the annotation rows are cut or padded to (song length - start) ticks and preceded
//     by `start` ticks of padding (no chord, melody 0, phrase label 'x' = 23).
//  4. Structure rows. Chords: one id per quarter note (duration in beats), held 16 ticks, padded
//     at the end with the no-chord id (8). Melody: one pitch per 16th note, held 4 ticks, padded
//     with 0. Phrase label: per bar (64 ticks, every song is taken as 4/4), StrIPE encoding
//     a-z -> 0..25, A-Z -> 26..51, padded with 'x' (23; also a real label, so padding and 'x'
//     phrases are indistinguishable).
//  5. Onsets. A 1 at (track, pitch, start tick) of every note, including notes that shrank to zero
//     ticks, and including notes that start while the same pitch already sounds (no 0 -> 1
//     transition in the pianoroll). Not the "0 -> 1 transition" of the metrics.
//  6. Bar grid. measure_order (bar index) and note_order (tick within the beat, 0..15) count from
//     pianoroll tick 0, NOT from the annotation start: for songs with a positive start position
//     their bars are offset from the annotated bars by that many ticks (the authors' bug; see
//     Pop909Options::bar_grid_from_first_note).
//  7. Tempo bucket: tempo.txt's BPM clipped to [30, 149], (bpm - 30) / 30 -> 0..3.
//  8. Windows: T+1 ticks starting at 0, hop T+1-overlap (overlap 64 for T = 512, 128 for 1024,
//     384 for 3072), only windows that fit entirely (the last partial window is dropped; no padding).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/midi/midi_file.hpp"
#include "data/pop909/pop909_files.hpp"

namespace stripes::data {

inline constexpr int kTicksPerQuarter = 16;
inline constexpr int kTicksPerSixteenth = kTicksPerQuarter / 4;
inline constexpr int kTicksPerBar = 4 * kTicksPerQuarter;  // every used song is taken as 4/4
inline constexpr int kPitchCount = 128;
inline constexpr int kTrackCount = 3;  // MELODY, BRIDGE, PIANO, in this order
inline constexpr int kPianorollRows = kTrackCount * kPitchCount;  // 384
extern const char* const kTrackNames[kTrackCount];                // "MELODY", "BRIDGE", "PIANO"

struct Pop909Options {
  // The authors' bar grid (true, default): measure_order / note_order count from the first note
  // (pianoroll tick 0), so for start positions > 0 they disagree with the annotated bars and beats.
  // false: count from the annotation start, ticks before it form bar 0 (a pickup) and the first
  // annotated bar is 1 when the start position is positive. Default true so that the windows equal
  // the golden file; the fixed grid is what a "bar index" should be (see docs/data.md).
  bool bar_grid_from_first_note = true;
  // Notes that round to zero ticks (convention 1) vanish from the pianoroll; true (default, as the
  // authors) keeps their onset, an onset where nothing sounds; false drops such notes entirely.
  bool onsets_of_vanished_notes = true;
  // How the MIDI reader pairs overlapping notes of one pitch (see midi::OverlapPolicy). Default
  // kFirstInFirstOut, as muspy, which the authors used: with it all 866 songs equal the authors'
  // pipeline; kCutAtRetrigger loses 1075 pianoroll cells in 9 songs (docs/data.md).
  midi::OverlapPolicy midi_overlap = midi::OverlapPolicy::kFirstInFirstOut;
};

// "bar_grid=first-note onsets_of_vanished=1 midi_overlap=fifo": every option, for reports and keys.
std::string describe_options(const Pop909Options& options);

// A note on the song's tick grid (after steps 1-3 above): ticks [start, end) of `pitch` in `track`
// (0 MELODY, 1 BRIDGE, 2 PIANO). end == start for a note that vanished in the rounding.
struct SongNote {
  int track = 0;
  int pitch = 0;
  int64_t start = 0;
  int64_t end = 0;
};

// Everything one song contributes, over the whole song. The pianoroll is kept as notes and
// rendered per window (a dense (384, num_ticks) pianoroll of all 866 songs would take 1.75 GB, as
// much again for onsets); the structure rows are dense, one value per tick.
struct Pop909Song {
  int song_id = 0;
  Split split = Split::kTrain;
  int start_position = 0;  // startpos.csv: ticks from the first note to the annotation start
  int64_t num_ticks = 0;
  std::vector<SongNote> notes;         // sorted by (track, start, pitch)
  std::vector<int32_t> chord_ids;      // num_ticks, index into chord_db (no chord = 8)
  std::vector<int32_t> melody;         // num_ticks, MIDI pitch from melody.txt, 0 = rest/padding
  std::vector<int32_t> phrase_labels;  // num_ticks, human_label1 in the StrIPE encoding (pad 23)
  std::vector<int32_t> measure_order;  // num_ticks, bar index
  std::vector<int32_t> note_order;     // num_ticks, tick within the beat, 0..15
  int tempo_bpm = 0;
  int tempo_bucket = 0;
  Key key;                       // first line of analyzed_key.txt
  std::vector<Key> key_changes;  // every line of analyzed_key.txt
};

// Renders ticks [begin, begin + length) of the song into (384, length) row-major binary rolls,
// row = track * 128 + pitch: `pianoroll` (1 while a note sounds) and `onset` (1 at a note's start
// tick). Either output may be null. Ticks past the song's end are 0.
void render_pianoroll(const Pop909Song& song, int64_t begin, int64_t length, uint8_t* pianoroll, uint8_t* onset);

// The song's active pianoroll cells as runs: for each (track, pitch) the union of its notes'
// [start, end) as disjoint, non-adjacent intervals, sorted by (track, pitch, start). Notes of one
// pitch that overlap (kFirstInFirstOut) or touch merge into one run; vanished notes add nothing.
struct SoundingRun {
  int track = 0;
  int pitch = 0;
  int64_t start = 0;
  int64_t end = 0;
};
std::vector<SoundingRun> sounding_runs(const Pop909Song& song);

// What the song loader needs besides the song's own files.
struct SongInputs {
  std::string midi_path;            // pop909/POP909/NNN/NNN.mid
  std::string structure_directory;  // structure/POP909/NNN
  int song_id = 0;
  int start_position = 0;
  Split split = Split::kTrain;
};

// Loads one song; throws stripes::Error naming the file at fault.
Pop909Song load_pop909_song(const SongInputs& inputs, const ChordDatabase& chords, const Pop909Options& options = {});

// One training window: ticks [start_tick, start_tick + length) of a song.
struct Pop909Window {
  int song_id = 0;
  int index = 0;           // window number within the song (the golden file's group name)
  int64_t start_tick = 0;
  int64_t length = 0;      // T + 1
  std::vector<uint8_t> pianoroll;      // (384, length) row-major
  std::vector<uint8_t> onset;          // (384, length)
  std::vector<int32_t> chord_ids;      // length
  std::vector<int32_t> melody;
  std::vector<int32_t> phrase_labels;  // "annotation_1" in the golden file
  std::vector<int32_t> measure_order;
  std::vector<int32_t> note_order;
  int tempo_bucket = 0;
};

// The authors' overlap for a sequence length T: 64 for 512, 128 for 1024, 384 for 3072 (T / 8).
int default_window_overlap(int sequence_length);

// Start ticks of the windows of T+1 ticks of a song of `num_ticks` ticks.
std::vector<int64_t> window_starts(int64_t num_ticks, int sequence_length, int overlap);

// Windows of T+1 = sequence_length + 1 ticks, hop T+1-overlap, only those that fit entirely.
std::vector<Pop909Window> make_windows(const Pop909Song& song, int sequence_length, int overlap);

}  // namespace stripes::data
