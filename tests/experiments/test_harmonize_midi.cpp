// `stripes harmonize` on any MIDI file (experiments/harmonization/harmonize_midi.hpp and
// chord_estimation.hpp): chord and key estimation on hand-made melodies, melody-track selection,
// quantization, errors and warnings, window splitting, and end-to-end runs — one with a hand-made
// chord database and an untrained model (no data needed), one with a briefly trained model and the
// real chord database through the `stripes` program (skips without POP909).
#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "experiments/harmonization/chord_estimation.hpp"
#include "experiments/harmonization/harmonize.hpp"
#include "experiments/harmonization/harmonize_midi.hpp"
#include "experiments/harmonization/training.hpp"
#include "nn/checkpoint.hpp"
#include "tensor/error.hpp"
#include "tensor/math.hpp"
#include "tests/experiments/harmonization_fixtures.hpp"
#include "tests/support/expect_error.hpp"

#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>

namespace stripes::harmonization {
using stripes::test::CommandResult;
using stripes::test::run_stripes;

namespace {

namespace fs = std::filesystem;
using stripes::testing::expect_error_message;

constexpr int kQuarter = 16;  // grid ticks
constexpr int kBar = 64;

// MIDI pitches of octave 4.
constexpr int C4 = 60, D4 = 62, E4 = 64, F4 = 65, G4 = 67, A4 = 69, B4 = 71, C5 = 72;

data::ChordVector chord_of(int root, const std::vector<int>& intervals) {
  data::ChordVector chord;
  chord.root_plus_one = root + 1;
  for (int interval : intervals) chord.pitch_classes[size_t((root + interval) % 12)] = 1;
  return chord;
}

// A small chord database: "no chord" (id 0), then maj, min, 7, min7 on the 12 roots, and C:maj6
// (which has the pitch classes of A:min7).
data::ChordDatabase hand_made_chords() {
  std::vector<data::ChordVector> chords = {data::ChordVector{}};
  for (int root = 0; root < 12; ++root) {
    for (const char* quality : {"maj", "min", "7", "min7"}) chords.push_back(chord_of(root, chord_quality_intervals(quality)));
  }
  chords.push_back(chord_of(0, chord_quality_intervals("maj6")));
  return data::ChordDatabase(chords);
}

int id_of(const data::ChordDatabase& chords, int root, const char* quality) {
  const int id = chords.find(chord_of(root, chord_quality_intervals(quality)));
  EXPECT_GE(id, 0) << root << " " << quality;
  return id;
}

data::GridNote grid_note(int pitch, int64_t start, int64_t end) { return data::GridNote{pitch, 100, start, end}; }

// Quarter notes of `pitches` from tick `start`.
std::vector<data::GridNote> quarters(const std::vector<int>& pitches, int64_t start) {
  std::vector<data::GridNote> notes;
  for (size_t i = 0; i < pitches.size(); ++i) notes.push_back(grid_note(pitches[i], start + int64_t(i) * kQuarter, start + int64_t(i + 1) * kQuarter));
  return notes;
}

std::vector<int32_t> ticks_of(const std::vector<int32_t>& row, int64_t begin, int64_t end) {
  return std::vector<int32_t>(row.begin() + begin, row.begin() + end);
}

// ---- chord estimation --------------------------------------------------------------------------------

TEST(ChordEstimation, ArpeggioOfCMajorIsCMajor) {
  const data::ChordDatabase chords = hand_made_chords();
  const std::vector<data::GridNote> notes = quarters({C4, E4, G4, C5}, 0);
  const std::vector<int32_t> row = estimate_chords_from_melody(notes, kBar, make_key(0, false), chords);
  ASSERT_EQ(row.size(), size_t(kBar));
  EXPECT_EQ(row, std::vector<int32_t>(kBar, id_of(chords, 0, "maj"))) << chord_name(chords.chord(row[0]));
  EXPECT_EQ(chord_name(chords.chord(row[0])), "C:maj");
}

TEST(ChordEstimation, ACEIsAMinorInEitherKey) {
  const data::ChordDatabase chords = hand_made_chords();
  const std::vector<data::GridNote> notes = quarters({A4, C5, E4, A4}, 0);
  for (const data::Key& key : {make_key(0, false), make_key(9, true)}) {
    const std::vector<int32_t> row = estimate_chords_from_melody(notes, kBar, key, chords);
    EXPECT_EQ(row, std::vector<int32_t>(kBar, id_of(chords, 9, "min"))) << key.name << ": " << chord_name(chords.chord(row[0]));
  }
}

TEST(ChordEstimation, SilenceKeepsThePreviousChordAndNoChordBeforeTheFirstNote) {
  const data::ChordDatabase chords = hand_made_chords();
  // bar 0 silent, bar 1 C-E-G-C, bar 2 silent, bar 3 F-A-C-F.
  std::vector<data::GridNote> notes = quarters({C4, E4, G4, C5}, kBar);
  const std::vector<data::GridNote> second = quarters({F4, A4, C5, F4}, 3 * kBar);
  notes.insert(notes.end(), second.begin(), second.end());
  const std::vector<int32_t> row = estimate_chords_from_melody(notes, 4 * kBar, make_key(0, false), chords);
  EXPECT_EQ(ticks_of(row, 0, kBar), std::vector<int32_t>(kBar, chords.no_chord_id()));
  EXPECT_EQ(ticks_of(row, kBar, 3 * kBar), std::vector<int32_t>(2 * kBar, id_of(chords, 0, "maj")));
  EXPECT_EQ(ticks_of(row, 3 * kBar, 4 * kBar), std::vector<int32_t>(kBar, id_of(chords, 5, "maj")));
  EXPECT_EQ(chord_changes(row), 2);
}

TEST(ChordEstimation, TheChangePenaltyDecidesWhetherALoneNoteChangesTheChord) {
  const data::ChordDatabase chords = hand_made_chords();
  // Half bars: C-E, G-C, D alone, E-G. The D fits no C chord.
  const std::vector<data::GridNote> notes = quarters({C4, E4, G4, C5, D4, D4, E4, G4}, 0);
  const data::Key c_major = make_key(0, false);
  const std::vector<int32_t> free_changes = estimate_chords_from_melody(notes, 2 * kBar, c_major, chords);
  const data::ChordVector& under_d = chords.chord(free_changes[size_t(kBar + 8)]);
  EXPECT_NE(under_d.pitch_classes[2], 0) << "the chord under the lone D should hold D: " << chord_name(under_d);
  EXPECT_EQ(free_changes[0], id_of(chords, 0, "maj"));

  ChordEstimationOptions sticky;
  sticky.change_penalty = 1.0;  // more than any single segment can gain
  const std::vector<int32_t> held = estimate_chords_from_melody(notes, 2 * kBar, c_major, chords, sticky);
  EXPECT_EQ(held, std::vector<int32_t>(2 * kBar, id_of(chords, 0, "maj")));
}

TEST(ChordEstimation, OneChordPerQuarterWithOneBeatSegments) {
  const data::ChordDatabase chords = hand_made_chords();
  ChordEstimationOptions per_beat;
  per_beat.beats_per_segment = 1;
  per_beat.change_penalty = 0.0;
  // A chord in each beat, as three simultaneous notes.
  std::vector<data::GridNote> notes;
  for (int pitch : {C4, E4, G4}) notes.push_back(grid_note(pitch, 0, kQuarter));
  for (int pitch : {G4, B4, D4}) notes.push_back(grid_note(pitch, kQuarter, 2 * kQuarter));
  const std::vector<int32_t> row = estimate_chords_from_melody(notes, 2 * kQuarter, make_key(0, false), chords, per_beat);
  EXPECT_EQ(row[0], id_of(chords, 0, "maj"));
  EXPECT_EQ(row[kQuarter], id_of(chords, 7, "maj"));
}

TEST(ChordEstimation, ChordTrackGivesTheNearestChordPerBeat) {
  const data::ChordDatabase chords = hand_made_chords();
  std::vector<data::GridNote> notes;
  for (int pitch : {43, 59, 62}) notes.push_back(grid_note(pitch, 0, kQuarter));                  // G B D
  for (int pitch : {45, 60, 64, 67}) notes.push_back(grid_note(pitch, 2 * kQuarter, 3 * kQuarter));  // A C E G, bass A
  for (int pitch : {48, 57, 64, 67}) notes.push_back(grid_note(pitch, 3 * kQuarter, 4 * kQuarter));  // C A E G, bass C
  for (int pitch : {50, 65, 69, 73}) notes.push_back(grid_note(pitch, 4 * kQuarter, 5 * kQuarter));  // D F A C#: no exact match
  const std::vector<int32_t> row = chords_from_track(notes, 5 * kQuarter, chords);
  EXPECT_EQ(row[0], id_of(chords, 7, "maj"));
  EXPECT_EQ(row[kQuarter], id_of(chords, 7, "maj")) << "a silent beat keeps the previous chord";
  EXPECT_EQ(row[2 * kQuarter], id_of(chords, 9, "min7")) << chord_name(chords.chord(row[2 * kQuarter]));
  EXPECT_EQ(row[3 * kQuarter], id_of(chords, 0, "maj6")) << chord_name(chords.chord(row[3 * kQuarter]));
  // D F A C#: no exact match; D:min is the only chord at distance 1.
  EXPECT_EQ(row[4 * kQuarter], id_of(chords, 2, "min")) << chord_name(chords.chord(row[4 * kQuarter]));
}

TEST(ChordEstimation, ChordNames) {
  EXPECT_EQ(chord_name(chord_of(0, {0, 4, 7})), "C:maj");
  EXPECT_EQ(chord_name(chord_of(9, {0, 3, 7})), "A:min");
  EXPECT_EQ(chord_name(chord_of(7, {0, 4, 7, 10})), "G:7");
  EXPECT_EQ(chord_name(chord_of(0, {0, 3, 8})), "C:(0,3,8)");
  EXPECT_EQ(chord_name(data::ChordVector{}), "N");
  expect_error_message([] { chord_quality_intervals("maj13"); }, {"maj13", "min7"});
}

// ---- key estimation ----------------------------------------------------------------------------------

TEST(KeyEstimation, ScalesGiveTheirKeys) {
  const KeyEstimate c_major = estimate_key(pitch_class_histogram(quarters({C4, D4, E4, F4, G4, A4, B4, C5}, 0), 0, 8 * kQuarter));
  EXPECT_EQ(c_major.key.name, "C:maj");
  EXPECT_EQ(c_major.key.tonic, 0);
  EXPECT_FALSE(c_major.key.is_minor);
  EXPECT_GT(c_major.correlation, 0.8);
  EXPECT_LE(c_major.correlation, 1.0);

  // A natural minor with the tonic and the fifth held long.
  std::vector<data::GridNote> minor = quarters({A4, B4, C5, D4, E4, F4, G4}, 0);
  minor.push_back(grid_note(A4, 7 * kQuarter, 11 * kQuarter));
  minor.push_back(grid_note(E4, 11 * kQuarter, 13 * kQuarter));
  EXPECT_EQ(estimate_key(pitch_class_histogram(minor, 0, 13 * kQuarter)).key.name, "A:min");

  // G major: F# instead of F.
  EXPECT_EQ(estimate_key(pitch_class_histogram(quarters({G4, A4, B4, C5, D4, E4, 66, G4}, 0), 0, 8 * kQuarter)).key.name,
            "G:maj");
  expect_error_message([] { estimate_key(PitchClassHistogram{}); }, {"no notes"});
}

TEST(KeyEstimation, KeyOptionAndScale) {
  EXPECT_EQ(parse_key_option("Bb:maj").tonic, 10);
  EXPECT_TRUE(parse_key_option("F#:min").is_minor);
  expect_error_message([] { parse_key_option("H:dur"); }, {"--key", "H:dur", "C:maj"});
  const std::array<bool, 12> a_minor = key_scale(make_key(9, true));
  EXPECT_TRUE(a_minor[7]);   // G, natural minor
  EXPECT_TRUE(a_minor[8]);   // G#, the leading tone
  EXPECT_FALSE(a_minor[1]);  // C#
  EXPECT_EQ(make_key(3, false).name, "Eb:maj");
  EXPECT_EQ(make_key(6, true).name, "F#:min");
}

// ---- reading MIDI files ----------------------------------------------------------------------------------

midi::Track midi_track(const std::string& name, const std::vector<std::array<int64_t, 3>>& notes, int channel = 0) {
  midi::Track track;
  track.name = name;
  for (const auto& [pitch, start, end] : notes) {
    midi::Note note;
    note.pitch = int(pitch);
    note.velocity = 90;
    note.channel = channel;
    note.start_tick = start;
    note.end_tick = end;
    track.notes.push_back(note);
  }
  return track;
}

// A format-1 file at 480 ticks per quarter (a quarter = 480, a grid tick = 30).
std::string write_file(const std::string& path, std::vector<midi::Track> tracks, int numerator = 4,
                       int microseconds_per_quarter = 600000) {
  midi::MidiFile file;
  file.format = 1;
  file.ticks_per_quarter = 480;
  file.tempos.push_back({0, microseconds_per_quarter});
  file.time_signatures.push_back({0, numerator, 4});
  file.tracks = std::move(tracks);
  for (const midi::Track& track : file.tracks) {
    for (const midi::Note& note : track.notes) file.end_tick = std::max(file.end_tick, note.end_tick);
  }
  midi::write_midi(file, path);
  return path;
}

// C-E-G-C quarters in MIDI ticks (480 per quarter) from `start`.
std::vector<std::array<int64_t, 3>> arpeggio(int64_t start) {
  std::vector<std::array<int64_t, 3>> notes;
  int64_t t = start;
  for (int pitch : {C4, E4, G4, C5}) notes.push_back({pitch, t, t + 480}), t += 480;
  return notes;
}

TEST(MelodyMidi, TheTrackNamedMelodyIsTheMelodyWhateverItsPlace) {
  test::TemporaryFolder directory("harmonize-midi-tracks");
  // Written as: conductor 0, Piano 1, melody 2, Bridge 3, Chords 4.
  const std::string path = write_file(directory.file("named.mid"),
                                      {midi_track("Piano", {{36, 0, 1920}}), midi_track("melody", arpeggio(0)),
                                       midi_track("Bridge", {{C5, 960, 1440}}, 1), midi_track("Chords", {{48, 0, 1920}}, 2)});
  const MelodyMidi melody = read_melody_midi(path);
  EXPECT_EQ(melody.melody_track, 2);
  EXPECT_EQ(melody.melody_track_name, "melody");
  EXPECT_EQ(melody.bridge_track, 3);
  EXPECT_EQ(melody.chord_track, 4);
  EXPECT_EQ(melody.melody.size(), 4u);
  EXPECT_EQ(melody.bridge.size(), 1u);
  EXPECT_EQ(melody.num_ticks, kBar);
  EXPECT_NEAR(melody.bpm(), 100.0, 1e-9);
  EXPECT_TRUE(melody.warnings.empty());

  // --track by name and by index win over the MELODY name.
  EXPECT_EQ(read_melody_midi(path, "PIANO").melody_track, 1);
  EXPECT_EQ(read_melody_midi(path, "1").melody_track, 1);
  const MelodyMidi bridge_as_melody = read_melody_midi(path, "bridge");
  EXPECT_EQ(bridge_as_melody.melody_track, 3);
  EXPECT_EQ(bridge_as_melody.bridge_track, -1) << "one track is not both melody and bridge";
}

TEST(MelodyMidi, WithoutAMelodyTrackTheFirstTrackWithNotesThatIsNotBridgeOrChords) {
  test::TemporaryFolder directory("harmonize-midi-first");
  const std::string path = write_file(directory.file("first.mid"), {midi_track("Bridge", {{C5, 0, 480}}),
                                                                    midi_track("", {}), midi_track("Lead", arpeggio(0)),
                                                                    midi_track("Strings", {{48, 0, 1920}})});
  const MelodyMidi melody = read_melody_midi(path);
  EXPECT_EQ(melody.melody_track, 3);  // conductor 0, Bridge 1, '' 2 (no notes), Lead 3
  EXPECT_EQ(melody.melody_track_name, "Lead");
  EXPECT_EQ(melody.bridge_track, 1);
  expect_error_message([&] { read_melody_midi(path, "Violin"); }, {path, "Violin", "'Lead' (4 notes)"});
  expect_error_message([&] { read_melody_midi(path, "9"); }, {path, "--track 9", "0..4"});
  expect_error_message([&] { read_melody_midi(path, "2"); }, {path, "has no notes"});
}

TEST(MelodyMidi, QuantizesToTheGridAndStartsAtTheBarOfTheFirstNote) {
  test::TemporaryFolder directory("harmonize-midi-grid");
  // At 480 per quarter a grid tick is 30 MIDI ticks; the melody starts in bar 2 (MIDI tick 3840).
  const int64_t bar2 = 2 * 1920;
  const std::string path = write_file(directory.file("grid.mid"),
                                      {midi_track("MELODY", {{C4, bar2 + 15, bar2 + 45},       // 0.5 -> 0, 1.5 -> 2
                                                             {D4, bar2 + 75, bar2 + 105},      // 2.5 -> 2, 3.5 -> 4
                                                             {E4, bar2 + 100, bar2 + 110},     // 3.33 -> 3, 3.67 -> 4
                                                             {F4, bar2 + 200, bar2 + 205},     // 6.67, 6.83: both 7, vanishes
                                                             {G4, bar2 + 960, bar2 + 1440}})});
  const MelodyMidi melody = read_melody_midi(path);
  EXPECT_EQ(melody.origin, 2 * kBar);
  ASSERT_EQ(melody.melody.size(), 4u) << "the note that rounds to zero ticks is dropped";
  EXPECT_EQ(melody.melody[0].start, 0);
  EXPECT_EQ(melody.melody[0].end, 2);
  EXPECT_EQ(melody.melody[1].start, 2);
  EXPECT_EQ(melody.melody[1].end, 4);
  EXPECT_EQ(melody.melody[2].start, 3);
  EXPECT_EQ(melody.melody[3].start, 2 * kQuarter);
  EXPECT_EQ(melody.num_ticks, 3 * kQuarter);
  // The same rounding as the POP909 loader's (data/quantize.hpp).
  EXPECT_EQ(data::quantize_tick(bar2 + 15, 480), 2 * kBar);
  EXPECT_EQ(data::quantize_tick(45, 480), 2);
  EXPECT_EQ(data::quantize_tick(75, 480), 2);
  EXPECT_EQ(data::quantize_tick(7, 960), 0);

  const Tensor rows = melody_input_rows(melody);
  EXPECT_EQ(rows.shape(), (Shape{3 * kQuarter, 256}));
  EXPECT_EQ(rows.at({0, C4}), 1.0);
  EXPECT_EQ(rows.at({2, C4}), 0.0);
  EXPECT_EQ(rows.at({3, E4}), 1.0);
  EXPECT_EQ(rows.at({40, 128 + G4}), 0.0);  // no bridge
}

TEST(MelodyMidi, ClearErrorsForMissingMalformedAndSilentFiles) {
  test::TemporaryFolder directory("harmonize-midi-errors");
  expect_error_message([&] { read_melody_midi(directory.file("absent.mid")); }, {directory.file("absent.mid"), "cannot open"});

  const std::string garbage = directory.file("garbage.mid");
  std::ofstream(garbage) << "this is not a MIDI file at all";
  expect_error_message([&] { read_melody_midi(garbage); }, {garbage});

  const std::string silent = write_file(directory.file("silent.mid"), {midi_track("MELODY", {})});
  expect_error_message([&] { read_melody_midi(silent); }, {silent, "no notes"});

  const std::string tiny_notes = write_file(directory.file("tiny.mid"), {midi_track("MELODY", {{C4, 0, 10}, {E4, 40, 44}})});
  expect_error_message([&] { read_melody_midi(tiny_notes); }, {tiny_notes, "no notes", "none lasting"});
}

TEST(MelodyMidi, NonFourFourWarnsAndProceeds) {
  test::TemporaryFolder directory("harmonize-midi-meter");
  const std::string path = write_file(directory.file("waltz.mid"), {midi_track("MELODY", arpeggio(0))}, 3);
  const MelodyMidi melody = read_melody_midi(path);
  ASSERT_EQ(melody.warnings.size(), 1u);
  EXPECT_NE(melody.warnings[0].find("3/4"), std::string::npos) << melody.warnings[0];
  EXPECT_NE(melody.warnings[0].find("as if the file were in 4/4"), std::string::npos) << melody.warnings[0];
  EXPECT_NE(melody.warnings[0].find(path), std::string::npos) << melody.warnings[0];
  EXPECT_EQ(melody.melody.size(), 4u);
  EXPECT_EQ(melody.time_signature.numerator, 3);
}

// ---- the model ------------------------------------------------------------------------------------------

// The shared tiny model with windows of 64 steps.
HarmonizationConfig tiny_config(const std::string& pe, const std::string& context) {
  HarmonizationConfig config = test::tiny_config(pe, context);
  config.sequence_length = 64;
  config.eval_sequence_length = 64;
  return config;
}

// A run directory holding an untrained model's checkpoint, as `stripes train` writes it.
void write_untrained_run(const std::string& run_dir, const HarmonizationConfig& config) {
  fs::create_directories(run_dir);
  HarmonizationModel model(config);
  nlohmann::json json;
  to_json(json, config);
  nn::save_checkpoint((fs::path(run_dir) / "checkpoint.h5").string(), model, nullptr, {}, {}, {{"harmonization", json}});
}

TEST(HarmonizeMidiModel, WindowPositionsAreComputedWithinTheWindow) {
  const data::ContextEncoder encoder(hand_made_chords());
  const std::vector<int32_t> chord_ids = {5, 5, 9, 9, 3, 3};
  const data::Key key = make_key(0, false);
  const Tensor time = window_positions(encoder, data::ContextType::kTime, chord_ids, key, 2, 4);
  EXPECT_EQ(time.to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
  const Tensor rep = window_positions(encoder, data::ContextType::kRep, chord_ids, key, 2, 4);
  EXPECT_EQ(rep.to_vector<float>(), (std::vector<float>{1, 1, 0, 0}));
  EXPECT_EQ(window_positions(encoder, data::ContextType::kBin, chord_ids, key, 0, 6).shape(), (Shape{6, 12}));
  expect_error_message([&] { window_positions(encoder, data::ContextType::kMcp, chord_ids, key, 0, 6); },
                       {"MCP", "phrase labels"});
}

TEST(HarmonizeMidiModel, SongLogitsAreTheModelRunOnConsecutiveWindows) {
  const data::ContextEncoder encoder(hand_made_chords());
  HarmonizationModel model(tiny_config("ropepool", "REP"));
  model.eval();
  Generator generator(11);
  const Tensor input = Tensor::bernoulli({40, 256}, 0.05, generator);
  std::vector<int32_t> chord_ids(40);
  for (size_t t = 0; t < chord_ids.size(); ++t) chord_ids[t] = int32_t(1 + (t / 8) % 5);
  const data::Key key = make_key(0, false);
  const Tensor logits = song_logits(model, encoder, input, chord_ids, key, 16);  // windows 0-15, 16-31, 32-39
  ASSERT_EQ(logits.shape(), (Shape{40, 384}));
  for (const auto& [begin, length] : std::vector<std::pair<int64_t, int64_t>>{{0, 16}, {16, 16}, {32, 8}}) {
    const Tensor expected =
        model.forward(input.slice(0, begin, begin + length).contiguous().unsqueeze(0),
                      window_positions(encoder, data::ContextType::kRep, chord_ids, key, begin, length).unsqueeze(0))
            .value()
            .select(0, 0);
    EXPECT_EQ(max_abs(sub(logits.slice(0, begin, begin + length).contiguous(), expected.contiguous())), 0.0) << begin;
  }
  // One window over the whole song sees other REP ranks, so its logits differ: the split matters.
  EXPECT_GT(max_abs(sub(song_logits(model, encoder, input, chord_ids, key, 40), logits)), 0.0);
}

TEST(HarmonizeMidiModel, WrongModelKindAndMcpContextAreClearErrors) {
  test::TemporaryFolder directory("harmonize-midi-kinds");
  // A checkpoint of something else: parameters, but no 'harmonization' config.
  const std::string other = directory.file("other-run");
  fs::create_directories(other);
  HarmonizationModel model(tiny_config("ropepool", "BIN"));
  nn::save_checkpoint((fs::path(other) / "checkpoint.h5").string(), model, nullptr, {}, {}, {{"toy", {{"task", "copy"}}}});
  expect_error_message([&] { load_run_model(other); }, {"checkpoint.h5", "not a harmonization checkpoint"});
  expect_error_message([&] { load_run_model(directory.file("no-such-run")); }, {"no-such-run", "not a run directory"});

  HarmonizationConfig mcp = tiny_config("fstripe", "MCP");
  HarmonizationModel mcp_model(mcp);
  const data::ContextEncoder encoder(hand_made_chords());
  const std::string path = write_file(directory.file("m.mid"), {midi_track("MELODY", arpeggio(0))});
  expect_error_message([&] { harmonize_midi_file(mcp_model, encoder, path); }, {"MCP", "phrase labels", "BIN"});
}

TEST(HarmonizeMidiModel, RunBinarizationFromMetricsJson) {
  test::TemporaryFolder directory("harmonize-midi-binarization");
  const auto write_metrics = [&](const std::string& text) { std::ofstream(directory.file("metrics.json")) << text; };
  EXPECT_EQ(read_run_binarization(directory.path()).config, (metrics::BinarizationConfig{0.5, 0}));
  EXPECT_EQ(read_run_binarization(directory.path()).source, "default");

  write_metrics(R"({"in_domain": {"CS": 1, "binarization": {"threshold": 0.4, "max_merged_gap": 6}},
                    "binarization": {"threshold": 0.8, "max_merged_gap": 2}})");
  RunBinarization read = read_run_binarization(directory.path());
  EXPECT_EQ(read.config, (metrics::BinarizationConfig{0.4, 6}));
  EXPECT_NE(read.source.find("in_domain.binarization"), std::string::npos) << read.source;

  write_metrics(R"({"length_generalization": {"binarization": {"threshold": 0.2, "max_merged_gap": 0}},
                    "binarization": {"threshold": 0.8, "max_merged_gap": 2}})");
  EXPECT_EQ(read_run_binarization(directory.path()).config, (metrics::BinarizationConfig{0.2, 0}));

