// Harmonizing any MIDI file; the pipeline is described in harmonize_midi.hpp.
#include "experiments/harmonization/harmonize_midi.hpp"

#include "autograd/variable.hpp"
#include "experiments/harmonization/harmonize.hpp"
#include "tensor/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

namespace stripes::harmonization {

namespace {

constexpr int kPitches = 128;

std::string lowercase_trimmed(const std::string& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  std::string lowered = text.substr(begin, end - begin);
  for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lowered;
}

bool is_index(const std::string& text) {
  return !text.empty() && text.size() < 6 &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

// "0 '' (0 notes), 1 'MELODY' (312 notes), ..." for error messages.
std::string list_tracks(const midi::MidiFile& file) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < file.tracks.size(); ++i) {
    parts.push_back(fmt::format("{} '{}' ({} notes)", i, file.tracks[i].name, file.tracks[i].notes.size()));
  }
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, ", "));
}

// The first track whose name is one of `names` (case-insensitive, trimmed) and holds notes; -1 if none.
int find_named_track(const midi::MidiFile& file, std::initializer_list<const char*> names, int exclude = -1) {
  for (size_t i = 0; i < file.tracks.size(); ++i) {
    if (int(i) == exclude || file.tracks[i].notes.empty()) continue;
    const std::string name = lowercase_trimmed(file.tracks[i].name);
    for (const char* wanted : names) {
      if (name == lowercase_trimmed(wanted)) return int(i);
    }
  }
  return -1;
}

// The melody track of step 1 (throws naming the file when the choice has no notes).
int choose_melody_track(const midi::MidiFile& file, const std::string& path, const std::string& track) {
  if (!track.empty()) {
    int index = -1;
    for (size_t i = 0; i < file.tracks.size() && index < 0; ++i) {
      if (lowercase_trimmed(file.tracks[i].name) == lowercase_trimmed(track)) index = int(i);
    }
    if (index < 0 && is_index(track)) {
      index = std::stoi(track);
      STRIPES_CHECK(index < int(file.tracks.size()), "{}: --track {}: the file has {} tracks (0..{}): {}", path, track,
                    file.tracks.size(), int(file.tracks.size()) - 1, list_tracks(file));
    }
    STRIPES_CHECK(index >= 0, "{}: --track '{}': no track of that name (tracks: {})", path, track, list_tracks(file));
    STRIPES_CHECK(!file.tracks[size_t(index)].notes.empty(), "{}: --track {}: track {} '{}' has no notes (tracks: {})",
                  path, track, index, file.tracks[size_t(index)].name, list_tracks(file));
    return index;
  }
  const int named = find_named_track(file, {"MELODY"});
  if (named >= 0) return named;
  for (size_t i = 0; i < file.tracks.size(); ++i) {
    const std::string name = lowercase_trimmed(file.tracks[i].name);
    if (file.tracks[i].notes.empty() || name == "bridge" || name == "chord" || name == "chords") continue;
    return int(i);
  }
  throw_error("{}: no notes: no track holds a note that could be the melody (tracks: {})", path, list_tracks(file));
}

// Sounding notes of a track on the grid, in absolute grid ticks.
std::vector<data::GridNote> grid_notes(const midi::MidiFile& file, int track) {
  std::vector<data::GridNote> notes;
  if (track < 0) return notes;
  for (const data::GridNote& note : data::quantize_notes(file.tracks[size_t(track)].notes, file.ticks_per_quarter)) {
    if (note.sounds()) notes.push_back(note);
  }
  return notes;
}

std::vector<data::GridNote> shifted(std::vector<data::GridNote> notes, int64_t shift) {
  for (data::GridNote& note : notes) note.start += shift, note.end += shift;
  return notes;
}

void render_rows(const std::vector<data::GridNote>& notes, int64_t num_ticks, int64_t row_offset, int64_t width,
                 float* out) {
  for (const data::GridNote& note : notes) {
    for (int64_t t = std::max<int64_t>(note.start, 0); t < std::min(note.end, num_ticks); ++t) {
      out[t * width + row_offset + note.pitch] = 1.0f;
    }
  }
}

midi::Track make_track(const std::string& name, std::vector<midi::Note> notes, int channel) {
  midi::Track track;
  track.name = name;
  for (midi::Note& note : notes) note.channel = channel;
  track.notes = std::move(notes);
  return track;
}

