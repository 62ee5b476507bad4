#include "nn/optim/schedule.hpp"

#include "tensor/error.hpp"

#include <algorithm>
#include <cmath>

namespace stripes::nn {

double LearningRateSchedule::warmup_factor(int64_t step) const {
  if (warmup_steps <= 0) return 1.0;
  return std::min(1.0, double(step + 1) / double(warmup_steps));
}

double LearningRateSchedule::decay_factor(int64_t epoch) const {
  STRIPES_CHECK(decay_every_epochs > 0, "learning-rate schedule: decay_every_epochs must be positive, got {}",
                decay_every_epochs);
  return std::pow(decay_gamma, double(epoch / decay_every_epochs));
}

double LearningRateSchedule::at(int64_t step, int64_t epoch) const {
  return base * warmup_factor(step) * decay_factor(epoch);
}

int64_t SequenceLengthCurriculum::at(int64_t step) const {
  STRIPES_CHECK(start > 0 && end >= start && multiple_of > 0,
                "curriculum: need 0 < start <= end and multiple_of > 0, got start {}, end {}, multiple_of {}", start,
                end, multiple_of);
  if (ramp_steps <= 0 || step >= ramp_steps) return end;
  const double fraction = double(std::max<int64_t>(step, 0)) / double(ramp_steps);
  const int64_t length = start + int64_t(std::floor(double(end - start) * fraction));
  return std::max(start, length / multiple_of * multiple_of);
}

}  // namespace stripes::nn