  write_metrics(R"({"in_domain": {"CS": 1}, "binarization": {"threshold": 0.6, "max_merged_gap": 3}})");
  read = read_run_binarization(directory.path());
  EXPECT_EQ(read.config, (metrics::BinarizationConfig{0.6, 3}));
  EXPECT_NE(read.source.find("(binarization)"), std::string::npos) << read.source;

  write_metrics(R"({"binarization": {"threshold": "high"}})");
  expect_error_message([&] { read_run_binarization(directory.path()); }, {"metrics.json", "binarization.threshold"});
  write_metrics("{ not json");
  expect_error_message([&] { read_run_binarization(directory.path()); }, {"metrics.json", "not valid JSON"});
}

TEST(HarmonizeMidiModel, EndToEndWithAnUntrainedModelAndAHandMadeChordDatabase) {
  test::TemporaryFolder directory("harmonize-midi-e2e");
  const std::string run = directory.file("run");
  write_untrained_run(run, tiny_config("ropepool", "BIN"));
  const std::shared_ptr<HarmonizationModel> model = load_run_model(run);
  const data::ContextEncoder encoder(hand_made_chords());

  // Bars 1-3 (bar 0 empty): C-E-G-C, F-A-C-F, G-B-D-G; a bridge E in bar 1.
  std::vector<std::array<int64_t, 3>> notes;
  int64_t t = 1920;
  for (int pitch : {C4, E4, G4, C5, F4, A4, C5, F4, G4, B4, D4, G4}) notes.push_back({pitch, t, t + 480}), t += 480;
  const std::string path = write_file(directory.file("song.mid"), {midi_track("MELODY", notes),
                                                                   midi_track("BRIDGE", {{E4 + 12, 1920, 2400}}, 1)});
  MidiHarmonizeOptions options;
  options.binarization = {0.5, 0};
  const MidiHarmonizeResult result = harmonize_midi_file(*model, encoder, path, options);

  EXPECT_EQ(result.input.origin, kBar);
  EXPECT_EQ(result.input.num_ticks, 3 * kBar);
  EXPECT_EQ(result.sequence_length, 64);
  EXPECT_EQ(result.windows, 3);
  EXPECT_EQ(result.key.name, "C:maj");
  EXPECT_TRUE(result.key_estimated);
  EXPECT_EQ(result.chord_source, ChordSource::kMelody);
  ASSERT_EQ(result.chord_ids.size(), size_t(3 * kBar));
  EXPECT_EQ(chord_name(encoder.chords().chord(result.chord_ids[0])), "C:maj");
  EXPECT_EQ(chord_name(encoder.chords().chord(result.chord_ids[kBar])), "F:maj");
  EXPECT_EQ(chord_name(encoder.chords().chord(result.chord_ids[2 * kBar])), "G:maj");

  const std::string out = directory.file("out.mid");
  midi::write_midi(result.midi, out);
  const midi::MidiFile back = midi::read_midi(out);
  EXPECT_EQ(back.ticks_per_quarter, 16);
  ASSERT_EQ(back.tempos.size(), 1u);
  EXPECT_EQ(back.tempos[0].microseconds_per_quarter, 600000);
  const int melody = back.find_track("MELODY"), bridge = back.find_track("BRIDGE"), piano = back.find_track("PIANO"),
            chords = back.find_track("CHORDS (estimated)");
  ASSERT_GE(melody, 0);
  ASSERT_GE(bridge, 0);
  ASSERT_GE(piano, 0);
  ASSERT_GE(chords, 0);
  EXPECT_EQ(back.tracks[size_t(melody)].notes.size(), 12u);
  EXPECT_EQ(back.tracks[size_t(melody)].notes.front().start_tick, kBar) << "output ticks are the input's";
  EXPECT_EQ(back.tracks[size_t(chords)].notes.size(), 9u);  // three triads
  EXPECT_EQ(back.tracks[size_t(chords)].notes.front().pitch, 48);  // C3, the root of C:maj
  // An untrained model's logits are near 0, so at threshold 0.5 it plays; every note lies on the
  // melody's span, shifted by the one tick of the next-tick target.
  const std::vector<midi::Note>& piano_notes = back.tracks[size_t(piano)].notes;
  EXPECT_EQ(int64_t(piano_notes.size()), result.piano_notes);
  ASSERT_GT(piano_notes.size(), 0u);
  for (const midi::Note& note : piano_notes) {
    EXPECT_GE(note.start_tick, kBar + 1);
    EXPECT_LE(note.end_tick, kBar + 3 * kBar + 1);
  }

  // A key given on the command line is used as is; --chords none gives no CHORDS track.
  options.key = make_key(7, false);
  options.chords = ChordSource::kNone;
  const MidiHarmonizeResult keyed = harmonize_midi_file(*model, encoder, path, options);
  EXPECT_EQ(keyed.key.name, "G:maj");
  EXPECT_FALSE(keyed.key_estimated);
  EXPECT_EQ(keyed.midi.find_track("CHORDS (estimated)"), -1);
  EXPECT_EQ(keyed.chord_ids, std::vector<int32_t>(size_t(3 * kBar), encoder.chords().no_chord_id()));
  options.chords = ChordSource::kTrack;
  expect_error_message([&] { harmonize_midi_file(*model, encoder, path, options); }, {path, "CHORD"});
}

// ---- with data ------------------------------------------------------------------------------------------------

// The melody estimate against POP909's annotated chords, on the validation songs (where the
// defaults were chosen; chord_estimation.hpp has the test split's numbers): it must agree far more
// often than the tonic triad everywhere would.
TEST(ChordEstimationPop909, AgreesWithTheAnnotatedChordsFarAboveTheTonicBaseline) {
  SKIP_WITHOUT_DATA(root);
  const data::Pop909Catalog catalog = data::load_pop909_catalog(root);
  int64_t ticks = 0, same_chord = 0, same_root = 0, tonic_root = 0;
  for (const data::SongSplit& entry : catalog.splits) {
    if (entry.split != data::Split::kValidation) continue;
    const data::Pop909Song song = data::load_pop909_song(catalog, entry.song_id);
    // Segments of the estimate start on the annotation grid: pad the song so that the annotation
    // start falls on a multiple of two beats.
    const int64_t pad = ((2 * kQuarter - song.start_position % (2 * kQuarter)) % (2 * kQuarter) + 2 * kQuarter) % (2 * kQuarter);
    std::vector<data::GridNote> notes;
    for (const data::SongNote& note : song.notes) {
      if (note.track < 2 && note.end > note.start) notes.push_back(grid_note(note.pitch, note.start + pad, note.end + pad));
    }
    const std::vector<int32_t> row = estimate_chords_from_melody(notes, song.num_ticks + pad, song.key, catalog.chords);
    for (int64_t t = 0; t < song.num_ticks; ++t) {
      const int32_t annotated = song.chord_ids[size_t(t)];
      if (annotated == catalog.chords.no_chord_id()) continue;
      const int32_t estimated = row[size_t(t + pad)];
      ++ticks;
      same_chord += estimated == annotated;
      same_root += catalog.chords.chord(estimated).root_plus_one == catalog.chords.chord(annotated).root_plus_one;
      tonic_root += catalog.chords.chord(annotated).root_plus_one == song.key.tonic + 1;
    }
  }
  ASSERT_GT(ticks, 100000);
  const double chord_rate = double(same_chord) / double(ticks), root_rate = double(same_root) / double(ticks),
               tonic_rate = double(tonic_root) / double(ticks);
  EXPECT_GT(chord_rate, 0.32) << "measured 0.347 when the defaults were chosen";
  EXPECT_GT(root_rate, 0.40) << "measured 0.425";
  EXPECT_GT(root_rate, tonic_rate + 0.1) << "tonic baseline " << tonic_rate;
}

// ---- with data: a briefly trained model through the `stripes` program --------------------------------------

#ifdef STRIPES_BINARY
TEST(HarmonizeMidiCli, ModeAndModelErrors) {
  test::TemporaryFolder directory("harmonize-midi-cli");
  auto [code, output] = run_stripes("harmonize", directory.path());
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("--song ID"), std::string::npos) << output;