std::vector<midi::Note> to_midi_notes(const std::vector<data::GridNote>& notes, int64_t tick_offset) {
  std::vector<midi::Note> out;
  for (const data::GridNote& note : notes) {
    midi::Note m;
    m.pitch = note.pitch;
    m.velocity = std::clamp(note.velocity, 1, 127);
    m.start_tick = note.start + tick_offset;
    m.end_tick = note.end + tick_offset;
    out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const midi::Note& a, const midi::Note& b) {
    return a.start_tick != b.start_tick ? a.start_tick < b.start_tick : a.pitch < b.pitch;
  });
  return out;
}

// MCP's third level is the phrase label of human_label1.txt; a MIDI file has none.
void require_context_without_phrases(data::ContextType type) {
  STRIPES_CHECK(type != data::ContextType::kMcp,
                "harmonize: the run's context is MCP (F-StrIPE's [melody, chord, phrase] vector), which needs phrase "
                "labels that a MIDI file does not have; use a run trained with --context TIME, REP, KEY or BIN");
}

}  // namespace

// ---- step 1: reading ----------------------------------------------------------------------------------

MelodyMidi read_melody_midi(const std::string& path, const std::string& track) {
  midi::MidiReadOptions read_options;
  read_options.overlap = midi::OverlapPolicy::kFirstInFirstOut;  // as the POP909 loader (muspy)
  const midi::MidiFile file = midi::read_midi(path, read_options);  // throws naming the file
  MelodyMidi melody;
  melody.path = path;
  melody.ticks_per_quarter = file.ticks_per_quarter;
  melody.melody_track = choose_melody_track(file, path, track);
  melody.melody_track_name = file.tracks[size_t(melody.melody_track)].name;
  melody.bridge_track = find_named_track(file, {"BRIDGE"}, melody.melody_track);
  melody.chord_track = find_named_track(file, {"CHORD", "CHORDS"}, melody.melody_track);

  std::vector<data::GridNote> melody_notes = grid_notes(file, melody.melody_track);
  std::vector<data::GridNote> bridge_notes = grid_notes(file, melody.bridge_track);
  if (melody_notes.empty()) {
    throw_error("{}: no notes: melody track {} '{}' has {} notes, none lasting a 16th of a quarter note ({} ticks at "
                "{} per quarter)",
                path, melody.melody_track, melody.melody_track_name, file.tracks[size_t(melody.melody_track)].notes.size(),
                file.ticks_per_quarter / data::kGridTicksPerQuarter, file.ticks_per_quarter);
  }
  int64_t first = std::numeric_limits<int64_t>::max(), last = 0;
  for (const auto* notes : {&melody_notes, &bridge_notes}) {
    for (const data::GridNote& note : *notes) first = std::min(first, note.start), last = std::max(last, note.end);
  }
  melody.origin = first / kGridTicksPerBar * kGridTicksPerBar;  // ticks are >= 0
  melody.num_ticks = last - melody.origin;
  melody.melody = shifted(std::move(melody_notes), -melody.origin);
  melody.bridge = shifted(std::move(bridge_notes), -melody.origin);
  melody.chords = shifted(grid_notes(file, melody.chord_track), -melody.origin);

  if (!file.tempos.empty()) melody.microseconds_per_quarter = file.tempos.front().microseconds_per_quarter;
  std::set<int> tempos;
  for (const midi::TempoChange& tempo : file.tempos) tempos.insert(tempo.microseconds_per_quarter);
  if (tempos.size() > 1) {
    melody.warnings.push_back(fmt::format("{}: {} tempo events with {} different tempos; the output keeps the first "
                                          "({:.1f} bpm)",
                                          path, file.tempos.size(), tempos.size(), melody.bpm()));
  }
  if (!file.time_signatures.empty()) melody.time_signature = file.time_signatures.front();
  for (const midi::TimeSignature& signature : file.time_signatures) {
    if (signature.numerator != 4 || signature.denominator != 4) {
      melody.warnings.push_back(fmt::format("{}: time signature {}/{} at quarter note {:g}: the model was trained on 4/4 "
                                            "songs (64-tick bars); proceeding as if the file were in 4/4",
                                            path, signature.numerator, signature.denominator,
                                            double(signature.tick) / file.ticks_per_quarter));
      break;
    }
  }
  return melody;
}

