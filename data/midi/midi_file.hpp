// Standard MIDI File (SMF) reading and writing, formats 0 and 1, written from the specification
// (no third-party MIDI library). The reader turns a file into tracks of timed events and into
// notes; the writer turns tracks of notes back into a file that the reader reads identically.
//
// Every malformed input throws stripes::Error naming the file, the byte offset and what was
// expected there ("song.mid: byte 1234: expected 'MTrk' chunk id, found 'XXXX'").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stripes::midi {

// One note, after pairing note-on with note-off. Ticks are in the file's own resolution
// (ticks_per_quarter), absolute from the start of the file. end_tick > start_tick always (zero-length
// notes are dropped under either OverlapPolicy; muspy would keep them, POP909 has none).
struct Note {
  int track = 0;        // index of the track chunk the note came from
  int channel = 0;      // 0..15
  int pitch = 0;        // 0..127
  int velocity = 0;     // 1..127 (velocity of the note-on)
  int64_t start_tick = 0;
  int64_t end_tick = 0;
};

struct TempoChange {
  int64_t tick = 0;
  int microseconds_per_quarter = 500000;  // 120 BPM is the SMF default
  double bpm() const { return 60'000'000.0 / microseconds_per_quarter; }
};

struct TimeSignature {
  int64_t tick = 0;
  int numerator = 4;
  int denominator = 4;  // the actual denominator (4), not the SMF power of two (2)
};

struct Track {
  std::string name;          // from the track-name meta event (0x03), "" if none
  std::vector<Note> notes;   // sorted by (start_tick, pitch)
};

struct MidiFile {
  int format = 1;                       // 0 or 1 (format 2 is rejected with a clear error)
  int ticks_per_quarter = 480;          // SMPTE time division is rejected with a clear error
  std::vector<Track> tracks;
  std::vector<TempoChange> tempos;      // sorted by tick; all tracks' tempo events merged
  std::vector<TimeSignature> time_signatures;  // sorted by tick
  int64_t end_tick = 0;                 // largest end-of-track tick over all tracks

  // The track whose name is `name` (case-insensitive), or -1.
  int find_track(const std::string& name) const;
  // Total number of notes over all tracks.
  size_t note_count() const;
};

// How note-offs are paired with note-ons when one (track, channel, pitch) receives a second note-on
// while a note of that pitch still sounds ("on a, on b, off c, off d"). MIDI leaves this open.
enum class OverlapPolicy {
  // The second note-on ends the sounding note: [a, b), [b, c); the last note-off finds nothing
  // sounding and is ignored. At most one note per (track, channel, pitch) sounds at a time, which
  // is what the writer can express, so files written by serialize_midi read back unchanged.
  // (A note-off at the very tick of a re-trigger is the cut note's own: see midi_file.cpp.)
  kCutAtRetrigger,
  // First in, first out, as muspy (the StrIPE authors' MIDI reader, duplicate_note_mode="fifo"):
  // a note-off ends the oldest sounding note of that pitch, so notes may overlap and each sounds
  // until its own note-off: [a, c), [b, d).
  kFirstInFirstOut,
};
const char* overlap_policy_name(OverlapPolicy policy);  // "cut-at-retrigger", "fifo"

struct MidiReadOptions {
  // Default: kCutAtRetrigger (one sounding note per pitch; round-trips through the writer). The
  // POP909 loader asks for kFirstInFirstOut to reproduce the StrIPE authors' pianorolls.
  OverlapPolicy overlap = OverlapPolicy::kCutAtRetrigger;
};

// Parse bytes; `source_name` is used in error messages (a path or "<memory>").
MidiFile parse_midi(const std::vector<uint8_t>& bytes, const std::string& source_name = "<memory>",
                    const MidiReadOptions& options = {});
MidiFile read_midi(const std::string& path, const MidiReadOptions& options = {});

// Serialize as format 1 (one conductor track with tempo/time signature + one track per Track),
// or format 0 when `file.format == 0` (everything merged into one track).
std::vector<uint8_t> serialize_midi(const MidiFile& file);
void write_midi(const MidiFile& file, const std::string& path);

}  // namespace stripes::midi
