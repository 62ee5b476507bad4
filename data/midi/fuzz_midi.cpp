// libFuzzer target for the MIDI reader and writer. Not part of the normal build: the whole file is
// compiled only when STRIPES_BUILD_MIDI_FUZZER is defined (CMake globs data/*.cpp into
// stripes_data, where this file is an empty translation unit). Build and run it by hand:
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -DSTRIPES_BUILD_MIDI_FUZZER
//       -I. data/midi/fuzz_midi.cpp data/midi/midi_file.cpp -lfmt -o /tmp/fuzz_midi      (one line)
//   mkdir -p /tmp/midi_corpus && cp ../shared/data/pop909/POP909/00[1-5]/*.mid /tmp/midi_corpus/
//   /tmp/fuzz_midi /tmp/midi_corpus -max_total_time=60
//
// What it checks, for every input:
//   * parse_midi either returns or throws stripes::Error (anything else — a crash, an
//     out-of-bounds read caught by AddressSanitizer, another exception — is reported);
//   * a parsed file can be serialized, and after one write/read trip writing is a fixed point:
//     parse(serialize(once)) has the same notes, tracks, tempos and time signatures as `once`;
//   * the same holds when reading with OverlapPolicy::kFirstInFirstOut, which accepts the same bytes.
#ifdef STRIPES_BUILD_MIDI_FUZZER

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "data/midi/midi_file.hpp"
#include "tensor/error.hpp"

namespace {

using stripes::midi::MidiFile;

bool same_file(const MidiFile& a, const MidiFile& b) {
  if (a.format != b.format || a.ticks_per_quarter != b.ticks_per_quarter || a.end_tick != b.end_tick ||
      a.tracks.size() != b.tracks.size() || a.tempos.size() != b.tempos.size() ||
      a.time_signatures.size() != b.time_signatures.size()) {
    return false;
  }
  for (size_t t = 0; t < a.tracks.size(); ++t) {
    const auto& x = a.tracks[t];
    const auto& y = b.tracks[t];
    if (x.name != y.name || x.notes.size() != y.notes.size()) return false;
    for (size_t i = 0; i < x.notes.size(); ++i) {
      const auto& m = x.notes[i];
      const auto& n = y.notes[i];
      if (m.track != n.track || m.channel != n.channel || m.pitch != n.pitch || m.velocity != n.velocity ||
          m.start_tick != n.start_tick || m.end_tick != n.end_tick) {
        return false;
      }
    }
  }
  for (size_t i = 0; i < a.tempos.size(); ++i) {
    if (a.tempos[i].tick != b.tempos[i].tick ||
        a.tempos[i].microseconds_per_quarter != b.tempos[i].microseconds_per_quarter) {
      return false;
    }
  }
  for (size_t i = 0; i < a.time_signatures.size(); ++i) {
    const auto& x = a.time_signatures[i];
    const auto& y = b.time_signatures[i];
    if (x.tick != y.tick || x.numerator != y.numerator || x.denominator != y.denominator) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<uint8_t> bytes(data, data + size);
  MidiFile file;
  try {
    file = stripes::midi::parse_midi(bytes, "<fuzz>");
  } catch (const stripes::Error&) {
    return 0;  // rejected with a proper error: fine
  }
  const MidiFile once = stripes::midi::parse_midi(stripes::midi::serialize_midi(file), "<fuzz rewritten>");
  const MidiFile twice = stripes::midi::parse_midi(stripes::midi::serialize_midi(once), "<fuzz rewritten twice>");
  if (!same_file(once, twice)) std::abort();
  // The first-in-first-out pairing accepts the same bytes, and its result round-trips too.
  stripes::midi::MidiReadOptions fifo;
  fifo.overlap = stripes::midi::OverlapPolicy::kFirstInFirstOut;
  const MidiFile queued = stripes::midi::parse_midi(bytes, "<fuzz fifo>", fifo);  // throws -> reported
  const MidiFile queued_once =
      stripes::midi::parse_midi(stripes::midi::serialize_midi(queued), "<fuzz fifo rewritten>", fifo);
  const MidiFile queued_twice =
      stripes::midi::parse_midi(stripes::midi::serialize_midi(queued_once), "<fuzz fifo rewritten twice>", fifo);
  if (!same_file(queued_once, queued_twice)) std::abort();
  return 0;
}

#endif  // STRIPES_BUILD_MIDI_FUZZER
