// Harmonizing one window of a POP909 song with a trained model, and writing the result as MIDI.
//
// The model sees the melody + bridge of window ticks 0..T-1 and predicts all three tracks at ticks
// 1..T (the next-tick target, data/dataset.hpp). The MIDI file (16 ticks per quarter, the song's
// tempo) holds, in this order:
//   MELODY, BRIDGE            the input, at ticks 0..T-1
//   PIANO (model)             the predicted piano, binarized, at ticks 1..T
//   MELODY (model), BRIDGE (model)   the predicted melody and bridge, at ticks 1..T
//   PIANO (original)          the song's piano, at ticks 1..T
// Each maximal run of active ticks of a pitch row is one note (velocity 80).
// Any MIDI file with a melody, without annotations: harmonize_midi.hpp.
#pragma once

#include "data/midi/midi_file.hpp"
#include "experiments/harmonization/training.hpp"

#include <optional>
#include <string>

namespace stripes::harmonization {

// Notes of a binary pianoroll [T, 128] (uint8 or float 0/1): each run of active ticks of a pitch
// row is one note, shifted by `tick_offset`.
std::vector<midi::Note> pianoroll_notes(const Tensor& rows, int64_t tick_offset, int velocity = 80);

// The binarization a run directory asks for: RUN_DIR/metrics.json's
// in_domain.binarization.{threshold, max_merged_gap} (what `stripes eval` picks on validation
// windows), else length_generalization.binarization (a run evaluated only on longer windows),
// else the older top-level binarization.{threshold, max_merged_gap}, else threshold 0.5 without
// merging. A metrics.json that is not JSON, or whose fields are not numbers in range, throws
// naming the file and the field.
struct RunBinarization {
  metrics::BinarizationConfig config;
  std::string source;  // "RUN_DIR/metrics.json (in_domain.binarization)", ..., or "default"
};
RunBinarization read_run_binarization(const std::string& run_dir);

struct HarmonizeOptions {
  int song_id = -1;                 // -1: the first test song with a window
  int64_t window = 0;               // which window of the song (0-based)
  int sequence_length = 0;          // 0: the config's eval_sequence_length
  std::optional<metrics::BinarizationConfig> binarization;  // default: threshold 0.5
};

struct HarmonizeResult {
  midi::MidiFile midi;
  int song_id = 0;
  int64_t start_tick = 0;
  int sequence_length = 0;
  metrics::BinarizationConfig binarization;
  metrics::MetricScores scores;     // of the prediction against the window's target
  int64_t predicted_piano_notes = 0;
  int64_t original_piano_notes = 0;
};

HarmonizeResult harmonize_window(HarmonizationModel& model, const HarmonizationData& data,
                                 const HarmonizeOptions& options);

}  // namespace stripes::harmonization
