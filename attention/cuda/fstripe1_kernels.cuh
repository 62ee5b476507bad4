// F-StrIPE₁'s features on the GPU, pure index math (launchers: attention/cuda/fstripe1.cu; the op,
// its CPU loop and composed reference: attention/pe/fstripe1.cpp). Run on the CPU by the emulator
// in tests/attention/test_kernel_emulation.cpp against the CPU op.
//
//   h(a_d) = [a_d c_d, a_d s_d]      c = cos(f_d p), s = sin(f_d p)
//   unpooled: y = h(a_0) ⊕ … ⊕ h(a_{D−1})   [..., 2D]      pooled: y = Σ_d h(a_d)   [..., 2]
//   a: [..., D]   c, s: [..., D], broadcast over a's leading dims
// Backward, with (g_c, g_s) = (y_2d, y_2d+1)'s gradients (pooled: (y_0, y_1)'s, for every d):
//   ∂a_d = g_c c_d + g_s s_d,   ∂c_d = g_c a_d,   ∂s_d = g_s a_d
// ∂c and ∂s are written at a's leading shape (the caller sums them down to the tables' shape).
// Forward: pooled, one thread per row summing its D products; unpooled, one thread per (row, d).
// Backward: one thread per (row, d). Grid-stride loops.
#pragma once

#include "attention/cuda/row_offset_table.cuh"
#include "tensor/cuda/kernel_language.hpp"

#include <cstdint>

namespace stripes::attention::cuda_kernels {

template <typename T>
STRIPES_KERNEL void fstripe1_features_forward_kernel(T* y, const T* a, const T* c, const T* s, RowOffsetTable a_rows,
                                                     RowOffsetTable c_rows, RowOffsetTable s_rows, int64_t rows,
                                                     int64_t dims, bool pooled) {
  const int64_t items = pooled ? rows : rows * dims;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < items; e += int64_t(blockDim.x) * gridDim.x) {
    if (pooled) {
      const T* ar = a + a_rows.of(e);
      const T* cr = c + c_rows.of(e);
      const T* sr = s + s_rows.of(e);
      double cos_sum = 0, sin_sum = 0;  // in double, as the CPU
      for (int64_t d = 0; d < dims; ++d) {
        cos_sum += double(ar[d] * cr[d]);  // Σ_d a_d c_d
        sin_sum += double(ar[d] * sr[d]);  // Σ_d a_d s_d
      }
      y[2 * e] = T(cos_sum);
      y[2 * e + 1] = T(sin_sum);
    } else {
      const int64_t r = e / dims, d = e % dims;
      const T ad = a[a_rows.of(r) + d];
      y[2 * e] = ad * c[c_rows.of(r) + d];      // row r, entry 2d: 2·(r·D + d)
      y[2 * e + 1] = ad * s[s_rows.of(r) + d];
    }
  }
}

// da (contiguous [..., D]), dc, ds (contiguous [..., D]) may each be null: not wanted. a is read
// only for dc/ds, c and s only for da.
template <typename T>
STRIPES_KERNEL void fstripe1_features_backward_kernel(T* da, T* dc, T* ds, const T* grad_y, const T* a, const T* c,
                                                      const T* s, RowOffsetTable a_rows, RowOffsetTable c_rows,
                                                      RowOffsetTable s_rows, int64_t rows, int64_t dims, bool pooled) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < rows * dims; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t r = e / dims, d = e % dims;
    const T g_cos = pooled ? grad_y[2 * r] : grad_y[2 * e], g_sin = pooled ? grad_y[2 * r + 1] : grad_y[2 * e + 1];
    if (da) da[e] = g_cos * c[c_rows.of(r) + d] + g_sin * s[s_rows.of(r) + d];
    if (dc || ds) {
      const T ad = a[a_rows.of(r) + d];
      if (dc) dc[e] = g_cos * ad;
      if (ds) ds[e] = g_sin * ad;
    }
  }
}

}  // namespace stripes::attention::cuda_kernels
