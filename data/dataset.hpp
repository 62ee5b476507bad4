// The melody-harmonization dataset: windows of POP909 songs as batches of tensors.
//
// Windows: T + 1 ticks, starting at tick 0 of the song, hop T + 1 - overlap, only those that fit
// entirely (the authors' convention, pop909_song.hpp). Overlap defaults to T / 8, the authors'
// rule for every length they used (512 -> 64, 1024 -> 128, 3072 -> 384). The paper trains on
// 16 bars (T = 1024) and tests on 16 and 64 bars (T = 4096); the overlap of its 64-bar test
// windows is not stated, and we continue the same rule: 4096 -> 512 (docs/data.md).
//
// A batch of B windows (method.md §4.2):
//   input     float32 [B, T, 256]  melody + bridge pianoroll rows (MELODY 0-127, BRIDGE 128-255) at
//                                  window ticks 0..T-1;
//   target    float32 [B, T, 384]  all three tracks (MELODY, BRIDGE, PIANO) at window ticks 1..T,
//                                  i.e. the tick after each input tick (TargetAlignment::kNextTick,
//                                  default), or at ticks 0..T-1 (kSameTick);
//   positions float32 [B, T] or [B, T, L]  the context of ticks 0..T-1 (contexts.hpp), computed
//                                  with those T ticks as the span (REP ranks within them).
// Why the target is the next tick by default: the windows are T + 1 ticks long precisely to give a
// one-tick shift (StrIPE's datasets.py, task next_note_pred: x = data[:-1], y = data[1:]); and the
// target holds the melody and bridge that are also the input, so with an aligned target a causal
// model could copy 2/3 of it from its own input at the same tick. StrIPE's aligned task
// (accompaniment_generation: x = data[:-1, :256], y = data[:-1, 256:]) has a 128-row, piano-only
// target, which is not the paper's 384-row output. Positions are aligned with the input, as in
// StrIPE (structure rows [:seq_len]).
//
// Shuffling is seeded: epoch e of seed s visits the windows in a permutation that depends only on
// (s, e) (Fisher-Yates driven by the counter-based Philox generator), whatever the thread count.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "data/contexts.hpp"
#include "data/pop909/pop909_song.hpp"
#include "tensor/tensor.hpp"

namespace stripes::data {

inline constexpr int kInputRows = 2 * kPitchCount;    // melody + bridge
inline constexpr int kTargetRows = kPianorollRows;    // melody + bridge + piano

enum class TargetAlignment {
  kNextTick,  // target at window ticks 1..T (default)
  kSameTick,  // target at window ticks 0..T-1
};
const char* target_alignment_name(TargetAlignment alignment);  // "next-tick", "same-tick"

struct DatasetOptions {
  Split split = Split::kTrain;
  int sequence_length = 1024;  // T
  int overlap = -1;            // -1: T / 8
  ContextType context = ContextType::kTime;
  TargetAlignment target = TargetAlignment::kNextTick;
};

// One window: song `song_index` (into the song vector), ticks [start_tick, start_tick + T + 1).
struct WindowRef {
  int32_t song_index = 0;
  int32_t song_id = 0;
  int32_t window_index = 0;  // within the song (the golden file's group name)
  int64_t start_tick = 0;
};

struct Batch {
  Tensor input;      // float32 [B, T, 256]
  Tensor target;     // float32 [B, T, 384]
  Tensor positions;  // float32 [B, T] or [B, T, width]
  std::vector<WindowRef> windows;
};

class WindowDataset {
 public:
  WindowDataset(std::shared_ptr<const std::vector<Pop909Song>> songs, std::shared_ptr<const ContextEncoder> encoder,
                const DatasetOptions& options);

  const DatasetOptions& options() const { return options_; }
  int sequence_length() const { return options_.sequence_length; }
  int overlap() const { return overlap_; }
  int64_t size() const { return static_cast<int64_t>(windows_.size()); }
  int song_count() const { return song_count_; }  // songs of the split (with or without windows)
  const WindowRef& window(int64_t index) const;
  const Pop909Song& song(const WindowRef& window) const;
  const ContextEncoder& encoder() const { return *encoder_; }

  // The windows `indices` as one batch (B = indices.size() >= 1).
  Batch batch(std::span<const int64_t> indices) const;

 private:
  std::shared_ptr<const std::vector<Pop909Song>> songs_;
  std::shared_ptr<const ContextEncoder> encoder_;
  DatasetOptions options_;
  int overlap_ = 0;
  int song_count_ = 0;
  std::vector<WindowRef> windows_;
};

// 0..count-1 in the seeded order of epoch `epoch`.
std::vector<int64_t> shuffled_indices(int64_t count, uint64_t seed, uint64_t epoch);

// Batches over a dataset, epoch by epoch.
class BatchIterator {
 public:
  // shuffle false: windows in dataset order (songs by id, windows in time order).
  // drop_last: skip a final batch smaller than batch_size.
  BatchIterator(const WindowDataset& dataset, int batch_size, bool shuffle, uint64_t seed, bool drop_last = false);

  // Restarts at the first batch of epoch `epoch` (a new permutation when shuffling).
  void start_epoch(uint64_t epoch);
  // The next batch of the epoch; false when the epoch is over.
  bool next(Batch& batch);
  int64_t batches_per_epoch() const;
  uint64_t epoch() const { return epoch_; }
  const std::vector<int64_t>& order() const { return order_; }

 private:
  const WindowDataset& dataset_;
  int batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_last_;
  uint64_t epoch_ = 0;
  int64_t position_ = 0;
  std::vector<int64_t> order_;
};

}  // namespace stripes::data
