// Layer norm's GPU kernels, pure index math (launchers: autograd/ops/cuda/layer_norm.cu). The CPU's
// fused kernels (autograd/ops/layer_norm.cpp) on the GPU: the same equations, row statistics and
// column sums accumulated in double in the same order. Written in tensor/cuda/kernel_language.hpp's
// words, so that tests also run them on the CPU (tests/autograd/test_kernel_emulation_rows.cpp).
//
//   μ = mean_c x_c,  σ² = mean_c (x_c - μ)²,  r = 1/√(σ² + ε),  x̂ = (x - μ) r,  y = x̂ ⊙ w + b
//   ∂L/∂x = r (g - mean_c g - x̂ mean_c(g ⊙ x̂))   with g = ∂L/∂y ⊙ w
//   ∂L/∂w = Σ_rows ∂L/∂y ⊙ x̂,   ∂L/∂b = Σ_rows ∂L/∂y
// x, y, x̂, ∂L/∂y, ∂L/∂x: [rows, C]   w, b, ∂L/∂w, ∂L/∂b: [C]   r: [rows]   (all contiguous)
#pragma once

#include "autograd/ops/cuda/block_reduce.cuh"
#include "tensor/cuda/kernel_language.hpp"

#include <cmath>
#include <cstdint>

namespace stripes::ag::cuda_kernels {

// ---- forward: one block per row ------------------------------------------------------------------
// Block b normalizes row b; its row_threads(C) threads stride over the C channels, and two block
// sums (Σ x, then Σ (x - μ)²) give μ and r to every thread. Shared memory: row_shared_bytes.
template <typename T>
STRIPES_KERNEL void layer_norm_forward_rows_kernel(T* y, T* normalized, T* reciprocal_std, const T* x, const T* weight,
                                                   const T* bias, int64_t channels, double eps) {
  using std::sqrt;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t row = blockIdx.x;
  const T* x_row = x + row * channels;
  double sum = 0.0;
  for (int64_t c = threadIdx.x; c < channels; c += blockDim.x) sum += double(x_row[c]);
  const T mu = T(block_sum(partial, sum) / double(channels));  // μ
  double squares = 0.0;
  for (int64_t c = threadIdx.x; c < channels; c += blockDim.x) {
    const T centered = x_row[c] - mu;
    squares += double(centered * centered);
  }
  const T rstd = T(1.0 / sqrt(block_sum(partial, squares) / double(channels) + eps));  // r = 1/√(σ² + ε)
  if (threadIdx.x == 0) reciprocal_std[row] = rstd;
  T* x_hat_row = normalized + row * channels;
  T* y_row = y + row * channels;
  for (int64_t c = threadIdx.x; c < channels; c += blockDim.x) {
    const T x_hat = (x_row[c] - mu) * rstd;  // x̂ = (x - μ) r
    x_hat_row[c] = x_hat;
    y_row[c] = x_hat * weight[c] + bias[c];  // y = x̂ ⊙ w + b
  }
}

// ---- backward, ∂L/∂x: one block per row -----------------------------------------------------------
// Block b: two block sums give mean_c g and mean_c g ⊙ x̂ of row b, then every thread writes its
// channels of ∂L/∂x. Shared memory: row_shared_bytes.
template <typename T>
STRIPES_KERNEL void layer_norm_backward_input_rows_kernel(T* grad_x, const T* grad_y, const T* normalized,
                                                          const T* reciprocal_std, const T* weight, int64_t channels) {
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t row = blockIdx.x;
  const T* g_row = grad_y + row * channels;
  const T* x_hat_row = normalized + row * channels;
  double sum_g = 0.0, sum_g_xhat = 0.0;
  for (int64_t c = threadIdx.x; c < channels; c += blockDim.x) {
    const T g = g_row[c] * weight[c];  // g = ∂L/∂y ⊙ w
    sum_g += double(g);
    sum_g_xhat += double(g * x_hat_row[c]);
  }
  const T mean_g = T(block_sum(partial, sum_g) / double(channels));
  const T mean_g_xhat = T(block_sum(partial, sum_g_xhat) / double(channels));
  const T rstd = reciprocal_std[row];
  T* out = grad_x + row * channels;
  for (int64_t c = threadIdx.x; c < channels; c += blockDim.x) {
    out[c] = rstd * (g_row[c] * weight[c] - mean_g - x_hat_row[c] * mean_g_xhat);
  }
}

// ---- backward, ∂L/∂w and ∂L/∂b: column sums in two deterministic steps ------------------------------
// A sum over every row, in the CPU kernel's order (so also the CPU's bits up to the products'
// rounding): rows in order within each block of kLayerNormRowsPerPartialSum rows, then the blocks
// in order. No atomics: each column's sum has one owner at each step.
constexpr int64_t kLayerNormRowsPerPartialSum = 64;  // the CPU kernel's kRowsPerBlock

inline int64_t layer_norm_row_blocks(int64_t rows) {
  return (rows + kLayerNormRowsPerPartialSum - 1) / kLayerNormRowsPerPartialSum;
}

// Step 1. Grid (row blocks, ⌈C / blockDim.x⌉ column tiles); thread t of tile j owns column
// j·blockDim.x + t and sums its block's rows into
//   partial_sums[block][0][c] = Σ ∂L/∂y ⊙ x̂,   partial_sums[block][1][c] = Σ ∂L/∂y   (double)
// Neighbouring threads read neighbouring columns of a row. No shared memory.
template <typename T>
STRIPES_KERNEL void layer_norm_parameter_partial_sums_kernel(double* partial_sums, const T* grad_y, const T* normalized,
                                                             int64_t rows, int64_t channels) {
  const int64_t block = blockIdx.x;
  const int64_t column = int64_t(blockIdx.y) * blockDim.x + threadIdx.x;
  if (column >= channels) return;
  const int64_t first_row = block * kLayerNormRowsPerPartialSum;
  const int64_t end_row = rows < first_row + kLayerNormRowsPerPartialSum ? rows : first_row + kLayerNormRowsPerPartialSum;
  double sum_gy_xhat = 0.0, sum_gy = 0.0;
  for (int64_t row = first_row; row < end_row; ++row) {
    const T g = grad_y[row * channels + column];
    sum_gy_xhat += double(g * normalized[row * channels + column]);
    sum_gy += double(g);
  }
  partial_sums[(block * 2) * channels + column] = sum_gy_xhat;
  partial_sums[(block * 2 + 1) * channels + column] = sum_gy;
}

// Step 2. Grid ⌈C / blockDim.x⌉; thread c adds the row blocks' partial sums of column c in order.
template <typename T>
STRIPES_KERNEL void layer_norm_parameter_sums_kernel(T* grad_weight, T* grad_bias, const double* partial_sums,
                                                     int64_t row_blocks, int64_t channels) {
  const int64_t column = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (column >= channels) return;
  double sum_gy_xhat = 0.0, sum_gy = 0.0;
  for (int64_t block = 0; block < row_blocks; ++block) {
    sum_gy_xhat += partial_sums[(block * 2) * channels + column];
    sum_gy += partial_sums[(block * 2 + 1) * channels + column];
  }
  grad_weight[column] = T(sum_gy_xhat);  // ∂L/∂w
  grad_bias[column] = T(sum_gy);         // ∂L/∂b
}

}  // namespace stripes::ag::cuda_kernels
