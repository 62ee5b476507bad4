// The "contexts" of the paper: what the positional encodings see as the position p_t of each tick
// (method.md §4.3), computed from a song's per-tick structure rows.
//
//   TIME  p_t = t, the tick index within the span (a window: 0..T-1).            scalar
//   REP   the chord's global id (chord_db.csv, 395 ids) renumbered within the span by rank:
//         the smallest id present -> 0, the next -> 1, ... ("re-numbered based on their numerical
//         order"; only the rank reading reproduces the paper's Table I, method.md §5).  scalar
//   KEY   the chord transposed by -tonic of the song key (first line of analyzed_key.txt), so that
//         it becomes its counterpart in C major (major keys) or C minor (minor keys: the tonic goes
//         to C too), then tokenized: E:min in D major -> D:min -> the id of D:min. A global token,
//         not renumbered. Mode is not part of the token (C:min in C major and in C minor are the
//         same token).                                                             scalar
//   BIN   the chord's 12 pitch-class bits (C..B).                                  vector [12]
//   MCP   F-StrIPE's multi-level position [melody pitch, chord id, phrase label] (method.md §2.5;
//         16th-note, quarter-note and bar levels).                                 vector [3]
//
// Chords are annotated per quarter note and held for its 16 ticks, so REP/KEY/BIN change at most
// every 16 ticks.
//
// "No chord" (the all-zero vector, id 8: "N" lines, and the padding before the annotation start
// and after its end) is an ordinary symbol everywhere: REP ranks id 8 like any other id, KEY keeps
// it as id 8 (transposing nothing gives nothing), BIN gives 12 zeros (symbol 0), MCP gives 8.
//
// KEY tokens: a transposed chord that is in chord_db.csv keeps that id (0..394). 48 distinct
// transposed chords of the 866 songs (96 chord lines, 208 quarter notes) are not in it, so the KEY
// vocabulary extends chord_db with every transposition of its chords that it lacks (326 vectors),
// sorted by (root + 1, pitch-class bits), as ids 395.. (721 tokens in all). The extension depends
// on chord_db only, not on which songs are loaded.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "data/pop909/pop909_files.hpp"
#include "tensor/tensor.hpp"

namespace stripes::data {

enum class ContextType { kTime, kRep, kKey, kBin, kMcp };

inline constexpr std::array<ContextType, 5> kAllContextTypes = {ContextType::kTime, ContextType::kRep,
                                                                 ContextType::kKey, ContextType::kBin,
                                                                 ContextType::kMcp};
// The four context types of the paper's Table I (MI) and Tables II-III.
inline constexpr std::array<ContextType, 4> kPaperContextTypes = {ContextType::kTime, ContextType::kRep,
                                                                  ContextType::kKey, ContextType::kBin};

const char* context_name(ContextType type);  // "TIME", "REP", "KEY", "BIN", "MCP"
// Case-insensitive; throws stripes::Error listing the valid names.
ContextType parse_context_type(const std::string& name);
// "TIME,KEY", "all" (the four of the paper) or "every" (all five).
std::vector<ContextType> parse_context_list(const std::string& names);
// Values per tick: 1 for TIME/REP/KEY, 12 for BIN, 3 for MCP.
int context_width(ContextType type);

// The chord transposed up by `semitones` (negative: down): root and pitch classes rotate mod 12;
// "no chord" stays "no chord".
ChordVector transpose_chord(const ChordVector& chord, int semitones);

// The 12 bits as one symbol: sum of bit_pc << pc (C = bit 0). No chord -> 0.
int chroma_symbol(const ChordVector& chord);

// REP: rank of each id among the distinct ids of `chord_ids` (smallest -> 0).
std::vector<int32_t> rep_tokens(std::span<const int32_t> chord_ids);

// A song's structure rows over a span of ticks, as the contexts need them.
struct ContextSpan {
  std::span<const int32_t> chord_ids;      // global chord ids (chord_db.csv)
  std::span<const int32_t> melody;         // MIDI pitch, 0 = rest (MCP only; may be empty otherwise)
  std::span<const int32_t> phrase_labels;  // StrIPE label ids 0..51 (MCP only; may be empty otherwise)
  Key key;                                 // the song's key (KEY only)
  int64_t length() const { return static_cast<int64_t>(chord_ids.size()); }
};

// Computes contexts with tables precomputed from the chord vocabulary.
class ContextEncoder {
 public:
  explicit ContextEncoder(const ChordDatabase& chords);

  const ChordDatabase& chords() const { return chords_; }
  int chord_count() const { return chords_.size(); }

  // KEY: token of global chord `chord_id` in a song in `key` (see the header comment).
  int key_token(int chord_id, const Key& key) const;
  int key_vocabulary_size() const { return static_cast<int>(key_vocabulary_.size()); }
  // The (C-based) chord a KEY token stands for.
  const ChordVector& key_token_chord(int token) const;
  // BIN: the chord's 12-bit symbol (chroma_symbol of chord `chord_id`).
  int bin_symbol(int chord_id) const;

  // One integer symbol per tick of the span, for TIME, REP, KEY and BIN (BIN: chroma_symbol);
  // MCP has no single symbol and throws.
  std::vector<int32_t> symbols(ContextType type, const ContextSpan& span) const;
  // Positions as float32, row-major [length * width]: the symbols for TIME/REP/KEY, the 12 bits
  // for BIN, [melody, chord id, phrase label] for MCP. `out` must hold length * width floats.
  void positions(ContextType type, const ContextSpan& span, float* out) const;
  // The same as a tensor: float32 [T] (width 1) or [T, width].
  Tensor positions(ContextType type, const ContextSpan& span) const;

 private:
  void check_chord_id(int chord_id) const;

  ChordDatabase chords_;
  std::vector<ChordVector> key_vocabulary_;  // chord_db, then the missing transpositions
  std::vector<int32_t> key_table_;           // [chord_id * 12 + tonic] -> KEY token
  std::vector<int32_t> bin_table_;           // [chord_id] -> chroma symbol
};

}  // namespace stripes::data
