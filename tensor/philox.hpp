// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
// two transforms stripes draws with, written once for the CPU and the GPU so that both backends
// produce the same numbers for the same (seed, counter).
#pragma once

#include "tensor/scalar_functions.hpp"

#include <cmath>
#include <cstdint>

namespace stripes::philox {

struct Block {
  uint32_t x[4];
};

// 10 rounds of the Philox bijection on a 128-bit counter under a 64-bit key.
STRIPES_HOST_DEVICE inline Block bits(uint64_t counter, uint64_t seed) {
  uint32_t c0 = uint32_t(counter), c1 = uint32_t(counter >> 32), c2 = 0u, c3 = 0u;
  uint32_t k0 = uint32_t(seed), k1 = uint32_t(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t product0 = uint64_t(0xD2511F53u) * c0;
    const uint64_t product1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = uint32_t(product1 >> 32) ^ c1 ^ k0, n1 = uint32_t(product1);
    const uint32_t n2 = uint32_t(product0 >> 32) ^ c3 ^ k1, n3 = uint32_t(product0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Block{{c0, c1, c2, c3}};
}

// The top 53 of 64 random bits, as the integer m of the uniform m·2⁻⁵³.
STRIPES_HOST_DEVICE inline uint64_t mantissa53(uint32_t high, uint32_t low) {
  return ((uint64_t(high) << 32) | low) >> 11;
}

// 53 random bits as a double in [0, 1).
STRIPES_HOST_DEVICE inline double unit_interval(uint32_t high, uint32_t low) {
  return double(mantissa53(high, low)) * (1.0 / 9007199254740992.0);  // 2^-53
}

// A Bernoulli(p) draw without the conversion to double: uniform(counter) < p, i.e. m·2⁻⁵³ < p, is
// exactly m < ⌈p·2⁵³⌉ (p·2⁵³ is exact in double precision). Pass bernoulli_threshold(p).
inline uint64_t bernoulli_threshold(double p) { return uint64_t(std::ceil(p * 9007199254740992.0)); }
STRIPES_HOST_DEVICE inline bool bernoulli(uint64_t counter, uint64_t seed, uint64_t threshold) {
  const Block b = bits(counter, seed);
  return mantissa53(b.x[0], b.x[1]) < threshold;
}

STRIPES_HOST_DEVICE inline double uniform(uint64_t counter, uint64_t seed) {
  const Block b = bits(counter, seed);
  return unit_interval(b.x[0], b.x[1]);
}

// Box-Muller on two 53-bit uniforms of the same counter.
STRIPES_HOST_DEVICE inline double normal(uint64_t counter, uint64_t seed) {
  const Block b = bits(counter, seed);
  const double u1 = 1.0 - unit_interval(b.x[0], b.x[1]);  // (0, 1]: the log is finite
  const double u2 = unit_interval(b.x[2], b.x[3]);
  using std::cos;
  using std::log;
  using std::sqrt;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

}  // namespace stripes::philox
