// Tests for the Standard MIDI File reader and writer (data/midi/midi_file.hpp).
//
//   * hand-built byte arrays for each feature of the format the reader must handle;
//   * the note-pairing rules (velocity-0 note-off, re-trigger, zero-length notes);
//   * writer -> reader round trips, formats 0 and 1;
//   * every kind of malformed input throws stripes::Error naming the source and the byte offset;
//   * real files from POP909 (skipped with a message when the data set is absent);
//   * a fuzz-style loop over thousands of corrupted files: each parse succeeds or throws
//     stripes::Error, and whatever parses also survives a write/read round trip.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <unistd.h>

#include "data/midi/midi_file.hpp"
#include "tensor/error.hpp"

namespace stripes::midi {
namespace {

using Bytes = std::vector<uint8_t>;

// ---- building files by hand -------------------------------------------------------------------

void append_variable_length_quantity(Bytes& out, uint32_t value) {
  Bytes groups;
  do {
    groups.push_back(static_cast<uint8_t>(value & 0x7F));
    value >>= 7;
  } while (value != 0);
  for (size_t i = groups.size(); i-- > 0;) out.push_back(static_cast<uint8_t>(groups[i] | (i > 0 ? 0x80 : 0)));
}

void append_u32(Bytes& out, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

Bytes header_chunk(int format, int track_count, int ticks_per_quarter) {
  Bytes out = {'M', 'T', 'h', 'd', 0, 0, 0, 6};
  out.push_back(static_cast<uint8_t>(format >> 8));
  out.push_back(static_cast<uint8_t>(format));
  out.push_back(static_cast<uint8_t>(track_count >> 8));
  out.push_back(static_cast<uint8_t>(track_count));
  out.push_back(static_cast<uint8_t>(ticks_per_quarter >> 8));
  out.push_back(static_cast<uint8_t>(ticks_per_quarter));
  return out;
}

Bytes track_chunk(const Bytes& events) {
  Bytes out = {'M', 'T', 'r', 'k'};
  append_u32(out, static_cast<uint32_t>(events.size()));
  out.insert(out.end(), events.begin(), events.end());
  return out;
}

// A file with the given header and one track chunk per entry of `tracks` (event bytes).
Bytes midi_file_bytes(int format, int ticks_per_quarter, const std::vector<Bytes>& tracks) {
  Bytes out = header_chunk(format, static_cast<int>(tracks.size()), ticks_per_quarter);
  for (const Bytes& events : tracks) {
    const Bytes chunk = track_chunk(events);
    out.insert(out.end(), chunk.begin(), chunk.end());
  }
  return out;
}

// Event-list builder: event(delta, {bytes...}).
struct Events {
  Bytes bytes;
  Events& event(uint32_t delta, std::initializer_list<uint8_t> message) {
    append_variable_length_quantity(bytes, delta);
    bytes.insert(bytes.end(), message);
    return *this;
  }
  Events& end_of_track(uint32_t delta = 0) { return event(delta, {0xFF, 0x2F, 0x00}); }
};

Note note(int track, int channel, int pitch, int velocity, int64_t start, int64_t end) {
  return Note{track, channel, pitch, velocity, start, end};
}

// ---- comparing ----------------------------------------------------------------------------------

std::string describe(const Note& n) {
  return fmt::format("(track {}, channel {}, pitch {}, velocity {}, ticks {}..{})", n.track, n.channel, n.pitch,
                     n.velocity, n.start_tick, n.end_tick);
}

bool same_note(const Note& a, const Note& b) {
  return std::tie(a.track, a.channel, a.pitch, a.velocity, a.start_tick, a.end_tick) ==
         std::tie(b.track, b.channel, b.pitch, b.velocity, b.start_tick, b.end_tick);
}

::testing::AssertionResult notes_equal(const std::vector<Note>& expected, const std::vector<Note>& actual) {
  for (size_t i = 0; i < std::min(expected.size(), actual.size()); ++i) {
    if (!same_note(expected[i], actual[i])) {
      return ::testing::AssertionFailure()
             << "note " << i << ": expected " << describe(expected[i]) << ", got " << describe(actual[i]);
    }
  }
  if (expected.size() != actual.size()) {
    return ::testing::AssertionFailure() << "expected " << expected.size() << " notes, got " << actual.size();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult files_equal(const MidiFile& expected, const MidiFile& actual) {
  if (expected.format != actual.format) {
    return ::testing::AssertionFailure() << "format " << expected.format << " vs " << actual.format;
  }
  if (expected.ticks_per_quarter != actual.ticks_per_quarter) {
    return ::testing::AssertionFailure() << "ticks_per_quarter " << expected.ticks_per_quarter << " vs "
                                         << actual.ticks_per_quarter;
  }
  if (expected.end_tick != actual.end_tick) {
    return ::testing::AssertionFailure() << "end_tick " << expected.end_tick << " vs " << actual.end_tick;
  }
  if (expected.tracks.size() != actual.tracks.size()) {
    return ::testing::AssertionFailure() << expected.tracks.size() << " tracks vs " << actual.tracks.size();
  }
  for (size_t t = 0; t < expected.tracks.size(); ++t) {
    if (expected.tracks[t].name != actual.tracks[t].name) {
      return ::testing::AssertionFailure() << "track " << t << " name '" << expected.tracks[t].name << "' vs '"
                                           << actual.tracks[t].name << "'";
    }
    auto result = notes_equal(expected.tracks[t].notes, actual.tracks[t].notes);
    if (!result) return ::testing::AssertionFailure() << "track " << t << ": " << result.message();
  }
  if (expected.tempos.size() != actual.tempos.size()) {
    return ::testing::AssertionFailure() << expected.tempos.size() << " tempos vs " << actual.tempos.size();
  }
  for (size_t i = 0; i < expected.tempos.size(); ++i) {
    if (expected.tempos[i].tick != actual.tempos[i].tick ||
        expected.tempos[i].microseconds_per_quarter != actual.tempos[i].microseconds_per_quarter) {
      return ::testing::AssertionFailure() << "tempo " << i << " differs";
    }
  }
  if (expected.time_signatures.size() != actual.time_signatures.size()) {
    return ::testing::AssertionFailure() << expected.time_signatures.size() << " time signatures vs "
                                         << actual.time_signatures.size();
  }
  for (size_t i = 0; i < expected.time_signatures.size(); ++i) {
    const TimeSignature& a = expected.time_signatures[i];
    const TimeSignature& b = actual.time_signatures[i];
    if (a.tick != b.tick || a.numerator != b.numerator || a.denominator != b.denominator) {
      return ::testing::AssertionFailure() << "time signature " << i << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// The order the reader gives Track::notes.
void sort_notes(std::vector<Note>& notes) {
  std::sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.start_tick, a.pitch, a.channel, a.end_tick, a.velocity, a.track) <
           std::tie(b.start_tick, b.pitch, b.channel, b.end_tick, b.velocity, b.track);
  });
}

// Runs `parse` expecting a stripes::Error whose message contains every one of `fragments`.
template <typename Function>
::testing::AssertionResult throws_error_containing(Function parse, const std::vector<std::string>& fragments) {
  try {
    parse();
  } catch (const stripes::Error& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      if (message.find(fragment) == std::string::npos) {
        return ::testing::AssertionFailure() << "error message \"" << message << "\" lacks \"" << fragment << "\"";
      }
    }
    return ::testing::AssertionSuccess() << message;
  } catch (const std::exception& other) {
    return ::testing::AssertionFailure() << "threw a non-stripes exception: " << other.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// ---- reading hand-built files ------------------------------------------------------------------

TEST(MidiRead, MinimalFormat0File) {
  const Bytes bytes = midi_file_bytes(0, 96, {Events()
                                                  .event(0, {0xFF, 0x03, 4, 'L', 'e', 'a', 'd'})
                                                  .event(0, {0x90, 60, 100})
                                                  .event(96, {0x80, 60, 64})
                                                  .end_of_track()
                                                  .bytes});
  const MidiFile file = parse_midi(bytes, "minimal.mid");
  EXPECT_EQ(file.format, 0);
  EXPECT_EQ(file.ticks_per_quarter, 96);
  ASSERT_EQ(file.tracks.size(), 1u);
  EXPECT_EQ(file.tracks[0].name, "Lead");
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 100, 0, 96)}, file.tracks[0].notes));
  EXPECT_EQ(file.end_tick, 96);
  EXPECT_TRUE(file.tempos.empty());
  EXPECT_EQ(file.note_count(), 1u);
}

TEST(MidiRead, RunningStatusAndVelocityZeroNoteOff) {
  // One 0x93 status byte (channel 3) for six events; note-offs are note-ons with velocity 0.
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x93, 60, 90})
                                                   .event(0, {64, 91})
                                                   .event(240, {60, 0})
                                                   .event(0, {67, 92})
                                                   .event(240, {64, 0})
                                                   .event(0, {67, 0})
                                                   .end_of_track()
                                                   .bytes});
  const MidiFile file = parse_midi(bytes);
  ASSERT_EQ(file.tracks.size(), 1u);
  EXPECT_TRUE(notes_equal({note(0, 3, 60, 90, 0, 240), note(0, 3, 64, 91, 0, 480), note(0, 3, 67, 92, 240, 480)},
                          file.tracks[0].notes));
}

