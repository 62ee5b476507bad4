// The StrIPE preprocessing of one POP909 song; the numbered conventions are in pop909_song.hpp.
#include "data/pop909/pop909_song.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <limits>

#include "data/midi/midi_file.hpp"
#include "data/quantize.hpp"
#include "tensor/error.hpp"

namespace stripes::data {

const char* const kTrackNames[kTrackCount] = {"MELODY", "BRIDGE", "PIANO"};
static_assert(kTicksPerQuarter == kGridTicksPerQuarter, "the POP909 songs live on the grid of data/quantize.hpp");

std::string describe_options(const Pop909Options& options) {
  return fmt::format("bar_grid={} onsets_of_vanished_notes={} midi_overlap={}",
                     options.bar_grid_from_first_note ? "first-note" : "annotation-start",
                     options.onsets_of_vanished_notes ? 1 : 0, midi::overlap_policy_name(options.midi_overlap));
}

namespace {

std::string lowercase_trimmed(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  std::string lowered = text.substr(begin, end - begin);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered;
}

// The MIDI track named `name` (case-insensitive, surrounding spaces ignored, as the authors'
// `track.name.lower().strip()`). Exactly one track of that name must hold notes.
const midi::Track& find_named_track(const midi::MidiFile& file, const std::string& name, const std::string& path) {
  const std::string wanted = lowercase_trimmed(name);
  std::vector<const midi::Track*> matches;
  std::string names;
  for (const midi::Track& track : file.tracks) {
    names += (names.empty() ? "'" : ", '") + track.name + "'";
    if (lowercase_trimmed(track.name) == wanted && !track.notes.empty()) matches.push_back(&track);
  }
  if (matches.empty()) throw_error("{}: no track named '{}' with notes (tracks: {})", path, name, names);
  if (matches.size() > 1) {
    throw_error("{}: {} tracks named '{}' hold notes; expected one each of MELODY, BRIDGE and PIANO", path,
                matches.size(), name);
  }
  return *matches.front();
}

// A structure row over the whole song: `offset` ticks of `pad`, then `values` (one per tick), cut
// or padded with `pad` to `num_ticks` (convention 3).
std::vector<int32_t> place_annotation_row(const std::vector<int32_t>& values, int64_t offset, int64_t num_ticks,
                                          int32_t pad) {
  std::vector<int32_t> row(static_cast<size_t>(num_ticks), pad);
  for (int64_t tick = std::max<int64_t>(offset, 0); tick < num_ticks; ++tick) {
    const int64_t index = tick - offset;
    if (index >= static_cast<int64_t>(values.size())) break;
    row[static_cast<size_t>(tick)] = values[static_cast<size_t>(index)];
  }
  return row;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t positive_mod(int64_t a, int64_t b) { return ((a % b) + b) % b; }

}  // namespace

Pop909Song load_pop909_song(const SongInputs& inputs, const ChordDatabase& chords, const Pop909Options& options) {
  namespace fs = std::filesystem;
  Pop909Song song;
  song.song_id = inputs.song_id;
  song.split = inputs.split;
  song.start_position = inputs.start_position;

  // ---- notes on the 16-per-quarter grid (conventions 1, 2) ----------------------------------
  midi::MidiReadOptions read_options;
  read_options.overlap = options.midi_overlap;
  const midi::MidiFile file = midi::read_midi(inputs.midi_path, read_options);
  STRIPES_CHECK(file.ticks_per_quarter > 0, "{}: ticks per quarter note is {}", inputs.midi_path,
                file.ticks_per_quarter);

  std::vector<SongNote> notes;
  int64_t first_sounding_tick = std::numeric_limits<int64_t>::max();
  int64_t roll_length = 0;  // muspy: largest note end + 1, over the tracks
  for (int track = 0; track < kTrackCount; ++track) {
    const midi::Track& midi_track = find_named_track(file, kTrackNames[track], inputs.midi_path);
    int64_t track_first_sounding = std::numeric_limits<int64_t>::max();
    // Convention 1: round(t · 16 / tpq), ties to even, start and end separately (data/quantize.hpp).
    for (const GridNote& note : quantize_notes(midi_track.notes, file.ticks_per_quarter, kTicksPerQuarter)) {
      SongNote quantized;
      quantized.track = track;
      quantized.pitch = note.pitch;
      quantized.start = note.start;
      quantized.end = note.end;
      if (quantized.end > quantized.start) track_first_sounding = std::min(track_first_sounding, quantized.start);
      roll_length = std::max(roll_length, quantized.end + 1);
      notes.push_back(quantized);
    }
    if (track_first_sounding == std::numeric_limits<int64_t>::max()) {
      throw_error("{}: track {} has no note that lasts at least one tick at {} ticks per quarter note",
                  inputs.midi_path, kTrackNames[track], kTicksPerQuarter);
    }
    first_sounding_tick = std::min(first_sounding_tick, track_first_sounding);
  }

  // ---- song grid: tick 0 = first sounding tick, silent lead-in for a negative start -----------
  const int64_t lead_in = inputs.start_position < 0 ? -static_cast<int64_t>(inputs.start_position) : 0;
  song.num_ticks = roll_length - first_sounding_tick + lead_in;
  const int64_t shift = lead_in - first_sounding_tick;
  song.notes.reserve(notes.size());
  for (SongNote note : notes) {
    note.start += shift;
    note.end += shift;
    if (note.end == note.start && !options.onsets_of_vanished_notes) continue;
    // A vanished note before the first sounding tick would land before tick 0: it is outside the
    // song. (The authors' numpy indexing would wrap it to the song's end; no POP909 song has one.)
    if (note.start < 0) continue;
    song.notes.push_back(note);
  }
  std::sort(song.notes.begin(), song.notes.end(), [](const SongNote& a, const SongNote& b) {
    if (a.track != b.track) return a.track < b.track;
    if (a.start != b.start) return a.start < b.start;
    if (a.pitch != b.pitch) return a.pitch < b.pitch;
    return a.end < b.end;
  });

  // ---- structure rows (conventions 3, 4) ----------------------------------------------------
  const fs::path structure(inputs.structure_directory);
  const int64_t annotation_start = std::max<int64_t>(inputs.start_position, 0);

  const std::string chord_path = (structure / "finalized_chord.txt").string();
  const int no_chord = chords.no_chord_id();
  std::vector<int32_t> chord_per_tick;
  for (const AnnotatedChord& chord : read_finalized_chord_txt(chord_path)) {
    const int chord_id = chords.find(chord.vector());
    if (chord_id < 0) {
      throw_error("{}: line {}: chord '{}' (root {}, {} pitch classes) is not in the chord database", chord_path,
                  chord.line, chord.name, chord.root, chord.pitch_classes.size());
    }
    chord_per_tick.insert(chord_per_tick.end(), static_cast<size_t>(chord.duration_beats) * kTicksPerQuarter,
                          chord_id);
  }
  song.chord_ids = place_annotation_row(chord_per_tick, annotation_start, song.num_ticks, no_chord);

  std::vector<int32_t> melody_per_tick;
  for (const MelodyNote& note : read_melody_txt((structure / "melody.txt").string())) {
    melody_per_tick.insert(melody_per_tick.end(), static_cast<size_t>(note.duration_sixteenths) * kTicksPerSixteenth,
                           note.pitch);
  }
  song.melody = place_annotation_row(melody_per_tick, annotation_start, song.num_ticks, 0);

  std::vector<int32_t> label_per_tick;
  for (const Phrase& phrase : read_human_label_txt((structure / "human_label1.txt").string())) {
    label_per_tick.insert(label_per_tick.end(), static_cast<size_t>(phrase.bars) * kTicksPerBar,
                          phrase_label_id(phrase.label));
  }
  song.phrase_labels = place_annotation_row(label_per_tick, annotation_start, song.num_ticks, kPhrasePadLabelId);

  // ---- bar grid (convention 6) ----------------------------------------------------------------
  const int64_t grid_origin = options.bar_grid_from_first_note ? 0 : annotation_start;
  const int64_t first_bar = grid_origin > 0 ? 1 : 0;  // a pickup before the origin is bar 0
  song.measure_order.resize(static_cast<size_t>(song.num_ticks));
  song.note_order.resize(static_cast<size_t>(song.num_ticks));
  for (int64_t tick = 0; tick < song.num_ticks; ++tick) {
    song.measure_order[static_cast<size_t>(tick)] =
        static_cast<int32_t>(floor_div(tick - grid_origin, kTicksPerBar) + first_bar);
    song.note_order[static_cast<size_t>(tick)] = static_cast<int32_t>(positive_mod(tick - grid_origin, kTicksPerQuarter));
  }

  // ---- song-level values (convention 7) -------------------------------------------------------
  song.tempo_bpm = read_tempo_txt((structure / "tempo.txt").string());
  song.tempo_bucket = tempo_bucket(song.tempo_bpm);
  song.key_changes = read_analyzed_key_txt((structure / "analyzed_key.txt").string());
  song.key = song.key_changes.front();
  return song;
}

void render_pianoroll(const Pop909Song& song, int64_t begin, int64_t length, uint8_t* pianoroll, uint8_t* onset) {
  STRIPES_CHECK(length >= 0, "render_pianoroll: negative length {}", length);
  const size_t cells = static_cast<size_t>(kPianorollRows) * static_cast<size_t>(length);
  if (pianoroll != nullptr) std::fill(pianoroll, pianoroll + cells, uint8_t{0});
  if (onset != nullptr) std::fill(onset, onset + cells, uint8_t{0});
  const int64_t end = begin + length;
  for (const SongNote& note : song.notes) {
    const size_t row_offset = static_cast<size_t>(note.track * kPitchCount + note.pitch) * static_cast<size_t>(length);
    if (pianoroll != nullptr) {
      for (int64_t tick = std::max(note.start, begin); tick < std::min(note.end, end); ++tick) {
        pianoroll[row_offset + static_cast<size_t>(tick - begin)] = 1;
      }
    }
    if (onset != nullptr && note.start >= begin && note.start < end) {
      onset[row_offset + static_cast<size_t>(note.start - begin)] = 1;
    }
  }
}

std::vector<SoundingRun> sounding_runs(const Pop909Song& song) {
  std::vector<SoundingRun> notes;
  notes.reserve(song.notes.size());
  for (const SongNote& note : song.notes) {
    if (note.end > note.start) notes.push_back({note.track, note.pitch, note.start, note.end});
  }
  std::sort(notes.begin(), notes.end(), [](const SoundingRun& a, const SoundingRun& b) {
    if (a.track != b.track) return a.track < b.track;
    if (a.pitch != b.pitch) return a.pitch < b.pitch;
    return a.start < b.start;
  });
  std::vector<SoundingRun> runs;
  for (const SoundingRun& note : notes) {
    if (!runs.empty() && runs.back().track == note.track && runs.back().pitch == note.pitch &&
        note.start <= runs.back().end) {
      runs.back().end = std::max(runs.back().end, note.end);
    } else {
      runs.push_back(note);
    }
  }
  return runs;
}

int default_window_overlap(int sequence_length) {
  STRIPES_CHECK(sequence_length > 0 && sequence_length % 8 == 0,
                "windows: the authors' overlap is sequence_length / 8; {} is not a positive multiple of 8",
                sequence_length);
  return sequence_length / 8;
}

std::vector<int64_t> window_starts(int64_t num_ticks, int sequence_length, int overlap) {
  const int64_t window_ticks = static_cast<int64_t>(sequence_length) + 1;
  const int64_t hop = window_ticks - overlap;
  STRIPES_CHECK(sequence_length > 0 && overlap >= 0 && hop > 0,
                "windows: need sequence_length > 0 and 0 <= overlap <= sequence_length, got T = {}, overlap = {}",
                sequence_length, overlap);
  std::vector<int64_t> starts;
  for (int64_t start = 0; start + window_ticks <= num_ticks; start += hop) starts.push_back(start);
  return starts;
}

std::vector<Pop909Window> make_windows(const Pop909Song& song, int sequence_length, int overlap) {
  std::vector<Pop909Window> windows;
  const std::vector<int64_t> starts = window_starts(song.num_ticks, sequence_length, overlap);
  const int64_t length = static_cast<int64_t>(sequence_length) + 1;
  auto slice = [length](const std::vector<int32_t>& row, int64_t start) {
    return std::vector<int32_t>(row.begin() + start, row.begin() + start + length);
  };
  for (size_t i = 0; i < starts.size(); ++i) {
    Pop909Window window;
    window.song_id = song.song_id;
    window.index = static_cast<int>(i);
    window.start_tick = starts[i];
    window.length = length;
    window.pianoroll.resize(static_cast<size_t>(kPianorollRows * length));
    window.onset.resize(static_cast<size_t>(kPianorollRows * length));
    render_pianoroll(song, starts[i], length, window.pianoroll.data(), window.onset.data());
    window.chord_ids = slice(song.chord_ids, starts[i]);
    window.melody = slice(song.melody, starts[i]);
    window.phrase_labels = slice(song.phrase_labels, starts[i]);
    window.measure_order = slice(song.measure_order, starts[i]);
    window.note_order = slice(song.note_order, starts[i]);
    window.tempo_bucket = song.tempo_bucket;
    windows.push_back(std::move(window));
  }
  return windows;
}

}  // namespace stripes::data
