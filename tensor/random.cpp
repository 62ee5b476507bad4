#include "tensor/random.hpp"

#include <cmath>
#include <numbers>

namespace stripes {

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key) {
  constexpr uint32_t kMultiplier0 = 0xD2511F53u, kMultiplier1 = 0xCD9E8D57u;
  constexpr uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    const uint64_t product0 = uint64_t(kMultiplier0) * counter[0];
    const uint64_t product1 = uint64_t(kMultiplier1) * counter[2];
    counter = {uint32_t(product1 >> 32) ^ counter[1] ^ key[0], uint32_t(product1),
               uint32_t(product0 >> 32) ^ counter[3] ^ key[1], uint32_t(product0)};
    key = {key[0] + kWeyl0, key[1] + kWeyl1};
  }
  return counter;
}

std::array<uint32_t, 4> Generator::bits(uint64_t counter) const {
  return philox4x32({uint32_t(counter), uint32_t(counter >> 32), 0u, 0u},
                    {uint32_t(seed_), uint32_t(seed_ >> 32)});
}

static double to_unit_interval(uint32_t high, uint32_t low) {
  const uint64_t mantissa = ((uint64_t(high) << 32) | low) >> 11;  // 53 bits
  return double(mantissa) * 0x1.0p-53;
}

double Generator::uniform(uint64_t counter) const {
  const auto b = bits(counter);
  return to_unit_interval(b[0], b[1]);
}

double Generator::normal(uint64_t counter) const {
  const auto b = bits(counter);
  const double u1 = 1.0 - to_unit_interval(b[0], b[1]);  // (0, 1]: log is finite
  const double u2 = to_unit_interval(b[2], b[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

}  // namespace stripes