TEST(MidiRead, RunningStatusSurvivesOneDataByteMessagesAndMetaEvents) {
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0xC1, 5})     // program change: 1 data byte
                                                   .event(0, {7})           // running status program change
                                                   .event(0, {0xD1, 40})    // channel pressure: 1 data byte
                                                   .event(0, {0xB1, 7, 100})  // control change: 2
                                                   .event(0, {0xE1, 0, 64})   // pitch bend: 2
                                                   .event(0, {0xA1, 60, 10})  // poly pressure: 2
                                                   .event(0, {0x91, 60, 80})
                                                   .event(0, {0xFF, 0x01, 2, 'h', 'i'})  // text meta
                                                   .event(10, {60, 0})  // running status kept after meta
                                                   .end_of_track()
                                                   .bytes});
  const MidiFile file = parse_midi(bytes);
  EXPECT_TRUE(notes_equal({note(0, 1, 60, 80, 0, 10)}, file.tracks[0].notes));
}

TEST(MidiRead, SysexEventsAreSkipped) {
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0xF0, 5, 0x7E, 0x7F, 0x09, 0x01, 0xF7})
                                                   .event(0, {0x90, 62, 70})
                                                   .event(0, {0xF7, 2, 0x43, 0xF7})  // escape/continuation
                                                   .event(120, {0x80, 62, 0})
                                                   .end_of_track()
                                                   .bytes});
  const MidiFile file = parse_midi(bytes);
  EXPECT_TRUE(notes_equal({note(0, 0, 62, 70, 0, 120)}, file.tracks[0].notes));
}

TEST(MidiRead, TempoAndTimeSignatureValues) {
  // Conductor track: 0x07A120 = 500000 us (120 BPM) at 0; 3/4 at 0; 0x0A2C2B = 666667 us (90 BPM)
  // and 6/8 at 1920. Unknown meta events (key signature 0x59, marker 0x06) are skipped.
  const Bytes conductor = Events()
                              .event(0, {0xFF, 0x51, 3, 0x07, 0xA1, 0x20})
                              .event(0, {0xFF, 0x58, 4, 3, 2, 24, 8})
                              .event(0, {0xFF, 0x59, 2, 0, 0})
                              .event(1920, {0xFF, 0x51, 3, 0x0A, 0x2C, 0x2B})
                              .event(0, {0xFF, 0x58, 4, 6, 3, 24, 8})
                              .event(0, {0xFF, 0x06, 1, 'A'})
                              .end_of_track()
                              .bytes;
  const Bytes melody = Events()
                           .event(0, {0xFF, 0x03, 6, 'M', 'E', 'L', 'O', 'D', 'Y'})
                           .event(0, {0x90, 72, 100})
                           .event(480, {0x90, 72, 0})
                           .end_of_track(2000)
                           .bytes;
  const MidiFile file = parse_midi(midi_file_bytes(1, 480, {conductor, melody}));
  ASSERT_EQ(file.tempos.size(), 2u);
  EXPECT_EQ(file.tempos[0].tick, 0);
  EXPECT_EQ(file.tempos[0].microseconds_per_quarter, 500000);
  EXPECT_DOUBLE_EQ(file.tempos[0].bpm(), 120.0);
  EXPECT_EQ(file.tempos[1].tick, 1920);
  EXPECT_EQ(file.tempos[1].microseconds_per_quarter, 666667);
  EXPECT_NEAR(file.tempos[1].bpm(), 90.0, 1e-3);
  ASSERT_EQ(file.time_signatures.size(), 2u);
  EXPECT_EQ(file.time_signatures[0].numerator, 3);
  EXPECT_EQ(file.time_signatures[0].denominator, 4);
  EXPECT_EQ(file.time_signatures[1].tick, 1920);
  EXPECT_EQ(file.time_signatures[1].numerator, 6);
  EXPECT_EQ(file.time_signatures[1].denominator, 8);
  ASSERT_EQ(file.tracks.size(), 2u);
  EXPECT_EQ(file.tracks[0].name, "");
  EXPECT_TRUE(file.tracks[0].notes.empty());
  EXPECT_EQ(file.tracks[1].name, "MELODY");
  EXPECT_EQ(file.end_tick, 2480);
  EXPECT_EQ(file.find_track("melody"), 1);
  EXPECT_EQ(file.find_track("MeLoDy"), 1);
  EXPECT_EQ(file.find_track("PIANO"), -1);
}

