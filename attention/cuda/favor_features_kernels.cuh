// FAVOR+ features on the GPU: the elementwise and row-reduction work around the one GEMM
// u = x W, which cuBLAS does (launchers: attention/cuda/favor_features.cu; the op and its CPU
// kernel, with the derivation: attention/favor_features.cpp). Run on the CPU by the emulator in
// tests/attention/test_kernel_emulation.cpp against the CPU op.
//
//   x: [rows, d]   u = x W: [rows, h]   φ: [rows, M = 2h]      s = d^{-1/4}
//   plain:       φ = [exp(s u − hn), exp(−s u − hn)],   hn = ½ s² ‖x‖² + ½ ln M
//   stabilized:  φ = [exp(s u − c'), exp(−s u − c')],   c' = s max_j |u_j|, k = its index in [u, −u]
// Backward, g = ∂L/∂φ, a_j = g_j φ_j, b_j = g_{h+j} φ_{h+j}, σ = Σ_j (a_j + b_j):
//   ∂L/∂(xW)_j = s (a_j − b_j), and stabilized: the shift's −σ on entry k (−s σ at j = k < h,
//   +s σ at j = k − h);  then ∂L/∂x = ∂L/∂(xW) Wᵀ (cuBLAS) and, plain, − σ s² x.
// One block of kFavorThreads threads per row (grid-stride over rows); the row's max / sum is a
// shared-memory tree. Ties in max |u_j| go to the smallest j, as in the CPU loop.
#pragma once

#include "tensor/cuda/kernel_language.hpp"

#include <cmath>
#include <cstdint>

namespace stripes::attention::cuda_kernels {

constexpr int kFavorThreads = 128;  // a power of two (the trees halve it)

template <typename T>
STRIPES_KERNEL void favor_exponentials_kernel(T* phi, int64_t* argmax, const T* u, const T* x, int64_t rows, int64_t half,
                                              int64_t d, T scale, T log_half_m, bool stabilize) {
  using std::exp;
  STRIPES_SHARED T partial_value[kFavorThreads];        // max |u_j| (stabilized) or Σ x_i² (plain)
  STRIPES_SHARED int64_t partial_index[kFavorThreads];  // the j of that max
  const int thread = int(threadIdx.x);
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* u_row = u + row * half;
    T value = stabilize ? T(-1) : T(0);
    int64_t index = 0;
    if (stabilize) {
      for (int64_t j = thread; j < half; j += kFavorThreads) {
        const T magnitude = u_row[j] < T(0) ? -u_row[j] : u_row[j];
        if (magnitude > value) {  // strictly: this thread keeps its first j of a tie
          value = magnitude;
          index = j;
        }
      }
    } else {
      for (int64_t i = thread; i < d; i += kFavorThreads) value += x[row * d + i] * x[row * d + i];
    }
    partial_value[thread] = value;
    partial_index[thread] = index;
    __syncthreads();
    for (int width = kFavorThreads / 2; width > 0; width /= 2) {
      if (thread < width) {
        const T other = partial_value[thread + width];
        const int64_t other_index = partial_index[thread + width];
        if (!stabilize) {
          partial_value[thread] += other;
        } else if (other > partial_value[thread] ||
                   (other == partial_value[thread] && other_index < partial_index[thread])) {
          partial_value[thread] = other;
          partial_index[thread] = other_index;
        }
      }
      __syncthreads();
    }
    const T shift = stabilize ? scale * partial_value[0]                                  // c' = s max_j |u_j|
                              : T(0.5) * scale * scale * partial_value[0] + log_half_m;    // hn = ½ s² ‖x‖² + ½ ln M
    if (stabilize && thread == 0) {
      const int64_t best = partial_index[0];
      argmax[row] = u_row[best] >= T(0) ? best : half + best;  // k in [u, −u]
    }
    T* phi_row = phi + row * 2 * half;
    for (int64_t j = thread; j < half; j += kFavorThreads) {
      phi_row[j] = exp(u_row[j] * scale - shift);          // exp(s u_j − shift)
      phi_row[half + j] = exp(u_row[j] * (-scale) - shift);  // exp(−s u_j − shift)
    }
    __syncthreads();  // the next row reuses partial_value / partial_index
  }
}

// grad_u = ∂L/∂(xW) [rows, h]; sigma [rows] (plain only: the −σ s² x term is the caller's).
template <typename T>
STRIPES_KERNEL void favor_backward_rows_kernel(T* grad_u, T* sigma, const T* grad_phi, const T* phi, const int64_t* argmax,
                                               int64_t rows, int64_t half, T scale, bool stabilize) {
  STRIPES_SHARED T partial_sum[kFavorThreads];
  const int thread = int(threadIdx.x);
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const T* g = grad_phi + row * 2 * half;
    const T* p = phi + row * 2 * half;
    T* du = grad_u + row * half;
    T total = T(0);
    for (int64_t j = thread; j < half; j += kFavorThreads) {
      const T a = g[j] * p[j], b = g[half + j] * p[half + j];
      du[j] = scale * (a - b);  // s (a_j − b_j)
      total += a + b;
    }
    partial_sum[thread] = total;
    __syncthreads();
    for (int width = kFavorThreads / 2; width > 0; width /= 2) {
      if (thread < width) partial_sum[thread] += partial_sum[thread + width];
      __syncthreads();
    }
    const T row_sigma = partial_sum[0];  // σ; every du_j of the row is written (barriers above)
    if (thread == 0) {
      if (stabilize) {  // the shift's gradient −σ on its argmax entry of [u, −u]
        const int64_t k = argmax[row];
        if (k < half) du[k] -= scale * row_sigma;
        else du[k - half] += scale * row_sigma;
      } else {
        sigma[row] = row_sigma;
      }
    }
    __syncthreads();  // the next row reuses partial_sum
  }
}

}  // namespace stripes::attention::cuda_kernels
