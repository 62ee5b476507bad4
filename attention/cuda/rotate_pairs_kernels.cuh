// rotate_pairs on the GPU, pure index math (launchers: attention/cuda/rotate_pairs.cu; the CPU op
// and the equations' derivation: attention/pe/rotary.cpp). Run on the CPU by the emulator in
// tests/attention/test_kernel_emulation.cpp against the CPU op.
//
//   u1_j = x_2j c_j − x_2j+1 s_j,   u2_j = x_2j+1 c_j + x_2j s_j
//   y = [u1_0, u2_0, u1_1, u2_1, …]   or, pooled (RoPEPool), y_j = u1_j + u2_j
//   x: [..., D]   c = cos α, s = sin α: [..., D/2], broadcast to x's leading dims   y: [..., D] | [..., D/2]
// Backward, g1 = ∂L/∂u1, g2 = ∂L/∂u2 (pooled: both ∂L/∂y_j):
//   ∂x_2j = g1 c + g2 s,  ∂x_2j+1 = g2 c − g1 s,  ∂c = g1 x_2j + g2 x_2j+1,  ∂s = g2 x_2j − g1 x_2j+1
// ∂c and ∂s are written at x's leading shape (the launcher's caller sums them down to the angles'
// broadcast shape). One thread per (row, pair), grid-stride.
#pragma once

#include "attention/pe/row_offset_table.hpp"
#include "tensor/cuda/kernel_language.hpp"

#include <cstdint>

namespace stripes::attention::cuda_kernels {

template <typename T>
STRIPES_KERNEL void rotate_pairs_forward_kernel(T* y, const T* x, const T* c, const T* s, RowOffsetTable x_rows,
                                                RowOffsetTable c_rows, RowOffsetTable s_rows, int64_t rows,
                                                int64_t pairs, bool pooled) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < rows * pairs; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t r = e / pairs, j = e % pairs;
    const T* xr = x + x_rows.of(r);
    const T cj = c[c_rows.of(r) + j], sj = s[s_rows.of(r) + j];
    const T u1 = xr[2 * j] * cj - xr[2 * j + 1] * sj;
    const T u2 = xr[2 * j + 1] * cj + xr[2 * j] * sj;
    if (pooled) {
      y[e] = u1 + u2;
    } else {
      y[2 * e] = u1;      // row r, entry 2j: 2·(r·pairs + j)
      y[2 * e + 1] = u2;
    }
  }
}

// dx (contiguous [..., D]), dc, ds (contiguous [..., D/2]) may each be null: not wanted. x is read
// only for dc/ds, c and s only for dx.
template <typename T>
STRIPES_KERNEL void rotate_pairs_backward_kernel(T* dx, T* dc, T* ds, const T* grad_y, const T* x, const T* c,
                                                 const T* s, RowOffsetTable x_rows, RowOffsetTable c_rows,
                                                 RowOffsetTable s_rows, int64_t rows, int64_t pairs, bool pooled) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < rows * pairs; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t r = e / pairs, j = e % pairs;
    const T g1 = pooled ? grad_y[e] : grad_y[2 * e], g2 = pooled ? grad_y[e] : grad_y[2 * e + 1];
    if (dx) {
      const T cj = c[c_rows.of(r) + j], sj = s[s_rows.of(r) + j];
      dx[2 * e] = g1 * cj + g2 * sj;
      dx[2 * e + 1] = g2 * cj - g1 * sj;
    }
    if (dc || ds) {
      const T* xr = x + x_rows.of(r);
      if (dc) dc[e] = g1 * xr[2 * j] + g2 * xr[2 * j + 1];
      if (ds) ds[e] = g2 * xr[2 * j] - g1 * xr[2 * j + 1];
    }
  }
}

}  // namespace stripes::attention::cuda_kernels