TEST(MidiRead, TempoEventsOfAllTracksAreMergedAndSorted) {
  const Bytes first = Events().event(100, {0xFF, 0x51, 3, 0x07, 0xA1, 0x20}).end_of_track().bytes;
  const Bytes second = Events().event(50, {0xFF, 0x51, 3, 0x0F, 0x42, 0x40}).end_of_track().bytes;
  const MidiFile file = parse_midi(midi_file_bytes(1, 480, {first, second}));
  ASSERT_EQ(file.tempos.size(), 2u);
  EXPECT_EQ(file.tempos[0].tick, 50);
  EXPECT_EQ(file.tempos[0].microseconds_per_quarter, 1000000);
  EXPECT_EQ(file.tempos[1].tick, 100);
}

TEST(MidiRead, NonDefaultTicksPerQuarter) {
  for (int ticks_per_quarter : {1, 24, 96, 192, 960, 0x7FFF}) {
    const Bytes bytes = midi_file_bytes(
        0, ticks_per_quarter,
        {Events().event(0, {0x90, 60, 1}).event(static_cast<uint32_t>(ticks_per_quarter), {0x80, 60, 0})
             .end_of_track().bytes});
    const MidiFile file = parse_midi(bytes);
    EXPECT_EQ(file.ticks_per_quarter, ticks_per_quarter);
    EXPECT_TRUE(notes_equal({note(0, 0, 60, 1, 0, ticks_per_quarter)}, file.tracks[0].notes));
  }
}

TEST(MidiRead, UnknownChunksAreSkipped) {
  Bytes bytes = header_chunk(0, 1, 480);
  const Bytes unknown = {'X', 'F', 'I', 'H', 0, 0, 0, 3, 1, 2, 3};
  bytes.insert(bytes.end(), unknown.begin(), unknown.end());
  const Bytes track = track_chunk(Events().event(0, {0x90, 60, 9}).event(5, {0x80, 60, 0}).end_of_track().bytes);
  bytes.insert(bytes.end(), track.begin(), track.end());
  const MidiFile file = parse_midi(bytes);
  ASSERT_EQ(file.tracks.size(), 1u);
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 9, 0, 5)}, file.tracks[0].notes));
}

TEST(MidiRead, LongestVariableLengthQuantity) {
  // 0xFF 0xFF 0xFF 0x7F = 0x0FFFFFFF, the largest delta time.
  Bytes events = {0x00, 0x90, 60, 100, 0xFF, 0xFF, 0xFF, 0x7F, 0x80, 60, 0};
  const Bytes end = Events().end_of_track().bytes;
  events.insert(events.end(), end.begin(), end.end());
  const MidiFile file = parse_midi(midi_file_bytes(0, 480, {events}));
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 100, 0, 0x0FFFFFFF)}, file.tracks[0].notes));
}

// ---- note pairing rules ------------------------------------------------------------------------

TEST(MidiNotePairing, NoteOnWhileSoundingRetriggers) {
  // on 0, on 100, off 300, off 400: the first note is cut at 100, the second ends at the first
  // note-off (300); the last note-off finds nothing sounding and is ignored.
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x90, 60, 80})
                                                   .event(100, {0x90, 60, 90})
                                                   .event(200, {0x80, 60, 0})
                                                   .event(100, {0x80, 60, 0})
                                                   .end_of_track()
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 80, 0, 100), note(0, 0, 60, 90, 100, 300)},
                          parse_midi(bytes).tracks[0].notes));
}

TEST(MidiNotePairing, NoteOffWrittenAfterTheRetriggeringNoteOnBelongsToTheCutNote) {
  // A repeated pitch written "on, off" at tick 480 instead of "off, on": two notes, none lost.
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x90, 60, 80})
                                                   .event(480, {0x90, 60, 90})
                                                   .event(0, {0x80, 60, 0})
                                                   .event(480, {0x80, 60, 0})
                                                   .end_of_track()
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 80, 0, 480), note(0, 0, 60, 90, 480, 960)},
                          parse_midi(bytes).tracks[0].notes));
}

TEST(MidiNotePairing, ZeroLengthNotesAreDropped) {
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x90, 60, 80})
                                                   .event(0, {0x90, 60, 0})   // zero length: dropped
                                                   .event(10, {0x90, 62, 80})
                                                   .event(0, {0x90, 62, 81})  // duplicate note-on: first dropped
                                                   .event(10, {0x80, 62, 0})
                                                   .end_of_track()
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 0, 62, 81, 10, 20)}, parse_midi(bytes).tracks[0].notes));
}

TEST(MidiNotePairing, SoundingNotesEndAtEndOfTrackAndStrayNoteOffsAreIgnored) {
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x80, 50, 0})  // nothing sounding
                                                   .event(0, {0x95, 60, 80})
                                                   .event(10, {0x90, 60, 80})  // other channel
                                                   .event(10, {0x95, 61, 70})
                                                   .end_of_track(30)  // ends at 50
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 5, 60, 80, 0, 50), note(0, 0, 60, 80, 10, 50), note(0, 5, 61, 70, 20, 50)},
                          parse_midi(bytes).tracks[0].notes));
}

