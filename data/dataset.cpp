// Windows of POP909 songs as tensor batches; conventions in dataset.hpp.
#include "data/dataset.hpp"

#include <algorithm>
#include <numeric>

#include "tensor/error.hpp"
#include "tensor/random.hpp"

namespace stripes::data {

const char* target_alignment_name(TargetAlignment alignment) {
  return alignment == TargetAlignment::kNextTick ? "next-tick" : "same-tick";
}

WindowDataset::WindowDataset(std::shared_ptr<const std::vector<Pop909Song>> songs,
                             std::shared_ptr<const ContextEncoder> encoder, const DatasetOptions& options)
    : songs_(std::move(songs)), encoder_(std::move(encoder)), options_(options) {
  STRIPES_CHECK(songs_ != nullptr && encoder_ != nullptr, "WindowDataset: songs and context encoder are required");
  overlap_ = options.overlap < 0 ? default_window_overlap(options.sequence_length) : options.overlap;
  for (size_t i = 0; i < songs_->size(); ++i) {
    const Pop909Song& song = (*songs_)[i];
    if (song.split != options.split) continue;
    ++song_count_;
    const std::vector<int64_t> starts = window_starts(song.num_ticks, options.sequence_length, overlap_);
    for (size_t w = 0; w < starts.size(); ++w) {
      windows_.push_back(WindowRef{static_cast<int32_t>(i), song.song_id, static_cast<int32_t>(w), starts[w]});
    }
  }
}

const WindowRef& WindowDataset::window(int64_t index) const {
  STRIPES_CHECK(index >= 0 && index < size(), "WindowDataset: window {} out of range [0, {})", index, size());
  return windows_[static_cast<size_t>(index)];
}

const Pop909Song& WindowDataset::song(const WindowRef& window) const {
  return (*songs_)[static_cast<size_t>(window.song_index)];
}

Batch WindowDataset::batch(std::span<const int64_t> indices) const {
  STRIPES_CHECK(!indices.empty(), "WindowDataset: a batch needs at least one window");
  const int64_t batch_size = static_cast<int64_t>(indices.size());
  const int64_t length = options_.sequence_length;  // T
  const int64_t width = context_width(options_.context);
  Batch batch;
  batch.input = Tensor::zeros({batch_size, length, kInputRows}, DType::Float32);
  batch.target = Tensor::zeros({batch_size, length, kTargetRows}, DType::Float32);
  batch.positions = width == 1 ? Tensor::empty({batch_size, length}, DType::Float32)
                               : Tensor::empty({batch_size, length, width}, DType::Float32);
  for (int64_t index : indices) batch.windows.push_back(window(index));

  float* input = batch.input.mutable_data<float>();
  float* target = batch.target.mutable_data<float>();
  float* positions = batch.positions.mutable_data<float>();
  const int64_t shift = options_.target == TargetAlignment::kNextTick ? 1 : 0;

  std::vector<std::string> errors(static_cast<size_t>(batch_size));  // no exception may leave the parallel loop
#pragma omp parallel for schedule(static) if (batch_size > 1)
  for (int64_t b = 0; b < batch_size; ++b) {
    try {
      const WindowRef& ref = batch.windows[static_cast<size_t>(b)];
      const Pop909Song& song = this->song(ref);
      const int64_t start = ref.start_tick;
      float* input_b = input + b * length * kInputRows;
      float* target_b = target + b * length * kTargetRows;
      // Window tick u (0..T) of a note sets input row (u < T) and target row (u - shift in [0, T)).
      for (const SongNote& note : song.notes) {
        const int64_t from = std::max(note.start, start);
        const int64_t to = std::min(note.end, start + length + 1);
        if (from >= to) continue;
        const int64_t row = static_cast<int64_t>(note.track) * kPitchCount + note.pitch;
        for (int64_t tick = from; tick < to; ++tick) {
          const int64_t u = tick - start;
          if (u < length && note.track < 2) input_b[u * kInputRows + row] = 1.0f;
          const int64_t v = u - shift;
          if (v >= 0 && v < length) target_b[v * kTargetRows + row] = 1.0f;
        }
      }
      ContextSpan span;
      span.chord_ids = std::span<const int32_t>(song.chord_ids.data() + start, static_cast<size_t>(length));
      span.melody = std::span<const int32_t>(song.melody.data() + start, static_cast<size_t>(length));
      span.phrase_labels = std::span<const int32_t>(song.phrase_labels.data() + start, static_cast<size_t>(length));
      span.key = song.key;
      encoder_->positions(options_.context, span, positions + b * length * width);
    } catch (const std::exception& error) {
      errors[static_cast<size_t>(b)] = error.what();
    }
  }
  for (size_t b = 0; b < errors.size(); ++b) {
    if (!errors[b].empty()) {
      throw_error("WindowDataset: window of song {} at tick {}: {}", batch.windows[b].song_id,
                  batch.windows[b].start_tick, errors[b]);
    }
  }
  return batch;
}

// ---- shuffling and iteration --------------------------------------------------------------------

std::vector<int64_t> shuffled_indices(int64_t count, uint64_t seed, uint64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(std::max<int64_t>(count, 0)));
  std::iota(order.begin(), order.end(), int64_t{0});
  const Generator generator(seed);
  // Epoch e draws from counters [e << 40, ...): disjoint for any dataset under 2^40 windows.
  const uint64_t base = epoch << 40;
  for (int64_t i = count - 1; i > 0; --i) {
    const std::array<uint32_t, 4> bits = generator.bits(base + static_cast<uint64_t>(i));
    const uint64_t random = (static_cast<uint64_t>(bits[0]) << 32) | bits[1];
    // 64 random bits modulo i + 1 < 2^40: the bias is below 2^-24.
    const auto j = static_cast<int64_t>(random % static_cast<uint64_t>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

BatchIterator::BatchIterator(const WindowDataset& dataset, int batch_size, bool shuffle, uint64_t seed,
                             bool drop_last)
    : dataset_(dataset), batch_size_(batch_size), shuffle_(shuffle), seed_(seed), drop_last_(drop_last) {
  STRIPES_CHECK(batch_size > 0, "BatchIterator: batch size must be positive, got {}", batch_size);
  start_epoch(0);
}

void BatchIterator::start_epoch(uint64_t epoch) {
  epoch_ = epoch;
  position_ = 0;
  if (shuffle_) {
    order_ = shuffled_indices(dataset_.size(), seed_, epoch);
  } else {
    order_.resize(static_cast<size_t>(dataset_.size()));
    std::iota(order_.begin(), order_.end(), int64_t{0});
  }
}

int64_t BatchIterator::batches_per_epoch() const {
  const int64_t count = dataset_.size();
  return drop_last_ ? count / batch_size_ : (count + batch_size_ - 1) / batch_size_;
}

bool BatchIterator::next(Batch& batch) {
  const int64_t count = static_cast<int64_t>(order_.size());
  const int64_t remaining = count - position_;
  if (remaining <= 0 || (drop_last_ && remaining < batch_size_)) return false;
  const int64_t take = std::min<int64_t>(remaining, batch_size_);
  batch = dataset_.batch(std::span<const int64_t>(order_.data() + position_, static_cast<size_t>(take)));
  position_ += take;
  return true;
}

}  // namespace stripes::data
