// Standard MIDI File (SMF 1.0) reader and writer, written from the specification.
//
// ---- The file format, as far as this code needs it --------------------------------------------
// A file is a sequence of chunks. Every chunk is a 4-character ASCII id, a 32-bit big-endian
// length, and that many bytes of data. The first chunk must be the header:
//
//   "MThd" <length = 6> <format: u16> <track count: u16> <division: u16>
//
//   format 0 = one track holding everything, 1 = several tracks played together (the first one is
//   by convention the "conductor" holding the tempo map), 2 = independent sequences (rejected).
//   division: bit 15 clear = ticks per quarter note; bit 15 set = SMPTE frames (rejected).
//
// It is followed by "MTrk" chunks (one per track) and possibly chunks of unknown types, which the
// specification says a reader must skip. A track chunk is a list of events, each preceded by a
// delta time (ticks since the previous event of the same track) written as a variable-length
// quantity: 7 bits per byte, most significant first, high bit set on every byte but the last,
// at most 4 bytes (so at most 0x0FFFFFFF). Events are:
//
//   channel message   status 0x8n..0xEn (n = channel) + data bytes (each 0..127):
//                       0x8n note-off, 0x9n note-on, 0xAn poly pressure, 0xBn control change,
//                       0xEn pitch bend: 2 data bytes; 0xCn program change, 0xDn channel
//                       pressure: 1 data byte. "Running status": when a channel message has the
//                       same status byte as the previous one, the status byte may be left out,
//                       so a data byte (< 0x80) where a status byte is expected repeats it.
//   sysex             0xF0 or 0xF7, <length: VLQ>, <length bytes>           (skipped)
//   meta event        0xFF, <type: byte>, <length: VLQ>, <length bytes>; the ones used here:
//                       0x03 track name, 0x51 tempo (3 bytes: microseconds per quarter note),
//                       0x58 time signature (numerator, log2 of denominator, 2 bytes we ignore),
//                       0x2F end of track (must be the last event). Other types are skipped.
//
// ---- Rules this reader applies where the specification leaves room ----------------------------
// * Note pairing, per (track, channel, pitch). A note-on with velocity 0 is a note-off. What a
//   second note-on of a pitch that still sounds means is MidiReadOptions::overlap:
//   - kCutAtRetrigger (the default). Re-trigger: a note-on while that pitch is already sounding
//     ends the sounding note at this tick and starts a new one. Hence at most one note per
//     (track, channel, pitch) sounds at a time, and a note-off ends that note.
//     The one exception: a note-off at the very tick of a re-trigger, when the note sounding now
//     was started by that re-trigger, is taken to be the note-off of the note the re-trigger
//     just ended (files often write "on, off" instead of "off, on" for a repeated pitch at the
//     same tick). It is consumed once and the new note keeps sounding. Without this rule the new
//     note would become zero-length and be lost.
//   - kFirstInFirstOut (muspy's "fifo"). Note-ons of a pitch queue up; a note-off ends the oldest
//     sounding one. Same-pitch notes may overlap. The "on, off" pattern above needs no special
//     rule here: the note-off ends the older note, the new one keeps sounding.
//   Under both policies:
//   - A note-off with nothing sounding is ignored.
//   - Notes still sounding at the end of the track end at the end-of-track tick.
//   - Zero-length notes (start tick == end tick) are dropped, so every Note has end > start.
// * Running status is kept across meta and sysex events (the specification says they cancel
//   it, but tolerant readers keep it and a file that relies on it is otherwise unambiguous).
//   It is reset at the start of every track chunk.
// * Only the number of track chunks the header declares is read; bytes after the last of them
//   are ignored. A format-0 file declaring more than one track is read like format 1.
// * A track chunk must end with end-of-track: a chunk that runs out before it is an error (that
//   is how a chunk length that is too short shows). Bytes after end-of-track inside the chunk are
//   ignored.
// * The first track-name event of a track names it. Tempo and time-signature events of every
//   track are merged into MidiFile::tempos / time_signatures (stable-sorted by tick).
// * MidiFile::tracks mirrors the track chunks one to one (Note::track is the index into it), so
//   the conductor track of a format-1 file is tracks[0], usually with no notes and no name.
//
// ---- Rules the writer applies -----------------------------------------------------------------
// * Format 1: the tempo map (tempos and time signatures) goes into a conductor track chunk. If
//   tracks[0] has no notes it *is* that conductor (its name is written there), so a file read by
//   parse_midi is written back chunk for chunk; otherwise a nameless conductor chunk is inserted
//   before tracks[0], and reading the file back yields that extra empty track at index 0.
// * Format 0: one track chunk with every event; its name is the first non-empty track name.
// * Each track chunk: track name (if any), then events in tick order; at one tick: tempo and time
//   signature first, then note-offs, then note-ons (so a repeated pitch reads back as two notes),
//   each group ordered by (channel, pitch). Note-offs are written as note-on with velocity 0 and
//   running status is used (meta events reset it, as the specification demands). Every chunk
//   ends with end-of-track at max(MidiFile::end_tick, the chunk's last event tick).
// * Overlapping notes of the same (channel, pitch) within one chunk cannot be told apart in a
//   MIDI file, so the writer applies the reader's re-trigger rule first: the earlier note is cut
//   at the later note's start (and dropped if that leaves it zero-length). With that,
//   parse_midi(serialize_midi(file)) == file for every file whose tracks[0] is note-less (format
//   1) or that has a single track (format 0), up to note order (sorted) and such overlaps.
//   Once cut, no two notes of a pitch overlap, so both OverlapPolicy values read the written file
//   identically (at a shared tick the note-off comes before the note-on).
// * Delta times above the VLQ maximum (0x0FFFFFFF ticks) are bridged with empty text events.
#include "data/midi/midi_file.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>
#include <tuple>