TEST(MidiNotePairing, ChannelsAndTracksArePairedSeparately) {
  const Bytes a = Events().event(0, {0x90, 60, 10}).event(0, {0x91, 60, 11}).event(5, {0x80, 60, 0})
                      .event(5, {0x81, 60, 0}).end_of_track().bytes;
  const Bytes b = Events().event(3, {0x90, 60, 12}).event(1, {0x80, 60, 0}).end_of_track().bytes;
  const MidiFile file = parse_midi(midi_file_bytes(1, 480, {a, b}));
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 10, 0, 5), note(0, 1, 60, 11, 0, 10)}, file.tracks[0].notes));
  EXPECT_TRUE(notes_equal({note(1, 0, 60, 12, 3, 4)}, file.tracks[1].notes));
}

// ---- first-in-first-out pairing (MidiReadOptions::overlap = kFirstInFirstOut, as muspy) ---------

MidiReadOptions fifo() {
  MidiReadOptions options;
  options.overlap = OverlapPolicy::kFirstInFirstOut;
  return options;
}

TEST(MidiNotePairingFifo, OverlappingNotesEachSoundUntilTheirOwnNoteOff) {
  // on 0, on 100, off 300, off 400: the re-trigger rule gives [0, 100), [100, 300); FIFO gives
  // [0, 300), [100, 400): the first note-off ends the oldest note.
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x90, 60, 80})
                                                   .event(100, {0x90, 60, 90})
                                                   .event(200, {0x80, 60, 0})
                                                   .event(100, {0x80, 60, 0})
                                                   .end_of_track()
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 80, 0, 300), note(0, 0, 60, 90, 100, 400)},
                          parse_midi(bytes, "<memory>", fifo()).tracks[0].notes));
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 80, 0, 100), note(0, 0, 60, 90, 100, 300)}, parse_midi(bytes).tracks[0].notes))
      << "the default stays the re-trigger rule";
}

TEST(MidiNotePairingFifo, NoteOffAfterTheNoteOnAtTheSameTickEndsTheOlderNote) {
  // "on, off" at tick 480 for a repeated pitch: the note-off ends the first note, the second sounds on.
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x90, 60, 80})
                                                   .event(480, {0x90, 60, 90})
                                                   .event(0, {0x80, 60, 0})
                                                   .event(480, {0x80, 60, 0})
                                                   .end_of_track()
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 80, 0, 480), note(0, 0, 60, 90, 480, 960)},
                          parse_midi(bytes, "<memory>", fifo()).tracks[0].notes));
}

TEST(MidiNotePairingFifo, ThreeDeepQueueStrayNoteOffsZeroLengthAndEndOfTrack) {
  const Bytes bytes = midi_file_bytes(0, 480, {Events()
                                                   .event(0, {0x80, 50, 0})      // nothing sounding: ignored
                                                   .event(0, {0x90, 60, 10})     // a
                                                   .event(10, {0x90, 60, 20})    // b
                                                   .event(10, {0x90, 60, 30})    // c
                                                   .event(10, {0x90, 60, 0})     // ends a at 30
                                                   .event(0, {0x90, 61, 40})     // zero length: dropped
                                                   .event(0, {0x80, 61, 0})
                                                   .event(10, {0x91, 60, 50})    // other channel: own queue
                                                   .event(10, {0x80, 60, 0})     // ends b at 50
                                                   .end_of_track(50)             // c and the channel-1 note end at 100
                                                   .bytes});
  EXPECT_TRUE(notes_equal({note(0, 0, 60, 10, 0, 30), note(0, 0, 60, 20, 10, 50), note(0, 0, 60, 30, 20, 100),
                           note(0, 1, 60, 50, 40, 100)},
                          parse_midi(bytes, "<memory>", fifo()).tracks[0].notes));
}

TEST(MidiNotePairingFifo, WrittenFilesReadTheSameUnderBothPolicies) {
  // The writer cuts same-pitch overlaps, so what it writes has none: both policies agree on it.
  MidiFile file;
  file.format = 1;
  file.ticks_per_quarter = 96;
  file.tracks = {Track{"", {}}, Track{"PIANO", {note(1, 0, 60, 80, 0, 300), note(1, 0, 60, 90, 100, 400),
                                                note(1, 0, 62, 70, 96, 192), note(1, 0, 62, 71, 192, 288)}}};
  file.end_tick = 400;
  const Bytes bytes = serialize_midi(file);
  const MidiFile cut = parse_midi(bytes);
  const MidiFile first_in_first_out = parse_midi(bytes, "<memory>", fifo());
  EXPECT_TRUE(files_equal(cut, first_in_first_out));
  EXPECT_TRUE(notes_equal({note(1, 0, 60, 80, 0, 100), note(1, 0, 62, 70, 96, 192), note(1, 0, 60, 90, 100, 400),
                           note(1, 0, 62, 71, 192, 288)},
                          first_in_first_out.tracks[1].notes));
  EXPECT_STREQ(overlap_policy_name(OverlapPolicy::kFirstInFirstOut), "fifo");
  EXPECT_STREQ(overlap_policy_name(OverlapPolicy::kCutAtRetrigger), "cut-at-retrigger");
}

// ---- writing and round trips -------------------------------------------------------------------

// Random notes with no overlaps on one (channel, pitch): such notes round-trip exactly.
std::vector<Note> random_notes(std::mt19937& random, int track, int channel, int count) {
  std::vector<Note> notes;
  std::vector<int64_t> pitch_free_from(128, 0);
  std::uniform_int_distribution<int> pitch(36, 96), velocity(1, 127), step(0, 240), length(1, 960);
  int64_t tick = 0;
  while (static_cast<int>(notes.size()) < count) {
    tick += step(random);
    const int p = pitch(random);
    if (tick < pitch_free_from[p]) continue;  // the pitch is still sounding
    const int64_t end = tick + length(random);
    notes.push_back(note(track, channel, p, velocity(random), tick, end));
    pitch_free_from[p] = end;  // the next note of this pitch may start exactly here
  }
  sort_notes(notes);
  return notes;
}

// A file shaped like the POP909 files: a note-less conductor track, then MELODY, BRIDGE, PIANO.
MidiFile random_song(uint32_t seed) {
  std::mt19937 random(seed);
  MidiFile file;
  file.format = 1;
  file.ticks_per_quarter = 480;
  file.tracks.push_back(Track{"", {}});
  const char* names[] = {"MELODY", "BRIDGE", "PIANO"};
  for (int i = 0; i < 3; ++i) file.tracks.push_back(Track{names[i], random_notes(random, i + 1, i, 300)});
  file.tempos = {{0, 500000}, {4800, 600000}, {4800, 400000}, {9600, 1}};  // two at one tick: order kept
  file.time_signatures = {{0, 4, 4}, {1920, 3, 4}, {3360, 7, 8}, {4200, 255, 1 << 30}};
  for (const Track& track : file.tracks) {
    for (const Note& n : track.notes) file.end_tick = std::max(file.end_tick, n.end_tick);
  }
  file.end_tick += 17;  // trailing silence survives too
  return file;
}

