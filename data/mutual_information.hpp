// Mutual information between content and context (the paper's Table I, method.md §5).
//
// Recipe (the reading of §5 that reproduces the paper best; the paper gives only the outline):
//   1. windows of T + 1 ticks (default T = 1024, overlap 128, the training windows) of the songs of
//      one split (default train), exactly the windows the models see (make_windows);
//   2. content X = MIDI pitch (0..127) of every active pianoroll cell of the chosen tracks (default
//      all three: MELODY, BRIDGE, PIANO) at every tick of the window (all T + 1 ticks). A cell is
//      (track, pitch, tick); two overlapping notes of one pitch in one track are one cell;
//   3. context Y = the symbol of the cell's tick under the context type, computed over the whole
//      window as the span (contexts.hpp): TIME = tick index 0..T, REP = rank of the chord id within
//      the window, KEY = key-normalized chord token, BIN = 12-bit chroma as one symbol;
//   4. MI(X; Y) = sum_{x,y} p(x,y) ln(p(x,y) / (p(x) p(y))) in nats, with the empirical (plug-in)
//      probabilities of all (x, y) pairs pooled over all windows of the split.
// The plug-in estimate is biased upwards by about (|X| - 1)(|Y| - 1) / (2N) (Miller-Madow); it is
// reported beside each value (it is most of the TIME value).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "data/contexts.hpp"
#include "data/pop909/pop909_song.hpp"

namespace stripes::data {

// A joint count table n(x, y) over x in [0, x_count) and y in [0, ...) (grows as needed).
class JointCounts {
 public:
  explicit JointCounts(int x_count);
  void add(int x, int y, int64_t count = 1);
  void merge(const JointCounts& other);
  int64_t count(int x, int y) const;
  int64_t total() const { return total_; }
  int x_count() const { return x_count_; }
  int y_count() const;    // 1 + the largest y seen (0 if none)
  int x_support() const;  // x values with a nonzero marginal
  int y_support() const;
  // Plug-in mutual information in nats (0 for an empty table).
  double mutual_information() const;
  // Miller-Madow bias of the plug-in estimate, (x_support - 1)(y_support - 1) / (2 total).
  double plug_in_bias() const;

 private:
  int x_count_;
  int64_t total_ = 0;
  std::vector<int64_t> counts_;  // row-major [y][x]
};

// Tracks, as bits: MELODY 1, BRIDGE 2, PIANO 4.
inline constexpr unsigned kMelodyTrackBit = 1u, kBridgeTrackBit = 2u, kPianoTrackBit = 4u;
inline constexpr unsigned kAllTracks = kMelodyTrackBit | kBridgeTrackBit | kPianoTrackBit;
// "all", "melody", "bridge", "piano", "input" (melody + bridge), or a comma list; throws on others.
unsigned parse_track_set(const std::string& names);
std::string track_set_name(unsigned tracks);  // "melody+bridge+piano"

struct MutualInformationOptions {
  std::optional<Split> split = Split::kTrain;  // nullopt: every song
  int sequence_length = 1024;                  // T; windows of T + 1 ticks
  int overlap = -1;                            // -1: default_window_overlap(T) = T / 8
  unsigned tracks = kAllTracks;
  std::vector<ContextType> contexts = {kPaperContextTypes.begin(), kPaperContextTypes.end()};
};

struct MutualInformationResult {
  ContextType context = ContextType::kTime;
  double nats = 0.0;
  double plug_in_bias = 0.0;
  int64_t pairs = 0;        // N: active cells counted
  int context_symbols = 0;  // |Y| (support)
  int content_symbols = 0;  // |X| (support)
};

struct MutualInformationReport {
  MutualInformationOptions options;
  int overlap = 0;  // the overlap used
  int songs = 0;
  int64_t windows = 0;
  std::vector<MutualInformationResult> results;  // in options.contexts order
  double seconds = 0.0;
};

// The recipe above over `songs` (those not in options.split are ignored). MCP is refused (it has
// no single symbol).
MutualInformationReport content_context_mutual_information(std::span<const Pop909Song> songs,
                                                           const ContextEncoder& encoder,
                                                           const MutualInformationOptions& options);

// The paper's Table I values (nats) for TIME, REP, KEY, BIN; NaN for MCP.
double paper_mutual_information(ContextType context);

}  // namespace stripes::data
