// Seeded random numbers, identical for the same seed whatever the number of threads.
//
// Counter-based: element i of a draw is a pure function of (seed, offset + i) through the
// Philox4x32-10 bijection (tensor/philox.hpp, shared with the CUDA backend), so a draw can be split across threads (and,
// later, CUDA blocks) and still give the same numbers. The generator's whole state is
// (seed, offset); a checkpoint stores both.
#pragma once

#include "tensor/philox.hpp"

#include <array>
#include <cstdint>

namespace stripes {

class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : seed_(seed) {}

  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  void set_state(uint64_t seed, uint64_t offset) { seed_ = seed; offset_ = offset; }

  // Reserve `count` consecutive counters; returns the first. Each counter gives 128 random bits.
  uint64_t reserve(uint64_t count) {
    const uint64_t first = offset_;
    offset_ += count;
    return first;
  }

  // 128 random bits for counter `counter` under this generator's seed.
  // Inline (not in a .cpp) so that a fill loop over counters interleaves the Philox rounds of
  // neighbouring elements: an out-of-line call per element made a dropout mask 4x slower.
  std::array<uint32_t, 4> bits(uint64_t counter) const {
    const philox::Block b = philox::bits(counter, seed_);
    return {b.x[0], b.x[1], b.x[2], b.x[3]};
  }
  // Uniform in [0, 1) with 53 random bits, from counter `counter`.
  double uniform(uint64_t counter) const { return philox::uniform(counter, seed_); }
  // Standard normal (Box-Muller on two 53-bit uniforms of the same counter).
  double normal(uint64_t counter) const { return philox::normal(counter, seed_); }

 private:
  uint64_t seed_ = 0;
  uint64_t offset_ = 0;
};

}  // namespace stripes