#include "tensor/error.hpp"

namespace stripes::midi {
namespace {

constexpr uint32_t kLargestVariableLengthQuantity = 0x0FFFFFFF;
constexpr int kMostVariableLengthQuantityBytes = 4;
constexpr size_t kChunkHeaderBytes = 8;  // 4-byte id + 4-byte length
constexpr size_t kHeaderChunkDataBytes = 6;
constexpr int kChannelCount = 16;
constexpr int kPitchCount = 128;
constexpr int kLargestDenominatorExponent = 30;  // 2^30 still fits an int
// The writer refuses ticks beyond this so that bridging long gaps (see above) stays bounded.
constexpr int64_t kLargestWritableTick = int64_t{1} << 40;

constexpr uint8_t kMetaEventStatus = 0xFF;
constexpr uint8_t kSysexStatus = 0xF0;
constexpr uint8_t kSysexContinuationStatus = 0xF7;
constexpr uint8_t kMetaTrackName = 0x03;
constexpr uint8_t kMetaText = 0x01;
constexpr uint8_t kMetaEndOfTrack = 0x2F;
constexpr uint8_t kMetaTempo = 0x51;
constexpr uint8_t kMetaTimeSignature = 0x58;
constexpr uint8_t kNoteOff = 0x80;
constexpr uint8_t kNoteOn = 0x90;
constexpr uint8_t kProgramChange = 0xC0;
constexpr uint8_t kChannelPressure = 0xD0;

std::string hex_byte(uint8_t value) { return fmt::format("0x{:02X}", value); }

// "'MTrk'" when the four bytes are printable ASCII, otherwise their hex values.
// Chunk ids are four printable ASCII characters.
bool chunk_id_is_ascii(const uint8_t* id) {
  for (int i = 0; i < 4; ++i) {
    if (id[i] < 0x20 || id[i] > 0x7E) return false;
  }
  return true;
}

// "'MTrk'" when the four bytes are printable ASCII, otherwise their hex values.
std::string describe_chunk_id(const uint8_t* id) {
  if (chunk_id_is_ascii(id)) return fmt::format("'{}'", std::string(reinterpret_cast<const char*>(id), 4));
  return fmt::format("bytes {:02X} {:02X} {:02X} {:02X}", id[0], id[1], id[2], id[3]);
}

bool chunk_id_is(const uint8_t* id, std::string_view expected) {
  return std::memcmp(id, expected.data(), 4) == 0;
}

const char* channel_message_name(uint8_t status) {
  switch (status & 0xF0) {
    case 0x80: return "note-off";
    case 0x90: return "note-on";
    case 0xA0: return "polyphonic pressure";
    case 0xB0: return "control change";
    case 0xC0: return "program change";
    case 0xD0: return "channel pressure";
    default: return "pitch bend";
  }
}

int channel_message_data_bytes(uint8_t status) {
  const uint8_t kind = status & 0xF0;
  return (kind == kProgramChange || kind == kChannelPressure) ? 1 : 2;
}

// Reads the file front to back. Every read is bounds-checked against `limit_` (the end of the
// file, or of the chunk being parsed) and every failure names the source and the absolute byte
// offset. Every successful read advances the position, so loops built on it always progress.
class ByteReader {
 public:
  ByteReader(const std::vector<uint8_t>& bytes, const std::string& source_name)
      : bytes_(bytes), source_name_(source_name), limit_(bytes.size()) {}

  size_t position() const { return position_; }
  size_t limit() const { return limit_; }
  size_t remaining() const { return limit_ - position_; }
  const uint8_t* data_at(size_t offset) const { return bytes_.data() + offset; }

  // Restricts reads to [position, end) — a chunk's data — or back to the whole file.
  void limit_to_chunk(size_t chunk_end) {
    limit_ = chunk_end;
    limit_name_ = fmt::format("track chunk (which ends at byte {})", chunk_end);
  }
  void limit_to_file() {
    limit_ = bytes_.size();
    limit_name_ = "file";
  }
  void seek(size_t offset) { position_ = offset; }

  [[noreturn]] void fail_at(size_t offset, const std::string& message) const {
    throw_error("{}: byte {}: {}", source_name_, offset, message);
  }

  uint8_t read_byte(std::string_view what) {
    if (position_ >= limit_) fail_at(position_, fmt::format("expected {}, found end of {}", what, limit_name_));
    return bytes_[position_++];
  }

