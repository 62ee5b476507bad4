// Shared by the spectral PEs' fused code ops (pooled_sinusoid_codes.cpp, pooled_noisy_codes.cpp):
// the layout of a [B, H, T, D] and of the phases φ [B|1, H, T, D·K] (ordered (d, k); one phase
// table for the whole batch when the positions are the same for every sequence), and cos φ, sin φ
// of one row of phases with Eigen's vectorized sin and cos.
#pragma once

#include "tensor/eigen.hpp"
#include "tensor/error.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>

namespace stripes::attention {

struct PhaseRows {
  int64_t batch, phase_batch, heads, steps, dims, sines;
  int64_t phases() const { return dims * sines; }                                             // D·K per row
  int64_t row(int64_t b, int64_t h, int64_t t) const { return (b * heads + h) * steps + t; }  // row of a and of the output
  int64_t phase_row(int64_t b, int64_t h, int64_t t) const { return ((phase_batch == 1 ? 0 : b) * heads + h) * steps + t; }
  // b starts a new row of phases (the first of the batch, or every b when each has its own)
  bool new_phase_row(int64_t b) const { return b == 0 || phase_batch > 1; }
  // b ends one (the last of the batch, or every b): gradients of the phases are complete there
  bool ends_phase_row(int64_t b) const { return phase_batch > 1 || b == batch - 1; }
};

// The rows of a [B, H, T, D] and phases [B|1, H, T, D·K] of one dtype and device, checked; `op` and
// `third` (the op's other operand, e.g. "gains [H, D·K]") name them in the error.
inline PhaseRows phase_rows_of(const char* op, const Tensor& a, const Tensor& phase, const char* third) {
  const bool fits = a.dim() == 4 && phase.dim() == 4 && a.size(3) > 0 && (phase.size(0) == a.size(0) || phase.size(0) == 1) &&
                    phase.size(1) == a.size(1) && phase.size(2) == a.size(2) && phase.size(3) % a.size(3) == 0 &&
                    phase.dtype() == a.dtype() && phase.device() == a.device();
  STRIPES_CHECK(fits, "{}: a {} and phases {} must be [B, H, T, D] and [B|1, H, T, D·K] of one dtype and device (with {})",
                op, a.description(), phase.description(), third);
  return {a.size(0), phase.size(0), a.size(1), a.size(2), a.size(3), phase.size(3) / a.size(3)};
}

// cos φ and sin φ of `count` phases.
template <typename T>
void sinusoids(T* cosines, T* sines, const T* phase, int64_t count) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Eigen::Map<const Array> p(phase, count);
  Eigen::Map<Array>(cosines, count) = p.cos();
  Eigen::Map<Array>(sines, count) = p.sin();
}

}  // namespace stripes::attention
