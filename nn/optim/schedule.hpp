// Learning-rate schedules and the sequence-length curriculum (method.md §4.4: linear warm-up,
// per-epoch step decay, a curriculum on the sequence length).
//
// Learning rate at optimizer step s (0-based) in epoch e (0-based):
//   η(s, e) = η₀ · w(s) · d(e)
//   w(s) = min(1, (s + 1) / warmup_steps)      linear warm-up (1 when warmup_steps = 0)
//   d(e) = γ^⌊e / decay_every_epochs⌋          step decay per epoch (PyTorch StepLR; StrIPE γ = 0.85)
// (s + 1) so that the first step already moves (PyTorch's LambdaLR with s / warmup would spend a
// step at η = 0.)
//
// Curriculum: the sequence length at step s grows linearly from `start` to `end` over the first
// `ramp_steps` steps, rounded down to a multiple of `multiple_of`, then stays at `end`
// (StrIPE: 16 -> max length over the first 2875 steps):
//   L(s) = start + (end − start) · min(1, s / ramp_steps)
#pragma once

#include <cstdint>
#include <functional>

namespace stripes::nn {

struct LearningRateSchedule {
  double base = 1e-3;
  int64_t warmup_steps = 0;
  double decay_gamma = 1.0;
  int64_t decay_every_epochs = 1;

  double at(int64_t step, int64_t epoch) const;
  double warmup_factor(int64_t step) const;
  double decay_factor(int64_t epoch) const;
};

struct SequenceLengthCurriculum {
  int64_t start = 16;
  int64_t end = 16;
  int64_t ramp_steps = 0;  // 0: always `end`
  int64_t multiple_of = 1;

  int64_t at(int64_t step) const;
  // As a hook for the trainer (TrainerOptions::sequence_length).
  std::function<int64_t(int64_t)> hook() const {
    return [curriculum = *this](int64_t step) { return curriculum.at(step); };
  }
};

}  // namespace stripes::nn