  // A big-endian unsigned integer of `byte_count` bytes (2 or 4).
  uint32_t read_big_endian(int byte_count, std::string_view what) {
    if (remaining() < static_cast<size_t>(byte_count)) {
      fail_at(position_, fmt::format("expected {} ({} bytes), found only {} bytes before end of {}", what,
                                     byte_count, remaining(), limit_name_));
    }
    uint32_t value = 0;
    for (int i = 0; i < byte_count; ++i) value = (value << 8) | bytes_[position_++];
    return value;
  }

  uint32_t read_variable_length_quantity(std::string_view what) {
    const size_t start = position_;
    uint32_t value = 0;
    for (int byte_index = 0; byte_index < kMostVariableLengthQuantityBytes; ++byte_index) {
      const uint8_t byte = read_byte(what);
      value = (value << 7) | (byte & 0x7F);
      if ((byte & 0x80) == 0) return value;
    }
    fail_at(start, fmt::format("expected {} as a variable-length quantity of at most {} bytes, but byte {} "
                               "still has its continuation bit set",
                               what, kMostVariableLengthQuantityBytes, position_ - 1));
  }

  // One data byte (0..127) of a channel message with status byte `status`.
  uint8_t read_data_byte(uint8_t status) {
    if (position_ < limit_ && bytes_[position_] < 0x80) return bytes_[position_++];
    const std::string what = fmt::format("data byte of {} message", channel_message_name(status));
    const uint8_t byte = read_byte(what);  // fails at the end of the chunk
    fail_at(position_ - 1, fmt::format("expected {} (0..127), found status byte {}", what, hex_byte(byte)));
  }

  // Skips the `count` data bytes of a meta or sysex event (`event_kind` and `code` name it in
  // errors) whose length field starts at `length_offset`.
  void skip_event_data(uint64_t count, size_t length_offset, const char* event_kind, uint8_t code) {
    if (count > remaining()) {
      fail_at(length_offset, fmt::format("{} {} declares a length of {} bytes, which runs past the end of the {} "
                                         "(only {} bytes remain)",
                                         event_kind, hex_byte(code), count, limit_name_, remaining()));
    }
    position_ += static_cast<size_t>(count);
  }

 private:
  const std::vector<uint8_t>& bytes_;
  const std::string& source_name_;
  size_t position_ = 0;
  size_t limit_;
  std::string limit_name_ = "file";
};

// ---- note pairing ------------------------------------------------------------------------------

// Pairs note-ons with note-offs inside one track, by the rules at the top of this file.
class NotePairer {
 public:
  NotePairer(int track_index, std::vector<Note>& notes, OverlapPolicy policy)
      : track_index_(track_index), notes_(notes), policy_(policy) {}

  void note_on(int64_t tick, int channel, int pitch, int velocity) {
    if (policy_ == OverlapPolicy::kFirstInFirstOut) {
      queue_for(channel, pitch).push_back(QueuedNote{tick, velocity});
      ++queued_count_;
      return;
    }
    SoundingNote& slot = slot_for(channel, pitch);
    const bool retrigger = slot.sounding;
    if (retrigger) {
      end_note(slot, tick, channel, pitch);
    } else {
      ++sounding_count_;
    }
    slot = SoundingNote{true, tick, velocity, retrigger};
  }

  void note_off(int64_t tick, int channel, int pitch) {
    if (policy_ == OverlapPolicy::kFirstInFirstOut) {
      std::deque<QueuedNote>& queue = queue_for(channel, pitch);
      if (queue.empty()) return;  // nothing to end
      const QueuedNote oldest = queue.front();
      queue.pop_front();
      --queued_count_;
      add_note(oldest.start_tick, tick, channel, pitch, oldest.velocity);
      return;
    }
    SoundingNote& slot = slot_for(channel, pitch);
    if (!slot.sounding) return;  // nothing to end
    if (slot.started_by_retrigger && slot.start_tick == tick) {
      slot.started_by_retrigger = false;  // the cut note's own note-off, written after the note-on
      return;
    }
    end_note(slot, tick, channel, pitch);
    slot.sounding = false;
    --sounding_count_;
  }

  void end_of_track(int64_t tick) {
    if (queued_count_ > 0) {
      for (int channel = 0; channel < kChannelCount; ++channel) {
        for (int pitch = 0; pitch < kPitchCount; ++pitch) {
          std::deque<QueuedNote>& queue = queue_for(channel, pitch);
          for (const QueuedNote& note : queue) add_note(note.start_tick, tick, channel, pitch, note.velocity);
          queue.clear();
        }
      }
      queued_count_ = 0;
    }
    if (sounding_count_ == 0) return;
    for (int channel = 0; channel < kChannelCount; ++channel) {
      for (int pitch = 0; pitch < kPitchCount; ++pitch) {
        SoundingNote& slot = slot_for(channel, pitch);
        if (slot.sounding) end_note(slot, tick, channel, pitch);
        slot.sounding = false;
      }
    }
    sounding_count_ = 0;
  }

 private:
  struct SoundingNote {
    bool sounding = false;
    int64_t start_tick = 0;
    int velocity = 0;
    bool started_by_retrigger = false;
  };

  // kFirstInFirstOut: the note-ons of one (channel, pitch) not yet ended, oldest first.
  struct QueuedNote {
    int64_t start_tick = 0;
    int velocity = 0;
  };

