#include "tensor/random.hpp"

#include "tensor/philox.hpp"

namespace stripes {

std::array<uint32_t, 4> Generator::bits(uint64_t counter) const {
  const philox::Block b = philox::bits(counter, seed_);
  return {b.x[0], b.x[1], b.x[2], b.x[3]};
}

double Generator::uniform(uint64_t counter) const { return philox::uniform(counter, seed_); }

double Generator::normal(uint64_t counter) const { return philox::normal(counter, seed_); }

}  // namespace stripes
