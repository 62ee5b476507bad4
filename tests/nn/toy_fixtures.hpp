// The toy task the checkpoint and GPU training tests train: small, and exercising every piece of
// training state: dropout (RNG), warm-up and per-epoch decay (step, epoch), a curriculum (step),
// clipping, Adam moments.
#pragma once

#include "nn/toy_task.hpp"

namespace stripes::test {

inline nn::ToyTaskOptions resumable_toy_options() {
  nn::ToyTaskOptions options;
  options.symbols = 5;
  options.length = 4;
  options.min_length = 2;
  options.curriculum_steps = 6;
  options.batch_size = 8;
  options.seed = 7;
  options.warmup_steps = 5;
  options.decay_gamma = 0.9;
  options.steps_per_epoch = 4;
  options.clip_grad_norm = 0.5;
  options.model.d_model = 16;
  options.model.num_heads = 2;
  options.model.d_ff = 24;
  options.model.dropout = 0.1;
  options.model.attention_dropout = 0.1;
  return options;
}

inline nn::TrainerOptions quiet_trainer() {
  nn::TrainerOptions options;
  options.progress = false;
  return options;
}

}  // namespace stripes::test
