// softmax and log_softmax over the last axis on the GPU, pure index math (launchers:
// autograd/ops/cuda/softmax.cu): one block per row, shared-memory tree reductions for the row's
// maximum and sums (autograd/ops/cuda/block_reduce.cuh). Written in tensor/cuda/kernel_language.hpp's
// words, so that tests also run them on the CPU (tests/autograd/test_kernel_emulation_rows.cpp).
//
//   softmax:      y_i = e^{x_i - m} / Σ_j e^{x_j - m}        ∂L/∂x_i = y_i (∂L/∂y_i - Σ_j ∂L/∂y_j y_j)
//   log_softmax:  y_i = x_i - m - ln Σ_j e^{x_j - m}         ∂L/∂x_i = ∂L/∂y_i - e^{y_i} Σ_j ∂L/∂y_j
//   m = max_j x_j
// x, y, ∂L/∂y, ∂L/∂x: [rows, n] (contiguous); block b handles row b with row_threads(n) threads,
// each striding over the row; shared memory row_shared_bytes (one double per thread). Sums are
// accumulated in double and rounded to T once, as the CPU's sum does; each element's arithmetic is
// the composed form's (autograd/ops/softmax.cpp), in T. The row is read from global memory on each
// pass (max, sum, output): rows of a few thousand elements stay in cache between passes.
#pragma once

#include "autograd/ops/cuda/block_reduce.cuh"
#include "tensor/cuda/kernel_language.hpp"

#include <cmath>
#include <cstdint>

namespace stripes::ag::cuda_kernels {

// m = max_j x_j, to every thread of the block
template <typename T>
STRIPES_DEVICE_FUNCTION T row_max(double* partial, const T* x_row, int64_t length) {
  double largest = -INFINITY;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) {
    const double v = double(x_row[i]);
    if (v > largest || v != v) largest = v;  // NaN propagates
  }
  return T(block_max(partial, largest));
}

// Σ_j e^{x_j - m}, to every thread of the block
template <typename T>
STRIPES_DEVICE_FUNCTION T row_shifted_exp_sum(double* partial, const T* x_row, int64_t length, T m) {
  using std::exp;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) sum += double(exp(x_row[i] - m));
  return T(block_sum(partial, sum));
}

// ---- softmax -------------------------------------------------------------------------------------
template <typename T>
STRIPES_KERNEL void softmax_forward_rows_kernel(T* y, const T* x, int64_t length) {
  using std::exp;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t row = blockIdx.x;
  const T* x_row = x + row * length;
  const T m = row_max(partial, x_row, length);
  const T total = row_shifted_exp_sum(partial, x_row, length, m);
  T* y_row = y + row * length;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) y_row[i] = exp(x_row[i] - m) / total;
}

template <typename T>
STRIPES_KERNEL void softmax_backward_rows_kernel(T* grad_x, const T* grad_y, const T* y, int64_t length) {
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t row = blockIdx.x;
  const T* g_row = grad_y + row * length;
  const T* y_row = y + row * length;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) sum += double(g_row[i] * y_row[i]);
  const T g_dot_y = T(block_sum(partial, sum));  // Σ_j ∂L/∂y_j y_j
  T* out = grad_x + row * length;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) out[i] = y_row[i] * (g_row[i] - g_dot_y);
}

// ---- log_softmax ---------------------------------------------------------------------------------
template <typename T>
STRIPES_KERNEL void log_softmax_forward_rows_kernel(T* y, const T* x, int64_t length) {
  using std::log;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t row = blockIdx.x;
  const T* x_row = x + row * length;
  const T m = row_max(partial, x_row, length);
  const T log_total = log(row_shifted_exp_sum(partial, x_row, length, m));  // ln Σ_j e^{x_j - m}
  T* y_row = y + row * length;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) y_row[i] = (x_row[i] - m) - log_total;
}

template <typename T>
STRIPES_KERNEL void log_softmax_backward_rows_kernel(T* grad_x, const T* grad_y, const T* y, int64_t length) {
  using std::exp;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t row = blockIdx.x;
  const T* g_row = grad_y + row * length;
  const T* y_row = y + row * length;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) sum += double(g_row[i]);
  const T g_total = T(block_sum(partial, sum));  // Σ_j ∂L/∂y_j
  T* out = grad_x + row * length;
  for (int64_t i = threadIdx.x; i < length; i += blockDim.x) out[i] = g_row[i] - exp(y_row[i]) * g_total;
}

}  // namespace stripes::ag::cuda_kernels