TEST(MidiRoundTrip, Format1WithConductorTrackIsExact) {
  const MidiFile original = random_song(1234);
  const Bytes bytes = serialize_midi(original);
  const MidiFile reread = parse_midi(bytes, "round-trip.mid");
  EXPECT_TRUE(files_equal(original, reread));
  // Chunk for chunk: a second trip gives the same bytes.
  EXPECT_EQ(serialize_midi(reread), bytes);
}

TEST(MidiRoundTrip, Format1WithoutConductorTrackGainsOne) {
  // Three named tracks of notes: the writer puts the tempo map into a conductor chunk in front,
  // which reads back as an empty, nameless track 0; every note's track index moves up by one.
  MidiFile original = random_song(99);
  original.tracks.erase(original.tracks.begin());
  for (Track& track : original.tracks) {
    for (Note& n : track.notes) n.track -= 1;
  }
  ASSERT_EQ(original.tracks[0].name, "MELODY");
  const MidiFile reread = parse_midi(serialize_midi(original));
  MidiFile expected = random_song(99);
  EXPECT_TRUE(files_equal(expected, reread));
  EXPECT_EQ(reread.find_track("melody"), 1);
  EXPECT_EQ(reread.find_track("Bridge"), 2);
  EXPECT_EQ(reread.find_track("piano"), 3);
}

TEST(MidiRoundTrip, Format0MergesEverythingIntoOneTrack) {
  const MidiFile original = random_song(7);
  MidiFile format0 = original;
  format0.format = 0;
  const MidiFile reread = parse_midi(serialize_midi(format0));
  MidiFile expected = original;
  expected.format = 0;
  Track merged{"MELODY", {}};  // the first non-empty name
  for (const Track& track : original.tracks) {
    for (Note n : track.notes) {
      n.track = 0;
      merged.notes.push_back(n);
    }
  }
  sort_notes(merged.notes);
  expected.tracks = {merged};
  EXPECT_TRUE(files_equal(expected, reread));
  // A single-track format-0 file is exact.
  EXPECT_TRUE(files_equal(reread, parse_midi(serialize_midi(reread))));
}

TEST(MidiRoundTrip, RepeatedPitchAtTheSameTickStaysTwoNotes) {
  MidiFile file;
  file.tracks = {Track{"", {}}, Track{"A", {note(1, 0, 60, 10, 0, 480), note(1, 0, 60, 20, 480, 960)}}};
  file.end_tick = 960;
  EXPECT_TRUE(files_equal(file, parse_midi(serialize_midi(file))));
}

TEST(MidiRoundTrip, OverlapsOnOnePitchAreCutByTheRetriggerRule) {
  MidiFile file;
  file.tracks = {Track{"", {}}, Track{"A", {note(1, 0, 60, 10, 0, 100), note(1, 0, 60, 20, 50, 150),
                                           note(1, 0, 60, 30, 50, 120)}}};
  file.end_tick = 150;
  const MidiFile reread = parse_midi(serialize_midi(file));
  // Of the two notes at 50, the longer one (later in (start, end) order) survives.
  EXPECT_TRUE(notes_equal({note(1, 0, 60, 10, 0, 50), note(1, 0, 60, 20, 50, 150)}, reread.tracks[1].notes));
}

TEST(MidiRoundTrip, GapsLongerThanOneDeltaTimeAreBridged) {
  MidiFile file;
  file.tracks = {Track{"", {}}, Track{"A", {note(1, 0, 60, 10, 0, 1), note(1, 0, 61, 10, 1'000'000'000, 1'000'000'001)}}};
  file.end_tick = 3'000'000'000LL;
  EXPECT_TRUE(files_equal(file, parse_midi(serialize_midi(file))));
}

TEST(MidiWrite, InvalidFilesAreRejected) {
  MidiFile file;
  file.tracks = {Track{"", {}}, Track{"A", {note(1, 0, 128, 10, 0, 1)}}};
  EXPECT_TRUE(throws_error_containing([&] { serialize_midi(file); }, {"pitch 128"}));
  file.tracks[1].notes[0] = note(1, 0, 60, 0, 0, 1);
  EXPECT_TRUE(throws_error_containing([&] { serialize_midi(file); }, {"velocity 0"}));
  file.tracks[1].notes[0] = note(1, 0, 60, 10, 5, 5);
  EXPECT_TRUE(throws_error_containing([&] { serialize_midi(file); }, {"end tick 5 is not after start tick 5"}));
  file.tracks[1].notes.clear();
  file.format = 2;
  EXPECT_TRUE(throws_error_containing([&] { serialize_midi(file); }, {"format 2"}));
  file.format = 1;
  file.time_signatures = {{0, 4, 3}};
  EXPECT_TRUE(throws_error_containing([&] { serialize_midi(file); }, {"denominator 3"}));
}

TEST(MidiWrite, WriteAndReadAFile) {
  const MidiFile original = random_song(5);
  const std::string path =
      (std::filesystem::temp_directory_path() / fmt::format("stripes_test_midi_{}.mid", ::getpid())).string();
  write_midi(original, path);
  const MidiFile reread = read_midi(path);
  std::filesystem::remove(path);
  EXPECT_TRUE(files_equal(original, reread));
  EXPECT_TRUE(throws_error_containing([&] { read_midi(path); }, {path, "cannot open"}));
}

// ---- malformed input ---------------------------------------------------------------------------

Bytes valid_file() {
  return midi_file_bytes(0, 480, {Events().event(0, {0x90, 60, 100}).event(480, {0x80, 60, 0}).end_of_track().bytes});
}
// Offsets in valid_file() and in every one-track file below: header chunk at 0..13 (format at 8,
// division at 12), "MTrk" at 14, its length at 18, the first event's delta time at 22.

TEST(MidiMalformed, ZeroLengthFile) {
  EXPECT_TRUE(throws_error_containing([] { parse_midi({}, "empty.mid"); }, {"empty.mid", "byte 0", "MThd", "empty"}));
}

