// dimension_codes on the GPU, pure index math (launchers: attention/cuda/dimension_codes.cu; the
// op, its CPU loop and composed reference: attention/pe/dimension_codes.cpp). Run on the CPU by
// the emulator in tests/attention/test_kernel_emulation.cpp against the CPU op.
//
//   h(a_d)_k = [a_d c_dk, a_d s_dk],  k < K     c = cos φ, s = sin φ: [..., D·K] ordered (d, k)
//   interleaved: y = [h(a_d)_k] over (d, k, cos|sin)   [..., 2DK]
//   pooled:      y = [Σ_d h(a_d)_k] over (k, cos|sin)  [..., 2K]
//   a: [..., D]   c, s broadcast over a's leading dims
// Backward, with (g_c, g_s) the gradients of h(a_d)_k's two entries (pooled: of y_2k, y_2k+1, for
// every d):   ∂a_d = Σ_k (g_c c_dk + g_s s_dk),   ∂c_dk = g_c a_d,   ∂s_dk = g_s a_d
// ∂c and ∂s are written at a's leading shape (the caller sums them down to the tables' shape).
// Forward: one thread per (row, k) pooled, summing over d; per (row, d, k) interleaved. Backward:
// one thread per (row, d), looping over its K codes. Grid-stride loops.
#pragma once

#include "attention/pe/row_offset_table.hpp"
#include "tensor/cuda/kernel_language.hpp"

#include <cstdint>

namespace stripes::attention::cuda_kernels {

template <typename T>
STRIPES_KERNEL void dimension_codes_forward_kernel(T* y, const T* a, const T* c, const T* s, RowOffsetTable a_rows,
                                                   RowOffsetTable c_rows, RowOffsetTable s_rows, int64_t rows,
                                                   int64_t dims, int64_t sines, bool pooled) {
  const int64_t items = pooled ? rows * sines : rows * dims * sines;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < items; e += int64_t(blockDim.x) * gridDim.x) {
    if (pooled) {  // e = (r, k)
      const int64_t r = e / sines, k = e % sines;
      const T* ar = a + a_rows.of(r);
      const T* cr = c + c_rows.of(r);
      const T* sr = s + s_rows.of(r);
      double cos_sum = 0, sin_sum = 0;  // in double, as the CPU
      for (int64_t d = 0; d < dims; ++d) {
        cos_sum += double(ar[d] * cr[d * sines + k]);  // Σ_d a_d c_dk
        sin_sum += double(ar[d] * sr[d * sines + k]);  // Σ_d a_d s_dk
      }
      y[2 * e] = T(cos_sum);
      y[2 * e + 1] = T(sin_sum);
    } else {  // e = (r, d, k); the table entry (d, k) of row r is e − r·D·K
      const int64_t r = e / (dims * sines), dk = e % (dims * sines), d = dk / sines;
      const T ad = a[a_rows.of(r) + d];
      y[2 * e] = ad * c[c_rows.of(r) + dk];
      y[2 * e + 1] = ad * s[s_rows.of(r) + dk];
    }
  }
}

// da (contiguous [..., D]), dc, ds (contiguous [..., D·K]) may each be null: not wanted. a is read
// only for dc/ds, c and s only for da.
template <typename T>
STRIPES_KERNEL void dimension_codes_backward_kernel(T* da, T* dc, T* ds, const T* grad_y, const T* a, const T* c,
                                                    const T* s, RowOffsetTable a_rows, RowOffsetTable c_rows,
                                                    RowOffsetTable s_rows, int64_t rows, int64_t dims, int64_t sines,
                                                    bool pooled) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < rows * dims; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t r = e / dims, d = e % dims;
    const T* gr = grad_y + (pooled ? r * 2 * sines : (r * dims + d) * 2 * sines);  // (g_c, g_s) pairs over k
    const T ad = (dc || ds) ? a[a_rows.of(r) + d] : T(0);
    const T* cr = da ? c + c_rows.of(r) : nullptr;  // the row located once, not once per code
    const T* sr = da ? s + s_rows.of(r) : nullptr;
    T grad_a = T(0);
    for (int64_t k = 0; k < sines; ++k) {
      const T g_cos = gr[2 * k], g_sin = gr[2 * k + 1];
      const int64_t dk = d * sines + k;
      if (da) grad_a += g_cos * cr[dk] + g_sin * sr[dk];
      if (dc) dc[e * sines + k] = g_cos * ad;  // row r, entry (d, k): (r·D + d)·K + k
      if (ds) ds[e * sines + k] = g_sin * ad;
    }
    if (da) da[e] = grad_a;
  }
}

}  // namespace stripes::attention::cuda_kernels