Tensor melody_input_rows(const MelodyMidi& melody) {
  Tensor rows = Tensor::zeros({melody.num_ticks, 2 * kPitches}, DType::Float32);
  float* out = rows.mutable_data<float>();
  render_rows(melody.melody, melody.num_ticks, 0, 2 * kPitches, out);
  render_rows(melody.bridge, melody.num_ticks, kPitches, 2 * kPitches, out);
  return rows;
}

// ---- step 2: chords -------------------------------------------------------------------------------------

ChordSource parse_chord_source(const std::string& name) {
  const std::string wanted = lowercase_trimmed(name);
  for (ChordSource source : {ChordSource::kAuto, ChordSource::kTrack, ChordSource::kMelody, ChordSource::kNone}) {
    if (wanted == chord_source_name(source)) return source;
  }
  throw_error("--chords: expected auto, track, melody or none, found '{}'", name);
}

const char* chord_source_name(ChordSource source) {
  switch (source) {
    case ChordSource::kAuto: return "auto";
    case ChordSource::kTrack: return "track";
    case ChordSource::kMelody: return "melody";
    case ChordSource::kNone: return "none";
  }
  return "?";
}

std::vector<midi::Note> chord_row_notes(std::span<const int32_t> chord_ids, const data::ChordDatabase& chords,
                                        int64_t tick_offset, int velocity) {
  constexpr int kRootOctaveBase = 48;  // C3
  std::vector<midi::Note> notes;
  for (size_t begin = 0; begin < chord_ids.size();) {
    size_t end = begin;
    while (end < chord_ids.size() && chord_ids[end] == chord_ids[begin]) ++end;
    const data::ChordVector& chord = chords.chord(chord_ids[begin]);
    if (chord.root_plus_one != 0) {
      const int root = chord.root_plus_one - 1;
      std::vector<int> pitches = {kRootOctaveBase + root};
      for (int pc = 0; pc < 12; ++pc) {
        if (chord.pitch_classes[size_t(pc)] != 0 && pc != root) pitches.push_back(kRootOctaveBase + root + (pc - root + 12) % 12);
      }
      for (int pitch : pitches) {
        midi::Note note;
        note.pitch = pitch;
        note.velocity = velocity;
        note.start_tick = int64_t(begin) + tick_offset;
        note.end_tick = int64_t(end) + tick_offset;
        notes.push_back(note);
      }
    }
    begin = end;
  }
  std::sort(notes.begin(), notes.end(), [](const midi::Note& a, const midi::Note& b) {
    return a.start_tick != b.start_tick ? a.start_tick < b.start_tick : a.pitch < b.pitch;
  });
  return notes;
}

// ---- step 3: the model ----------------------------------------------------------------------------------

Tensor window_positions(const data::ContextEncoder& encoder, data::ContextType type, std::span<const int32_t> chord_ids,
                        const data::Key& key, int64_t begin, int64_t length) {
  require_context_without_phrases(type);
  STRIPES_CHECK(begin >= 0 && length >= 0 && begin + length <= int64_t(chord_ids.size()),
                "harmonize: window [{}, {}) outside the song's {} ticks", begin, begin + length, chord_ids.size());
  data::ContextSpan span;
  span.chord_ids = chord_ids.subspan(size_t(begin), size_t(length));
  span.key = key;
  return encoder.positions(type, span);
}

Tensor song_logits(HarmonizationModel& model, const data::ContextEncoder& encoder, const Tensor& input,
                   std::span<const int32_t> chord_ids, const data::Key& key, int window) {
  const int64_t num_ticks = input.size(0);
  STRIPES_CHECK(input.dim() == 2 && input.size(1) == 2 * kPitches, "harmonize: input must be [N, 256], got {}",
                shape_str(input.shape()));
  STRIPES_CHECK(int64_t(chord_ids.size()) == num_ticks, "harmonize: {} chord ids for {} ticks", chord_ids.size(),
                num_ticks);
  STRIPES_CHECK(window >= 1, "harmonize: window length must be >= 1, got {}", window);
  const data::ContextType type = model.config().context_type();
  const bool was_training = model.training();
  model.eval();
  ag::NoGradGuard no_grad;
  Tensor logits = Tensor::zeros({num_ticks, 3 * kPitches}, DType::Float32);
  for (int64_t begin = 0; begin < num_ticks; begin += window) {
    const int64_t length = std::min<int64_t>(window, num_ticks - begin);
    const Tensor window_input = input.slice(0, begin, begin + length).contiguous().unsqueeze(0);    // [1, L, 256]
    const Tensor positions = window_positions(encoder, type, chord_ids, key, begin, length).unsqueeze(0);  // [1, L(, w)]
    const Tensor output = model.forward(window_input, positions).value().to(Device::CPU);       // [1, L, 384]
    logits.slice(0, begin, begin + length).copy_(output.select(0, 0));
  }
  model.train(was_training);
  return logits;
}