TEST(MidiMalformed, MissingHeaderChunk) {
  Bytes bytes = valid_file();
  bytes[0] = 'R', bytes[1] = 'I', bytes[2] = 'F', bytes[3] = 'F';
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(bytes, "song.mid"); },
                                      {"song.mid: byte 0: expected 'MThd'", "'RIFF'"}));
}

TEST(MidiMalformed, TruncatedFile) {
  const Bytes bytes = valid_file();
  // Inside the header.
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(Bytes(bytes.begin(), bytes.begin() + 10), "t.mid"); },
                                      {"t.mid: byte 10:", "header"}));
  // Right after the header: the declared track chunk is missing.
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(Bytes(bytes.begin(), bytes.begin() + 14), "t.mid"); },
                                      {"t.mid: byte 14:", "expected track chunk 1 of the 1", "end of file"}));
  // Inside the track chunk: its length runs past the end of the file.
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(Bytes(bytes.begin(), bytes.end() - 2), "t.mid"); },
                                      {"t.mid: byte 18:", "runs past the end of the file"}));
}

TEST(MidiMalformed, ChunkLengthPastEndOfFile) {
  Bytes bytes = valid_file();
  bytes[18] = 0x7F;  // track chunk length ~2 GB
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(bytes, "long.mid"); },
                                      {"long.mid: byte 18:", "'MTrk'", "runs past the end of the file"}));
  // An unknown chunk whose length runs past the end is an error too.
  Bytes unknown = header_chunk(1, 1, 480);
  const Bytes chunk = {'J', 'U', 'N', 'K', 0, 0, 1, 0, 1, 2};
  unknown.insert(unknown.end(), chunk.begin(), chunk.end());
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(unknown, "junk.mid"); },
                                      {"junk.mid: byte 18:", "'JUNK'", "runs past the end of the file"}));
}

TEST(MidiMalformed, ChunkLengthTooShortIsNoticed) {
  // The track chunk claims 4 bytes: the note-on fits, then the chunk ends without end-of-track.
  Bytes bytes = valid_file();
  bytes[21] = 4;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(bytes, "short.mid"); },
                                      {"short.mid: byte 26:", "expected end-of-track", "too short"}));
  // 5 bytes: the chunk ends inside the next delta time (0x83 0x60).
  bytes[21] = 5;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(bytes, "short.mid"); },
                                      {"short.mid: byte 27:", "expected delta time", "end of track chunk"}));
}

TEST(MidiMalformed, VariableLengthQuantityLongerThanFourBytes) {
  Bytes events = {0x80, 0x80, 0x80, 0x80, 0x00, 0x90, 60, 100};
  const Bytes end = Events().end_of_track().bytes;
  events.insert(events.end(), end.begin(), end.end());
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(midi_file_bytes(0, 480, {events}), "vlq.mid"); },
                                      {"vlq.mid: byte 22:", "variable-length quantity of at most 4 bytes"}));
}

TEST(MidiMalformed, VariableLengthQuantityCutByEndOfChunk) {
  const Bytes events = {0x00, 0x90, 60, 100, 0x81};
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(midi_file_bytes(0, 480, {events}), "cut.mid"); },
                                      {"cut.mid: byte 27:", "delta time", "end of track chunk"}));
}

TEST(MidiMalformed, DataByteWithoutRunningStatus) {
  const Bytes events = Events().event(0, {60, 100}).end_of_track().bytes;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(midi_file_bytes(0, 480, {events}), "rs.mid"); },
                                      {"rs.mid: byte 23:", "expected a status byte", "0x3C"}));
}

TEST(MidiMalformed, RunningStatusDoesNotCarryIntoTheNextTrack) {
  const Bytes first = Events().event(0, {0x90, 60, 100}).event(1, {60, 0}).end_of_track().bytes;
  const Bytes second = Events().event(0, {60, 100}).end_of_track().bytes;
  const size_t second_event = 14 + 8 + first.size() + 8 + 1;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(midi_file_bytes(1, 480, {first, second}), "rs2.mid"); },
                                      {fmt::format("rs2.mid: byte {}:", second_event), "expected a status byte"}));
}

TEST(MidiMalformed, MetaEventLengthPastEndOfChunk) {
  Bytes events = {0x00, 0xFF, 0x03, 0x40, 'a', 'b'};  // claims 64 bytes of name
  const Bytes end = Events().end_of_track().bytes;
  events.insert(events.end(), end.begin(), end.end());
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(midi_file_bytes(0, 480, {events}), "meta.mid"); },
                                      {"meta.mid: byte 25:", "meta event 0x03", "runs past the end of the track chunk"}));
}

TEST(MidiMalformed, SysexLengthPastEndOfChunk) {
  const Bytes events = {0x00, 0xF0, 0x7F, 0x01};
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(midi_file_bytes(0, 480, {events}), "sysex.mid"); },
                                      {"sysex.mid: byte 24:", "sysex", "runs past the end of the track chunk"}));
}

TEST(MidiMalformed, MissingDataByteAndStatusInPlaceOfData) {
  EXPECT_TRUE(throws_error_containing(
      [&] { parse_midi(midi_file_bytes(0, 480, {Bytes{0x00, 0x90, 60}}), "m.mid"); },
      {"m.mid: byte 25:", "data byte of note-on message", "end of track chunk"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { parse_midi(midi_file_bytes(0, 480, {Bytes{0x00, 0x90, 60, 0x90, 0x00, 0xFF, 0x2F, 0x00}}), "m.mid"); },
      {"m.mid: byte 25:", "found status byte 0x90"}));
}

TEST(MidiMalformed, SystemMessagesInATrack) {
  EXPECT_TRUE(throws_error_containing(
      [&] { parse_midi(midi_file_bytes(0, 480, {Bytes{0x00, 0xF8, 0x00, 0xFF, 0x2F, 0x00}}), "sys.mid"); },
      {"sys.mid: byte 23:", "0xF8"}));
}

TEST(MidiMalformed, UnsupportedFormatAndDivision) {
  Bytes format2 = valid_file();
  format2[9] = 2;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(format2, "f2.mid"); }, {"f2.mid: byte 8:", "format 2"}));
  Bytes format5 = valid_file();
  format5[9] = 5;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(format5, "f5.mid"); }, {"f5.mid: byte 8:", "found 5"}));
  Bytes smpte = valid_file();
  smpte[12] = 0xE7;  // -25 frames per second
  smpte[13] = 0x28;  // 40 ticks per frame
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(smpte, "smpte.mid"); }, {"smpte.mid: byte 12:", "SMPTE"}));
  Bytes zero = valid_file();
  zero[12] = zero[13] = 0;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(zero, "zero.mid"); }, {"zero.mid: byte 12:", "> 0"}));
}

