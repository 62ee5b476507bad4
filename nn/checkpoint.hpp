// HDF5 checkpoints: everything needed to continue a run bit for bit, in one .h5 file.
//
//   /                      attributes: format = "stripes-checkpoint", version = 1,
//                          step, epoch (int64), config (the full configuration, a JSON string)
//   /parameters/<path>     every parameter; <path> mirrors the module tree like the dumps do
//                          ("layers.0.attn.q_proj.weight" -> layers.0/attn/q_proj/weight), with
//                          attributes name (the dotted name), shape, dtype
//   /optimizer             the optimizer's state (nn/optim/optimizer.hpp): attributes type,
//                          learning_rate, betas, eps, weight_decay, step_count; m/<path>, v/<path>
//   /rng/<name>            uint64 [2] = (seed, offset) of each named generator (data, dropout, ...)
//
// The file is written to "<path>.tmp" and renamed, so a crash never leaves a half-written
// checkpoint under the real name. Loading validates everything before changing anything: a
// missing, extra, mis-shaped or mis-typed parameter (or optimizer moment, or generator) throws
// stripes::Error naming it, the file, and both shapes, and leaves the model untouched.
#pragma once

#include "nn/module.hpp"
#include "nn/optim/optimizer.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace stripes::nn {

struct TrainingState {
  int64_t step = 0;   // optimizer steps taken
  int64_t epoch = 0;
};

using NamedGenerators = std::vector<std::pair<std::string, std::shared_ptr<Generator>>>;

// `optimizer` may be null (parameters only).
void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const TrainingState& state, const NamedGenerators& generators, const nlohmann::json& config);

// Restores what save_checkpoint wrote into `model`, `optimizer` (may be null: skipped), `state`
// (may be null) and the generators named in `generators` (each must be in the file). Returns the
// stored configuration.
nlohmann::json load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, TrainingState* state,
                               const NamedGenerators& generators);

// The configuration stored in a checkpoint (to rebuild the model before loading into it).
nlohmann::json read_checkpoint_config(const std::string& path);

}  // namespace stripes::nn