// ---- steps 1-4 ------------------------------------------------------------------------------------------

MidiHarmonizeResult harmonize_midi_file(HarmonizationModel& model, const data::ContextEncoder& encoder,
                                        const std::string& path, const MidiHarmonizeOptions& options) {
  const HarmonizationConfig& config = model.config();
  require_context_without_phrases(config.context_type());
  MidiHarmonizeResult result;
  result.input = read_melody_midi(path, options.track);
  const MelodyMidi& melody = result.input;
  const data::ChordDatabase& chords = encoder.chords();

  // Key: given, or Krumhansl–Schmuckler on melody and bridge.
  std::vector<data::GridNote> tune = melody.melody;
  tune.insert(tune.end(), melody.bridge.begin(), melody.bridge.end());
  if (options.key) {
    result.key = *options.key;
  } else {
    const KeyEstimate estimate = estimate_key(pitch_class_histogram(tune, 0, melody.num_ticks));
    result.key = estimate.key;
    result.key_estimated = true;
    result.key_correlation = estimate.correlation;
  }

  // Chords, one per tick.
  result.chord_source = options.chords;
  if (options.chords == ChordSource::kAuto) {
    result.chord_source = melody.chord_track >= 0 ? ChordSource::kTrack : ChordSource::kMelody;
  }
  if (result.chord_source == ChordSource::kTrack) {
    STRIPES_CHECK(melody.chord_track >= 0, "{}: --chords track: no track named CHORD or CHORDS with notes", path);
    result.chord_ids = chords_from_track(melody.chords, melody.num_ticks, chords);
  } else if (result.chord_source == ChordSource::kMelody) {
    result.chord_ids = estimate_chords_from_melody(tune, melody.num_ticks, result.key, chords, options.chord_estimation);
  } else {
    result.chord_ids.assign(size_t(melody.num_ticks), int32_t(chords.no_chord_id()));
  }

  // The model over consecutive windows; the piano of input tick t sounds at tick t + 1.
  result.sequence_length = options.sequence_length > 0 ? options.sequence_length : config.eval_sequence_length;
  result.windows = (melody.num_ticks + result.sequence_length - 1) / result.sequence_length;
  result.binarization = options.binarization;
  const Tensor logits = song_logits(model, encoder, melody_input_rows(melody), result.chord_ids, result.key,
                                    result.sequence_length);
  const Tensor prediction = metrics::binarize_logits(logits, result.binarization);  // uint8 [N, 384]
  const Tensor piano = prediction.slice(1, 2 * kPitches, 3 * kPitches);

  // The output file, in the input's ticks (song tick t = output tick origin + t).
  midi::MidiFile& file = result.midi;
  file.format = 1;
  file.ticks_per_quarter = data::kGridTicksPerQuarter;
  file.tempos.push_back({0, melody.microseconds_per_quarter});
  midi::TimeSignature signature = melody.time_signature;
  signature.tick = 0;
  file.time_signatures.push_back(signature);
  int channel = 0;
  file.tracks.push_back(make_track("MELODY", to_midi_notes(melody.melody, melody.origin), channel++));
  if (melody.bridge_track >= 0) file.tracks.push_back(make_track("BRIDGE", to_midi_notes(melody.bridge, melody.origin), channel++));
  file.tracks.push_back(make_track("PIANO", pianoroll_notes(piano, melody.origin + 1), channel++));
  result.piano_notes = int64_t(file.tracks.back().notes.size());
  if (result.chord_source != ChordSource::kNone) {
    file.tracks.push_back(make_track(result.chord_source == ChordSource::kTrack ? "CHORDS (from track)" : "CHORDS (estimated)",
                                     chord_row_notes(result.chord_ids, chords, melody.origin), channel++));
  }
  file.end_tick = melody.origin + melody.num_ticks + 1;
  return result;
}

}  // namespace stripes::harmonization