TEST(MidiMalformed, BadHeaderLengthAndChunkId) {
  Bytes short_header = valid_file();
  short_header[7] = 5;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(short_header, "h.mid"); }, {"h.mid: byte 4:", "at least 6"}));
  Bytes huge_header = valid_file();
  huge_header[4] = 0xFF;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(huge_header, "h.mid"); },
                                      {"h.mid: byte 4:", "runs past the end of the file"}));
  Bytes binary_id = valid_file();
  binary_id[14] = 0x00;
  EXPECT_TRUE(throws_error_containing([&] { parse_midi(binary_id, "id.mid"); },
                                      {"id.mid: byte 14:", "chunk id of 4 ASCII characters"}));
}

TEST(MidiMalformed, BadTempoAndTimeSignature) {
  EXPECT_TRUE(throws_error_containing(
      [&] { parse_midi(midi_file_bytes(0, 480, {Events().event(0, {0xFF, 0x51, 2, 1, 2}).end_of_track().bytes}), "t.mid"); },
      {"t.mid: byte 25:", "tempo"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { parse_midi(midi_file_bytes(0, 480, {Events().event(0, {0xFF, 0x51, 3, 0, 0, 0}).end_of_track().bytes}), "t.mid"); },
      {"t.mid: byte 26:", "tempo > 0"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { parse_midi(midi_file_bytes(0, 480, {Events().event(0, {0xFF, 0x58, 4, 4, 200, 24, 8}).end_of_track().bytes}), "t.mid"); },
      {"t.mid: byte 27:", "denominator exponent"}));
}

// ---- real files (POP909) -----------------------------------------------------------------------

// The POP909 folder (holding 001/001.mid, ...), or "" when the data set is not available.
std::string pop909_folder() {
  std::vector<std::filesystem::path> candidates;
  if (const char* data = std::getenv("STRIPES_DATA")) candidates.push_back(std::filesystem::path(data) / "pop909");
#ifdef STRIPES_SOURCE_DIR
  candidates.push_back(std::filesystem::path(STRIPES_SOURCE_DIR) / ".." / "shared" / "data" / "pop909");
#endif
  candidates.push_back(std::filesystem::path("..") / "shared" / "data" / "pop909");
  for (const auto& candidate : candidates) {
    for (const auto& folder : {candidate / "POP909", candidate}) {
      std::error_code error;
      if (std::filesystem::exists(folder / "001" / "001.mid", error)) return folder.string();
    }
  }
  return "";
}

Bytes read_bytes(const std::string& path) {
  std::FILE* handle = std::fopen(path.c_str(), "rb");
  Bytes bytes;
  if (handle == nullptr) return bytes;
  uint8_t buffer[65536];
  size_t count;
  while ((count = std::fread(buffer, 1, sizeof buffer, handle)) > 0) bytes.insert(bytes.end(), buffer, buffer + count);
  std::fclose(handle);
  return bytes;
}

#define SKIP_WITHOUT_POP909(folder)                                                                      \
  if ((folder).empty()) {                                                                                \
    GTEST_SKIP() << "POP909 not found: looked in $STRIPES_DATA/pop909 and <repo>/../shared/data/pop909 " \
                    "(set STRIPES_DATA to a folder containing pop909/ to run this test)";                \
  }

TEST(MidiPop909, ReadsSong001) {
  const std::string folder = pop909_folder();
  SKIP_WITHOUT_POP909(folder);
  const MidiFile file = read_midi(folder + "/001/001.mid");
  EXPECT_EQ(file.format, 1);
  EXPECT_GT(file.ticks_per_quarter, 0);
  for (const char* name : {"MELODY", "BRIDGE", "PIANO"}) {
    const int index = file.find_track(name);
    ASSERT_GE(index, 0) << name;
    EXPECT_FALSE(file.tracks[index].notes.empty()) << name;
    for (const Note& n : file.tracks[index].notes) {
      EXPECT_EQ(n.track, index);
      EXPECT_GT(n.end_tick, n.start_tick);
      EXPECT_LE(n.end_tick, file.end_tick);
    }
  }
  EXPECT_FALSE(file.tempos.empty());
  EXPECT_GT(file.note_count(), 1000u);
  std::printf("001.mid: %d ticks/quarter, %zu tracks, %zu notes, %.2f BPM, end tick %lld\n", file.ticks_per_quarter,
              file.tracks.size(), file.note_count(), file.tempos[0].bpm(), static_cast<long long>(file.end_tick));
}

TEST(MidiPop909, EveryTenthSongRoundTripsThroughTheWriter) {
  const std::string folder = pop909_folder();
  SKIP_WITHOUT_POP909(folder);
  int songs = 0;
  for (int song = 1; song <= 909; song += (song == 901 ? 8 : 10)) {  // 001, 011, ..., 901, 909
    const std::string path = fmt::format("{}/{:03d}/{:03d}.mid", folder, song, song);
    if (!std::filesystem::exists(path)) continue;
    const MidiFile original = read_midi(path);
    for (const char* name : {"MELODY", "BRIDGE", "PIANO"}) EXPECT_GE(original.find_track(name), 0) << path << " " << name;
    const Bytes rewritten = serialize_midi(original);
    const MidiFile reread = parse_midi(rewritten, path + " (rewritten)");
    EXPECT_TRUE(files_equal(original, reread)) << path;
    EXPECT_EQ(serialize_midi(reread), rewritten) << path;
    ++songs;
  }
  EXPECT_GE(songs, 1);
  std::printf("round-tripped %d POP909 songs\n", songs);
}

// ---- fuzz-style corruption ----------------------------------------------------------------------

// Applies one random corruption to a copy of `bytes`.
Bytes corrupt(const Bytes& bytes, std::mt19937& random) {
  Bytes out = bytes;
  auto offset = [&](size_t size) { return std::uniform_int_distribution<size_t>(0, size == 0 ? 0 : size - 1)(random); };
  auto byte = [&] { return static_cast<uint8_t>(std::uniform_int_distribution<int>(0, 255)(random)); };
  const int kind = std::uniform_int_distribution<int>(0, 5)(random);
  const int repeats = std::uniform_int_distribution<int>(1, 8)(random);
  for (int r = 0; r < repeats && !out.empty(); ++r) {
    switch (kind) {
      case 0:  // flip bits of a byte
        out[offset(out.size())] ^= static_cast<uint8_t>(1u << std::uniform_int_distribution<int>(0, 7)(random));
        break;
      case 1:  // overwrite a byte
        out[offset(out.size())] = byte();
        break;
      case 2:  // truncate
        out.resize(offset(out.size()));
        break;
      case 3:  // insert bytes
        out.insert(out.begin() + static_cast<std::ptrdiff_t>(offset(out.size() + 1)),
                   std::uniform_int_distribution<size_t>(1, 4)(random), byte());
        break;
      case 4: {  // delete bytes
        const size_t at = offset(out.size());
        const size_t count = std::min(out.size() - at, std::uniform_int_distribution<size_t>(1, 4)(random));
        out.erase(out.begin() + static_cast<std::ptrdiff_t>(at), out.begin() + static_cast<std::ptrdiff_t>(at + count));
        break;
      }
      default: {  // set a chunk length to a huge (or random) value
        std::vector<size_t> length_offsets;
        for (size_t i = 0; i + 8 <= out.size(); ++i) {
          if ((out[i] == 'M' && out[i + 1] == 'T' && out[i + 2] == 'r' && out[i + 3] == 'k') ||
              (out[i] == 'M' && out[i + 1] == 'T' && out[i + 2] == 'h' && out[i + 3] == 'd')) {
            length_offsets.push_back(i + 4);
          }
        }
        if (length_offsets.empty()) break;
        const size_t at = length_offsets[offset(length_offsets.size())];
        const uint32_t values[] = {0xFFFFFFFFu, 0x7FFFFFFFu, 0x80000000u, static_cast<uint32_t>(random()),
                                   static_cast<uint32_t>(out.size()), 0u};
        const uint32_t value = values[offset(std::size(values))];
        for (int i = 0; i < 4; ++i) out[at + i] = static_cast<uint8_t>(value >> (24 - 8 * i));
        break;
      }
    }
  }
  return out;
}

TEST(MidiFuzz, CorruptedFilesParseOrThrowStripesError) {
  std::vector<std::pair<std::string, Bytes>> seeds;
  const std::string folder = pop909_folder();
  if (!folder.empty()) {
    for (const char* song : {"001", "002", "003"}) {
      Bytes bytes = read_bytes(fmt::format("{}/{}/{}.mid", folder, song, song));
      if (!bytes.empty()) seeds.emplace_back(fmt::format("{}.mid", song), std::move(bytes));
    }
  }
  // Always also a synthetic file (small, so that corruptions hit every part of it often).
  MidiFile synthetic = random_song(42);
  for (Track& track : synthetic.tracks) {
    if (track.notes.size() > 20) track.notes.resize(20);
  }
  seeds.emplace_back("synthetic.mid", serialize_midi(synthetic));
  // A hand-written file using the features the writer does not produce.
  seeds.emplace_back("features.mid", midi_file_bytes(1, 96, {Events()
                                                                 .event(0, {0xF0, 3, 1, 2, 0xF7})
                                                                 .event(0, {0xC0, 5})
                                                                 .event(0, {6})
                                                                 .event(0, {0x80, 60, 0})
                                                                 .event(0, {0x90, 60, 3})
                                                                 .event(7, {60, 0})
                                                                 .event(0, {0xFF, 0x58, 4, 3, 3, 24, 8})
                                                                 .end_of_track()
                                                                 .bytes}));

  constexpr int kIterations = 4000;
  std::mt19937 random(20240607);
  int parsed = 0, rejected = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int iteration = 0; iteration < kIterations; ++iteration) {
    const auto& [name, original] = seeds[static_cast<size_t>(iteration) % seeds.size()];
    const Bytes bytes = corrupt(original, random);
    const std::string source = fmt::format("fuzz-{}-{}", iteration, name);
    try {
      const MidiFile file = parse_midi(bytes, source);
      ++parsed;
      for (const Track& track : file.tracks) {
        for (const Note& n : track.notes) {
          ASSERT_TRUE(n.end_tick > n.start_tick && n.channel >= 0 && n.channel < 16 && n.pitch >= 0 &&
                      n.pitch < 128 && n.velocity >= 1 && n.velocity <= 127 && n.end_tick <= file.end_tick)
              << source << ": " << describe(n);
        }
      }
      // Whatever parses can be written, and writing is a fixed point after one trip.
      const MidiFile once = parse_midi(serialize_midi(file), source + " (rewritten)");
      const MidiFile twice = parse_midi(serialize_midi(once), source + " (rewritten twice)");
      ASSERT_TRUE(files_equal(once, twice)) << source;
      const bool canonical = (file.format == 1 && !file.tracks.empty() && file.tracks[0].notes.empty()) ||
                             (file.format == 0 && file.tracks.size() == 1);
      if (canonical) {
        ASSERT_TRUE(files_equal(file, once)) << source;
      }
      // First-in-first-out pairing reads the same bytes: the same tracks and end, notes that keep
      // the invariants, and what it reads also round-trips.
      const MidiFile queued = parse_midi(bytes, source, fifo());
      ASSERT_EQ(queued.tracks.size(), file.tracks.size()) << source;
      ASSERT_EQ(queued.end_tick, file.end_tick) << source;
      for (const Track& track : queued.tracks) {
        for (const Note& n : track.notes) {
          ASSERT_TRUE(n.end_tick > n.start_tick && n.pitch >= 0 && n.pitch < 128 && n.end_tick <= queued.end_tick)
              << source << " (fifo): " << describe(n);
        }
      }
      const MidiFile queued_once = parse_midi(serialize_midi(queued), source + " (fifo rewritten)", fifo());
      ASSERT_TRUE(files_equal(queued_once, parse_midi(serialize_midi(queued_once), source, fifo()))) << source;
    } catch (const stripes::Error& error) {
      ++rejected;
      ASSERT_THROW(parse_midi(bytes, source, fifo()), stripes::Error) << source;
      const std::string message = error.what();
      ASSERT_NE(message.find(source), std::string::npos) << message;
      ASSERT_NE(message.find(": byte "), std::string::npos) << message;
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz: %d corrupted files from %zu seeds in %.2f s: %d parsed, %d rejected with stripes::Error\n",
              kIterations, seeds.size(), seconds, parsed, rejected);
  EXPECT_GT(rejected, 0);
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace stripes::midi