  std::tie(code, output) = run_stripes("harmonize a.mid --song 1", directory.path());
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("not both"), std::string::npos) << output;

  std::tie(code, output) = run_stripes("harmonize missing.mid", directory.path());
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("missing.mid: no such file"), std::string::npos) << output;

  // No --model and no runs/quickstart/ropepool-bin-s0 here: the error says how to train one.
  const std::string path = write_file(directory.file("m.mid"), {midi_track("MELODY", arpeggio(0))});
  std::tie(code, output) = run_stripes("harmonize m.mid", directory.path());
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("runs/quickstart/ropepool-bin-s0"), std::string::npos) << output;
  EXPECT_NE(output.find("stripes train --pe ropepool --context bin --preset small"), std::string::npos) << output;

  std::tie(code, output) = run_stripes("harmonize m.mid --chords guess --model x", directory.path());
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("auto, track, melody or none"), std::string::npos) << output;
}

TEST(HarmonizeMidiCli, BrieflyTrainedModelHarmonizesAMidiFile) {
  SKIP_WITHOUT_DATA(root);
  // A few training steps on two songs: enough to write a real checkpoint.
  const data::Pop909Catalog catalog = data::load_pop909_catalog(root);
  auto songs = std::make_shared<std::vector<data::Pop909Song>>();
  for (const data::SongSplit& entry : catalog.splits) {
    if (entry.split == data::Split::kTrain && songs->size() < 2) songs->push_back(data::load_pop909_song(catalog, entry.song_id));
  }
  HarmonizationData data;
  data.songs = songs;
  data.encoder = std::make_shared<const data::ContextEncoder>(catalog.chords);
  HarmonizationConfig config = tiny_config("ropepool", "BIN");
  config.batch_size = 2;
  config.max_train_windows = 4;
  config.steps = 4;
  config.curriculum_ramp_steps = 0;
  test::TemporaryFolder directory("harmonize-midi-trained");
  TrainRunOptions train;
  train.run_dir = directory.file("run");
  train.progress = false;
  train_harmonization(config, data, train);
  std::ofstream(directory.file("run/metrics.json")) << R"({"in_domain": {"binarization": {"threshold": 0.45, "max_merged_gap": 2}}})";

  std::vector<std::array<int64_t, 3>> notes;
  int64_t t = 0;
  for (int pitch : {C4, E4, G4, C5, F4, A4, C5, F4, G4, B4, D4, G4, E4, D4, C4, C4}) notes.push_back({pitch, t, t + 480}), t += 480;
  const std::string path = write_file(directory.file("tune.mid"), {midi_track("Voice", notes)}, 3);
  auto [code, output] = run_stripes(fmt::format("harmonize tune.mid --model run --data '{}'", root), directory.path());
  ASSERT_EQ(code, 0) << output;
  EXPECT_NE(output.find("warning:"), std::string::npos) << output;  // 3/4
  EXPECT_NE(output.find("4 bars"), std::string::npos) << output;
  EXPECT_NE(output.find("key: C:maj (estimated"), std::string::npos) << output;
  EXPECT_NE(output.find("estimated from the melody"), std::string::npos) << output;
  EXPECT_NE(output.find("4 windows of T = 64"), std::string::npos) << output;
  EXPECT_NE(output.find("threshold 0.45 + merge"), std::string::npos) << output;
  const midi::MidiFile back = midi::read_midi(directory.file("tune-harmonized.mid"));
  EXPECT_GE(back.find_track("MELODY"), 0);
  EXPECT_GE(back.find_track("PIANO"), 0);
  EXPECT_GE(back.find_track("CHORDS (estimated)"), 0);
  EXPECT_EQ(back.find_track("BRIDGE"), -1);
  EXPECT_EQ(back.tracks[size_t(back.find_track("MELODY"))].notes.size(), notes.size());
  for (const midi::Note& note : back.tracks[size_t(back.find_track("PIANO"))].notes) {
    EXPECT_GE(note.start_tick, 1);
    EXPECT_LE(note.end_tick, 4 * kBar + 1);
  }
}
#endif

}  // namespace
}  // namespace stripes::harmonization