  SoundingNote& slot_for(int channel, int pitch) { return sounding_[channel * kPitchCount + pitch]; }
  std::deque<QueuedNote>& queue_for(int channel, int pitch) {
    if (queues_.empty()) queues_.resize(kChannelCount * kPitchCount);
    return queues_[channel * kPitchCount + pitch];
  }

  void end_note(const SoundingNote& slot, int64_t end_tick, int channel, int pitch) {
    add_note(slot.start_tick, end_tick, channel, pitch, slot.velocity);
  }

  void add_note(int64_t start_tick, int64_t end_tick, int channel, int pitch, int velocity) {
    if (end_tick <= start_tick) return;  // zero-length notes are dropped
    notes_.push_back(Note{track_index_, channel, pitch, velocity, start_tick, end_tick});
  }

  int track_index_;
  std::vector<Note>& notes_;
  OverlapPolicy policy_;
  std::array<SoundingNote, kChannelCount * kPitchCount> sounding_{};
  int sounding_count_ = 0;
  std::vector<std::deque<QueuedNote>> queues_;  // kFirstInFirstOut only, allocated on first use
  int64_t queued_count_ = 0;
};

// The order of Track::notes: (start_tick, pitch), then the remaining fields so that the order is
// total and a round trip compares equal.
bool note_order(const Note& a, const Note& b) {
  return std::tie(a.start_tick, a.pitch, a.channel, a.end_tick, a.velocity, a.track) <
         std::tie(b.start_tick, b.pitch, b.channel, b.end_tick, b.velocity, b.track);
}

// ---- reading -----------------------------------------------------------------------------------

struct HeaderChunk {
  int format = 0;
  int track_count = 0;
  int ticks_per_quarter = 0;
};

HeaderChunk read_header_chunk(ByteReader& reader, const std::vector<uint8_t>& bytes) {
  if (bytes.empty()) reader.fail_at(0, "expected 'MThd' header chunk, found an empty file (0 bytes)");
  if (bytes.size() < kChunkHeaderBytes + kHeaderChunkDataBytes) {
    reader.fail_at(bytes.size(), fmt::format("expected a {}-byte 'MThd' header chunk, found end of file after {} bytes",
                                             kChunkHeaderBytes + kHeaderChunkDataBytes, bytes.size()));
  }
  if (!chunk_id_is(reader.data_at(0), "MThd")) {
    reader.fail_at(0, fmt::format("expected 'MThd' chunk id (a Standard MIDI File starts with it), found {}",
                                  describe_chunk_id(reader.data_at(0))));
  }
  reader.seek(4);
  const uint32_t length = reader.read_big_endian(4, "header chunk length");
  if (length < kHeaderChunkDataBytes) {
    reader.fail_at(4, fmt::format("expected header chunk length of at least {}, found {}", kHeaderChunkDataBytes,
                                  length));
  }
  if (length > bytes.size() - kChunkHeaderBytes) {
    reader.fail_at(4, fmt::format("header chunk declares a length of {} bytes, which runs past the end of the file "
                                  "(only {} bytes remain)",
                                  length, bytes.size() - kChunkHeaderBytes));
  }
  HeaderChunk header;
  const size_t format_offset = reader.position();
  header.format = static_cast<int>(reader.read_big_endian(2, "format"));
  if (header.format == 2) {
    reader.fail_at(format_offset, "format 2 (independent sequences) is not supported; expected format 0 or 1");
  }
  if (header.format > 2) {
    reader.fail_at(format_offset, fmt::format("expected format 0 or 1, found {}", header.format));
  }
  header.track_count = static_cast<int>(reader.read_big_endian(2, "track count"));
  const size_t division_offset = reader.position();
  const uint32_t division = reader.read_big_endian(2, "time division");
  if (division & 0x8000) {
    reader.fail_at(division_offset, fmt::format("SMPTE time division (0x{:04X}) is not supported; expected ticks per "
                                                "quarter note (bit 15 clear)",
                                                division));
  }
  if (division == 0) reader.fail_at(division_offset, "expected ticks per quarter note > 0, found 0");
  header.ticks_per_quarter = static_cast<int>(division);
  reader.seek(kChunkHeaderBytes + length);  // skip any header bytes a later SMF version may add
  return header;
}

// Parses one MTrk chunk whose data is [reader.position(), chunk_end). Returns the track's
// end-of-track tick.
int64_t read_track_chunk(ByteReader& reader, size_t chunk_end, int track_index, const MidiReadOptions& options,
                         MidiFile& file) {
  reader.limit_to_chunk(chunk_end);
  Track track;
  NotePairer pairer(track_index, track.notes, options.overlap);
  bool has_name = false;
  int running_status = -1;  // none yet
  int64_t tick = 0;

  while (true) {
    if (reader.position() == chunk_end) {
      reader.fail_at(chunk_end, fmt::format("expected end-of-track meta event (FF 2F 00) as the last event of track "
                                            "chunk {}, found end of chunk (is the chunk length too short?)",
                                            track_index));
    }
    tick += reader.read_variable_length_quantity("delta time");
    const size_t status_offset = reader.position();
    const uint8_t first_byte = reader.read_byte("event status byte");

    if (first_byte == kMetaEventStatus) {
      const uint8_t type = reader.read_byte("meta event type");
      const size_t length_offset = reader.position();
      const uint32_t length = reader.read_variable_length_quantity("meta event length");
      const size_t data_offset = reader.position();
      reader.skip_event_data(length, length_offset, "meta event", type);
      const uint8_t* data = reader.data_at(data_offset);
      if (type == kMetaEndOfTrack) break;
      if (type == kMetaTrackName && !has_name) {
        track.name.assign(reinterpret_cast<const char*>(data), length);
        has_name = true;
      } else if (type == kMetaTempo) {
        if (length < 3) {
          reader.fail_at(length_offset, fmt::format("expected tempo meta event (0x51) length 3, found {}", length));
        }
        const int microseconds = (data[0] << 16) | (data[1] << 8) | data[2];
        if (microseconds == 0) reader.fail_at(data_offset, "expected a tempo > 0 microseconds per quarter note, found 0");
        file.tempos.push_back(TempoChange{tick, microseconds});
      } else if (type == kMetaTimeSignature) {
        if (length < 2) {
          reader.fail_at(length_offset,
                         fmt::format("expected time signature meta event (0x58) length 4, found {}", length));
        }
        if (data[1] > kLargestDenominatorExponent) {
          reader.fail_at(data_offset + 1, fmt::format("expected a time signature denominator exponent of at most {}, "
                                                      "found {}",
                                                      kLargestDenominatorExponent, data[1]));
        }
        file.time_signatures.push_back(TimeSignature{tick, data[0], 1 << data[1]});
      }
      continue;
    }

    if (first_byte == kSysexStatus || first_byte == kSysexContinuationStatus) {
      const size_t length_offset = reader.position();
      const uint32_t length = reader.read_variable_length_quantity("sysex length");
      reader.skip_event_data(length, length_offset, "sysex event", first_byte);
      continue;
    }

    if (first_byte > 0xF0) {
      reader.fail_at(status_offset, fmt::format("expected a channel message, sysex (0xF0/0xF7) or meta (0xFF) status "
                                                "byte, found {} (system common and real-time messages do not "
                                                "belong in a MIDI file)",
                                                hex_byte(first_byte)));
    }

    // A channel message, with its own status byte or with running status.
    uint8_t status = first_byte;
    std::array<int, 2> data{0, 0};
    int data_read = 0;
    if (first_byte < 0x80) {
      if (running_status < 0) {
        reader.fail_at(status_offset, fmt::format("expected a status byte (no running status is in effect), found "
                                                  "data byte {}",
                                                  hex_byte(first_byte)));
      }
      status = static_cast<uint8_t>(running_status);
      data[data_read++] = first_byte;
    }
    running_status = status;
    const int data_count = channel_message_data_bytes(status);
    while (data_read < data_count) data[data_read++] = reader.read_data_byte(status);

    const int channel = status & 0x0F;
    const uint8_t kind = status & 0xF0;
    if (kind == kNoteOn && data[1] > 0) {
      pairer.note_on(tick, channel, data[0], data[1]);
    } else if (kind == kNoteOn || kind == kNoteOff) {
      pairer.note_off(tick, channel, data[0]);
    }
  }

  pairer.end_of_track(tick);
  std::sort(track.notes.begin(), track.notes.end(), note_order);
  file.tracks.push_back(std::move(track));
  reader.limit_to_file();
  return tick;
}

// ---- writing -----------------------------------------------------------------------------------

void append_big_endian(std::vector<uint8_t>& out, uint32_t value, int byte_count) {
  for (int shift = 8 * (byte_count - 1); shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
}

void append_variable_length_quantity(std::vector<uint8_t>& out, uint32_t value) {
  std::array<uint8_t, kMostVariableLengthQuantityBytes> groups{};
  int group_count = 0;
  do {
    groups[group_count++] = static_cast<uint8_t>(value & 0x7F);
    value >>= 7;
  } while (value != 0 && group_count < kMostVariableLengthQuantityBytes);
  for (int i = group_count - 1; i >= 0; --i) out.push_back(static_cast<uint8_t>(groups[i] | (i > 0 ? 0x80 : 0)));
}

// One event to write. Events of a chunk are sorted by (tick, order, channel, pitch, sequence).
struct OutputEvent {
  enum Order { kTrackName = 0, kTempoMap = 1, kNoteOffEvent = 2, kNoteOnEvent = 3 };
  int64_t tick = 0;
  Order order = kTempoMap;
  int channel = 0;
  int pitch = 0;
  size_t sequence = 0;                    // insertion order, keeps tempo changes at one tick in order
  std::array<uint8_t, 3> note_message{};  // status, pitch, velocity (note events)
  int meta_index = -1;                    // index of the meta event's bytes (meta events)
};

class TrackChunkBuilder {
 public:
  void add_meta(int64_t tick, OutputEvent::Order order, uint8_t type, const std::vector<uint8_t>& data) {
    std::vector<uint8_t>& message = meta_messages_.emplace_back(std::vector<uint8_t>{kMetaEventStatus, type});
    append_variable_length_quantity(message, static_cast<uint32_t>(data.size()));
    message.insert(message.end(), data.begin(), data.end());
    OutputEvent event;
    event.tick = tick;
    event.order = order;
    event.sequence = events_.size();
    event.meta_index = static_cast<int>(meta_messages_.size() - 1);
    events_.push_back(event);
  }

  void add_note(const Note& note) {
    const auto status = static_cast<uint8_t>(kNoteOn | note.channel);
    const auto pitch = static_cast<uint8_t>(note.pitch);
    OutputEvent on;
    on.tick = note.start_tick;
    on.order = OutputEvent::kNoteOnEvent;
    on.channel = note.channel;
    on.pitch = note.pitch;
    on.sequence = events_.size();
    on.note_message = {status, pitch, static_cast<uint8_t>(note.velocity)};
    events_.push_back(on);
    // Note-off as note-on with velocity 0, so that running status covers it.
    OutputEvent off = on;
    off.tick = note.end_tick;
    off.order = OutputEvent::kNoteOffEvent;
    off.sequence = events_.size();
    off.note_message[2] = 0;
    events_.push_back(off);
  }

  // Appends the finished "MTrk" chunk to `out`; end-of-track is at max(end_tick, last event).
  void append_chunk(std::vector<uint8_t>& out, int64_t end_tick) {
    std::sort(events_.begin(), events_.end(), [](const OutputEvent& a, const OutputEvent& b) {
      return std::tie(a.tick, a.order, a.channel, a.pitch, a.sequence) <
             std::tie(b.tick, b.order, b.channel, b.pitch, b.sequence);
    });
    std::vector<uint8_t> body;
    body.reserve(events_.size() * 4 + 16);
    int64_t previous_tick = 0;
    int running_status = -1;
    for (const OutputEvent& event : events_) {
      append_delta_time(body, event.tick - previous_tick, running_status);
      previous_tick = event.tick;
      if (event.meta_index >= 0) {
        const std::vector<uint8_t>& message = meta_messages_[static_cast<size_t>(event.meta_index)];
        body.insert(body.end(), message.begin(), message.end());
        running_status = -1;  // meta events cancel running status
      } else {
        const uint8_t status = event.note_message[0];
        if (status != running_status) body.push_back(status);
        body.push_back(event.note_message[1]);
        body.push_back(event.note_message[2]);
        running_status = status;
      }
    }
    append_delta_time(body, std::max(end_tick, previous_tick) - previous_tick, running_status);
    body.insert(body.end(), {kMetaEventStatus, kMetaEndOfTrack, 0x00});

    STRIPES_CHECK(body.size() <= std::numeric_limits<uint32_t>::max(),
                  "serialize_midi: a track chunk would be {} bytes, more than a MIDI chunk can hold", body.size());
    out.insert(out.end(), {'M', 'T', 'r', 'k'});
    append_big_endian(out, static_cast<uint32_t>(body.size()), 4);
    out.insert(out.end(), body.begin(), body.end());
  }

 private:
  // A gap longer than one delta time can express is bridged with empty text meta events.
  static void append_delta_time(std::vector<uint8_t>& body, int64_t gap, int& running_status) {
    while (gap > kLargestVariableLengthQuantity) {
      append_variable_length_quantity(body, kLargestVariableLengthQuantity);
      body.insert(body.end(), {kMetaEventStatus, kMetaText, 0x00});
      running_status = -1;
      gap -= kLargestVariableLengthQuantity;
    }
    append_variable_length_quantity(body, static_cast<uint32_t>(gap));
  }

  std::vector<OutputEvent> events_;
  std::vector<std::vector<uint8_t>> meta_messages_;
};

std::vector<uint8_t> bytes_of(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

void add_tempo_map(TrackChunkBuilder& chunk, const MidiFile& file) {
  for (const TempoChange& tempo : file.tempos) {
    const auto microseconds = static_cast<uint32_t>(tempo.microseconds_per_quarter);
    chunk.add_meta(tempo.tick, OutputEvent::kTempoMap, kMetaTempo,
                   {static_cast<uint8_t>(microseconds >> 16), static_cast<uint8_t>(microseconds >> 8),
                    static_cast<uint8_t>(microseconds)});
  }
  for (const TimeSignature& signature : file.time_signatures) {
    int exponent = 0;
    while ((1 << exponent) < signature.denominator) ++exponent;
    // The last two bytes: MIDI clocks per metronome click (24 = one quarter note) and
    // notated 32nd notes per quarter note (8); this library does not model them.
    chunk.add_meta(signature.tick, OutputEvent::kTempoMap, kMetaTimeSignature,
                   {static_cast<uint8_t>(signature.numerator), static_cast<uint8_t>(exponent), 24, 8});
  }
}

// Applies the reader's re-trigger rule to notes that overlap on the same (channel, pitch): the
// earlier note is cut where the later one starts; notes cut to zero length are dropped.
std::vector<Note> cut_same_pitch_overlaps(std::vector<Note> notes) {
  std::sort(notes.begin(), notes.end(), [](const Note& a, const Note& b) {
    return std::tie(a.channel, a.pitch, a.start_tick, a.end_tick, a.velocity) <
           std::tie(b.channel, b.pitch, b.start_tick, b.end_tick, b.velocity);
  });
  std::vector<Note> kept;
  kept.reserve(notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    Note note = notes[i];
    if (i + 1 < notes.size()) {
      const Note& next = notes[i + 1];
      if (next.channel == note.channel && next.pitch == note.pitch && next.start_tick < note.end_tick) {
        note.end_tick = next.start_tick;
      }
    }
    if (note.end_tick > note.start_tick) kept.push_back(note);
  }
  return kept;
}

void check_tick(int64_t tick, const std::string& where) {
  STRIPES_CHECK(tick >= 0 && tick <= kLargestWritableTick, "serialize_midi: {}: tick {} is outside 0..{}", where, tick,
                kLargestWritableTick);
}

void check_writable(const MidiFile& file) {
  STRIPES_CHECK(file.format == 0 || file.format == 1, "serialize_midi: format {} is not supported; expected 0 or 1",
                file.format);
  STRIPES_CHECK(file.ticks_per_quarter >= 1 && file.ticks_per_quarter <= 0x7FFF,
                "serialize_midi: ticks_per_quarter {} is outside 1..32767", file.ticks_per_quarter);
  for (size_t i = 0; i < file.tempos.size(); ++i) {
    const TempoChange& tempo = file.tempos[i];
    check_tick(tempo.tick, fmt::format("tempo change {}", i));
    STRIPES_CHECK(tempo.microseconds_per_quarter >= 1 && tempo.microseconds_per_quarter <= 0xFFFFFF,
                  "serialize_midi: tempo change {}: {} microseconds per quarter note is outside 1..16777215", i,
                  tempo.microseconds_per_quarter);
  }
  for (size_t i = 0; i < file.time_signatures.size(); ++i) {
    const TimeSignature& signature = file.time_signatures[i];
    check_tick(signature.tick, fmt::format("time signature {}", i));
    STRIPES_CHECK(signature.numerator >= 0 && signature.numerator <= 255,
                  "serialize_midi: time signature {}: numerator {} is outside 0..255", i, signature.numerator);
    const int denominator = signature.denominator;
    STRIPES_CHECK(denominator >= 1 && denominator <= (1 << kLargestDenominatorExponent) &&
                      (denominator & (denominator - 1)) == 0,
                  "serialize_midi: time signature {}: denominator {} is not a power of two in 1..2^{}", i,
                  denominator, kLargestDenominatorExponent);
  }
  for (size_t track_index = 0; track_index < file.tracks.size(); ++track_index) {
    const Track& track = file.tracks[track_index];
    for (size_t note_index = 0; note_index < track.notes.size(); ++note_index) {
      const Note& note = track.notes[note_index];
      // Messages are formatted only on failure: this loop runs for every note.
      const auto fail = [&](const std::string& problem) {
        throw_error("serialize_midi: track {} ('{}') note {}: {}", track_index, track.name, note_index, problem);
      };
      if (note.channel < 0 || note.channel >= kChannelCount) {
        fail(fmt::format("channel {} is outside 0..15", note.channel));
      }
      if (note.pitch < 0 || note.pitch >= kPitchCount) fail(fmt::format("pitch {} is outside 0..127", note.pitch));
      if (note.velocity < 1 || note.velocity > 127) {
        fail(fmt::format("velocity {} is outside 1..127", note.velocity));
      }
      for (const int64_t tick : {note.start_tick, note.end_tick}) {
        if (tick < 0 || tick > kLargestWritableTick) {
          fail(fmt::format("tick {} is outside 0..{}", tick, kLargestWritableTick));
        }
      }
      if (note.end_tick <= note.start_tick) {
        fail(fmt::format("end tick {} is not after start tick {}", note.end_tick, note.start_tick));
      }
    }
  }
  check_tick(file.end_tick, "end_tick");
}

std::string lowercase_ascii(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

// ---- MidiFile ----------------------------------------------------------------------------------

int MidiFile::find_track(const std::string& name) const {
  const std::string wanted = lowercase_ascii(name);
  for (size_t i = 0; i < tracks.size(); ++i) {
    if (lowercase_ascii(tracks[i].name) == wanted) return static_cast<int>(i);
  }
  return -1;
}

size_t MidiFile::note_count() const {
  size_t count = 0;
  for (const Track& track : tracks) count += track.notes.size();
  return count;
}

// ---- reading -----------------------------------------------------------------------------------

const char* overlap_policy_name(OverlapPolicy policy) {
  switch (policy) {
    case OverlapPolicy::kCutAtRetrigger: return "cut-at-retrigger";
    case OverlapPolicy::kFirstInFirstOut: return "fifo";
  }
  return "?";
}

MidiFile parse_midi(const std::vector<uint8_t>& bytes, const std::string& source_name, const MidiReadOptions& options) {
  ByteReader reader(bytes, source_name);
  const HeaderChunk header = read_header_chunk(reader, bytes);
  MidiFile file;
  file.format = header.format;
  file.ticks_per_quarter = header.ticks_per_quarter;

  int track_chunks_read = 0;
  while (track_chunks_read < header.track_count) {
    const size_t chunk_start = reader.position();
    if (reader.remaining() < kChunkHeaderBytes) {
      reader.fail_at(chunk_start, fmt::format("expected track chunk {} of the {} the header declares ('MTrk' chunk "
                                              "header, 8 bytes), found {}",
                                              track_chunks_read + 1, header.track_count,
                                              reader.remaining() == 0
                                                  ? std::string("end of file")
                                                  : fmt::format("only {} bytes before end of file", reader.remaining())));
    }
    const uint8_t* id = reader.data_at(chunk_start);
    if (!chunk_id_is_ascii(id)) {
      reader.fail_at(chunk_start, fmt::format("expected a chunk id of 4 ASCII characters ('MTrk'), found {} (is a "
                                              "previous chunk length wrong?)",
                                              describe_chunk_id(id)));
    }
    reader.seek(chunk_start + 4);
    const uint32_t length = reader.read_big_endian(4, "chunk length");
    const size_t data_start = reader.position();
    if (length > reader.remaining()) {
      reader.fail_at(chunk_start + 4, fmt::format("chunk {} declares a length of {} bytes, which runs past the end of "
                                                  "the file (only {} bytes remain)",
                                                  describe_chunk_id(id), length, reader.remaining()));
    }
    const size_t chunk_end = data_start + length;
    if (chunk_id_is(id, "MTrk")) {
      const int64_t end_tick = read_track_chunk(reader, chunk_end, track_chunks_read, options, file);
      file.end_tick = std::max(file.end_tick, end_tick);
      ++track_chunks_read;
    }
    reader.seek(chunk_end);  // unknown chunk types are skipped, as the specification requires
  }

  std::stable_sort(file.tempos.begin(), file.tempos.end(),
                   [](const TempoChange& a, const TempoChange& b) { return a.tick < b.tick; });
  std::stable_sort(file.time_signatures.begin(), file.time_signatures.end(),
                   [](const TimeSignature& a, const TimeSignature& b) { return a.tick < b.tick; });
  return file;
}

MidiFile read_midi(const std::string& path, const MidiReadOptions& options) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw_error("{}: cannot open for reading: {}", path, std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  if (stream.bad()) throw_error("{}: read error: {}", path, std::strerror(errno));
  return parse_midi(bytes, path, options);
}

// ---- writing -----------------------------------------------------------------------------------

std::vector<uint8_t> serialize_midi(const MidiFile& file) {
  check_writable(file);
  std::vector<TrackChunkBuilder> chunks;

  if (file.format == 0) {
    TrackChunkBuilder& chunk = chunks.emplace_back();
    for (const Track& track : file.tracks) {
      if (!track.name.empty()) {
        chunk.add_meta(0, OutputEvent::kTrackName, kMetaTrackName, bytes_of(track.name));
        break;
      }
    }
    add_tempo_map(chunk, file);
    std::vector<Note> all_notes;
    for (const Track& track : file.tracks) all_notes.insert(all_notes.end(), track.notes.begin(), track.notes.end());
    for (const Note& note : cut_same_pitch_overlaps(std::move(all_notes))) chunk.add_note(note);
  } else {
    const bool first_track_is_conductor = !file.tracks.empty() && file.tracks[0].notes.empty();
    TrackChunkBuilder& conductor = chunks.emplace_back();
    if (first_track_is_conductor && !file.tracks[0].name.empty()) {
      conductor.add_meta(0, OutputEvent::kTrackName, kMetaTrackName, bytes_of(file.tracks[0].name));
    }
    add_tempo_map(conductor, file);
    for (size_t i = first_track_is_conductor ? 1 : 0; i < file.tracks.size(); ++i) {
      const Track& track = file.tracks[i];
      TrackChunkBuilder& chunk = chunks.emplace_back();
      if (!track.name.empty()) chunk.add_meta(0, OutputEvent::kTrackName, kMetaTrackName, bytes_of(track.name));
      for (const Note& note : cut_same_pitch_overlaps(track.notes)) chunk.add_note(note);
    }
  }
  STRIPES_CHECK(chunks.size() <= 0xFFFF, "serialize_midi: {} track chunks, more than a MIDI file can hold (65535)",
                chunks.size());

  std::vector<uint8_t> out = {'M', 'T', 'h', 'd'};
  append_big_endian(out, static_cast<uint32_t>(kHeaderChunkDataBytes), 4);
  append_big_endian(out, static_cast<uint32_t>(file.format), 2);
  append_big_endian(out, static_cast<uint32_t>(chunks.size()), 2);
  append_big_endian(out, static_cast<uint32_t>(file.ticks_per_quarter), 2);
  for (TrackChunkBuilder& chunk : chunks) chunk.append_chunk(out, file.end_tick);
  return out;
}

void write_midi(const MidiFile& file, const std::string& path) {
  const std::vector<uint8_t> bytes = serialize_midi(file);  // before opening: no half-written file on error
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  if (!stream) throw_error("{}: cannot open for writing: {}", path, std::strerror(errno));
  stream.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  stream.close();
  if (!stream) throw_error("{}: write error: {}", path, std::strerror(errno));
}

}  // namespace stripes::midi
