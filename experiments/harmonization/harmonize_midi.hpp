// Harmonizing any MIDI file that holds a melody (`stripes harmonize melody.mid`), with a run
// trained on POP909 (docs/harmonization.md, "Harmonize your own melody").
//
// 1. Reading (read_melody_midi). Notes are paired first-in-first-out and quantized to 16 ticks per
//    quarter note exactly as the POP909 loader does (data/quantize.hpp: round(t·16/tpq), ties to
//    even, start and end separately); notes that vanish in the rounding are dropped.
//    Tracks: the melody is the --track choice (a track name, case-insensitive, or the 0-based
//    index of the track chunk — a format-1 file's conductor is track 0), else the track named
//    MELODY, else the first track with notes that is not named BRIDGE, CHORD or CHORDS. A track
//    named BRIDGE is the bridge input (else its rows are zero); a track named CHORD or CHORDS, the
//    chords. Song tick 0 is the start of the 4/4 bar (64 ticks from the file's start) that holds
//    the first melody or bridge note, so leading empty bars are skipped and bars stay bars; the
//    song has N = (last melody or bridge note end) − that origin ticks.
//    Warnings (returned, the command prints them): a time signature other than 4/4 (the model
//    knows only 64-tick bars; the file is processed as if 4/4) and tempo changes (the output
//    keeps the first tempo).
// 2. Chords and key (chord_estimation.hpp): from the chord track, or estimated from melody and
//    bridge; the key from --key or Krumhansl–Schmuckler on melody and bridge.
// 3. The model (song_logits): consecutive windows of T ticks (the run's eval_sequence_length,
//    the last window shorter). Window w sees the melody and bridge rows of its ticks and the
//    context of its ticks computed within the window, as in training (TIME counts from 0, REP
//    ranks the window's chord ids). The logits of input tick t predict tick t + 1, so the
//    predicted PIANO of input tick t is placed at song tick t + 1 (ticks 1..N). The logits of the
//    whole song are binarized at once (metrics::binarize_logits), so merged gaps may cross window
//    boundaries.
// 4. Output: a format-1 MIDI file at 16 ticks per quarter with the input's first tempo (120 bpm
//    without one) and first time signature, whose tick 0 is the input's tick 0. Tracks, in order:
//      MELODY                  the input melody (quantized; velocities kept)
//      BRIDGE                  the input bridge, when there is one
//      PIANO                   the model's piano, binarized (pianoroll_notes, velocity 80)
//      CHORDS (estimated)      the chords used as context, one block chord per chord change
//                              ("CHORDS (from track)" when read from a chord track; absent with
//                              --chords none): root in octave 3 (MIDI 48 + root), the other
//                              pitch classes stacked above it within the octave, velocity 60.
#pragma once

#include "data/contexts.hpp"
#include "data/midi/midi_file.hpp"
#include "data/quantize.hpp"
#include "experiments/harmonization/chord_estimation.hpp"
#include "experiments/harmonization/model.hpp"
#include "experiments/metrics/binarization.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace stripes::harmonization {

inline constexpr int kGridTicksPerBar = 4 * data::kGridTicksPerQuarter;  // 4/4

// A melody read from a MIDI file, on the 16-per-quarter grid (see step 1 above).
struct MelodyMidi {
  std::string path;
  int ticks_per_quarter = 0;               // the file's resolution
  int microseconds_per_quarter = 500000;   // the first tempo event (120 bpm when there is none)
  midi::TimeSignature time_signature;      // the first one (4/4 when there is none)
  int melody_track = -1;                   // track chunk indices; -1 = none
  int bridge_track = -1;
  int chord_track = -1;
  std::string melody_track_name;
  int64_t origin = 0;      // grid tick of the file at song tick 0 (a multiple of 64)
  int64_t num_ticks = 0;   // N: song ticks 0..N-1 hold the melody and the bridge
  std::vector<data::GridNote> melody, bridge, chords;  // song ticks (grid tick − origin), sounding notes only
  std::vector<std::string> warnings;

  double bpm() const { return 60'000'000.0 / microseconds_per_quarter; }
  int64_t bars() const { return (num_ticks + kGridTicksPerBar - 1) / kGridTicksPerBar; }
};

// Reads `path` (throws naming the file when it is missing, malformed, or its melody track has no
// notes). `track`: "" (MELODY, else the first track with notes), a track name or an index.
MelodyMidi read_melody_midi(const std::string& path, const std::string& track = "");

// The model input of the song: float32 [N, 256], rows 0-127 the melody, 128-255 the bridge.
Tensor melody_input_rows(const MelodyMidi& melody);

// Where the chords of the contexts come from.
enum class ChordSource {
  kAuto,    // the CHORD/CHORDS track when the file has one, else estimated from the melody
  kTrack,   // the CHORD/CHORDS track (an error when there is none)
  kMelody,  // estimated from melody and bridge even when there is a chord track
  kNone,    // "no chord" at every tick
};
ChordSource parse_chord_source(const std::string& name);  // auto | track | melody | none
const char* chord_source_name(ChordSource source);

// The context positions of one window: ticks [begin, begin + length) of `chord_ids`, computed as
// for a training window (data::ContextEncoder on a span of just those ticks). MCP throws: it needs
// phrase labels, which a MIDI file does not have.
Tensor window_positions(const data::ContextEncoder& encoder, data::ContextType type, std::span<const int32_t> chord_ids,
                        const data::Key& key, int64_t begin, int64_t length);

// Logits [N, 384] of the whole song (step 3): input [N, 256], chord_ids one per tick, windows of
// `window` ticks. Row t predicts tick t + 1. Model in eval mode, no gradients.
Tensor song_logits(HarmonizationModel& model, const data::ContextEncoder& encoder, const Tensor& input,
                   std::span<const int32_t> chord_ids, const data::Key& key, int window);

// The MIDI notes of a chord row (one chord id per tick): one block chord per run of equal ids,
// shifted by `tick_offset`; "no chord" ticks give no notes.
std::vector<midi::Note> chord_row_notes(std::span<const int32_t> chord_ids, const data::ChordDatabase& chords,
                                        int64_t tick_offset, int velocity = 60);

struct MidiHarmonizeOptions {
  std::string track;                            // --track (see read_melody_midi)
  ChordSource chords = ChordSource::kAuto;
  std::optional<data::Key> key;                 // --key; nullopt: Krumhansl–Schmuckler
  int sequence_length = 0;                      // window T; 0: the run's eval_sequence_length
  metrics::BinarizationConfig binarization;
  ChordEstimationOptions chord_estimation;
};

struct MidiHarmonizeResult {
  midi::MidiFile midi;            // the output file (step 4)
  MelodyMidi input;
  data::Key key;
  bool key_estimated = false;
  double key_correlation = 0.0;   // Krumhansl–Schmuckler r of the estimated key
  ChordSource chord_source = ChordSource::kNone;  // what was used: kTrack, kMelody or kNone
  std::vector<int32_t> chord_ids;  // one per song tick
  int sequence_length = 0;
  int64_t windows = 0;
  metrics::BinarizationConfig binarization;
  int64_t piano_notes = 0;
};

// Steps 1-4 for the MIDI file `path`. Throws for a run with the MCP context, before reading.
MidiHarmonizeResult harmonize_midi_file(HarmonizationModel& model, const data::ContextEncoder& encoder,
                                        const std::string& path, const MidiHarmonizeOptions& options = {});

}  // namespace stripes::harmonization
