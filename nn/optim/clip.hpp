// Gradient clipping, in place on the parameters' gradients (before the optimizer step).
//
// By global norm (PyTorch clip_grad_norm_, also PyTorch Lightning's default algorithm for
// `gradient_clip_val`, which StrIPE sets to 0.0005):
//   n = √(Σ_p Σ_i g_{p,i}²)   over every parameter with a gradient
//   if n > max_norm:  g ← g · max_norm / (n + 1e-6)
// By value:  g ← clamp(g, −c, c)
#pragma once

#include "nn/module.hpp"

namespace stripes::nn {

// Returns the global norm before clipping (accumulated in double).
double clip_grad_norm(const NamedParameters& parameters, double max_norm);
double grad_norm(const NamedParameters& parameters);
void clip_grad_value(const NamedParameters& parameters, double clip_value);

}  // namespace stripes::nn
