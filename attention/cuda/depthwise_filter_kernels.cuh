// convSPE's depthwise filter on the GPU, pure index math (launchers: attention/cuda/depthwise_filter.cu;
// the op, its CPU loops and composed reference: attention/pe/spe_conv.cpp). Run on the CPU by the
// emulator in tests/attention/test_kernel_emulation.cpp against the CPU op.
//
//   y[c, t, r] = Σ_τ f[c, τ] x[c, t + τ, r]          f: [C, K]  x: [C, T + K − 1, R]  y: [C, T, R]
//   ∂L/∂f[c, τ] = Σ_{t, r} ∂L/∂y[c, t, r] x[c, t + τ, r]
// Forward: one thread per output (c, t, r), grid-stride, K taps summed in order (the CPU's order).
// Backward: one block of kFilterThreads per (c, τ) (grid-stride over the C·K pairs), each thread
// summing a strided share of the T·R products, then a shared-memory tree in double: the same bits
// on every run, no atomics. The filter's gradient is written, not added (the launcher's caller adds).
#pragma once

#include "tensor/cuda/kernel_language.hpp"

#include <cstdint>

namespace stripes::attention::cuda_kernels {

constexpr int kFilterThreads = 256;  // a power of two (the tree halves it)

template <typename T>
STRIPES_KERNEL void depthwise_filter_forward_kernel(T* y, const T* filter, const T* x, int64_t channels, int64_t steps,
                                                    int64_t taps, int64_t realizations) {
  const int64_t outputs = channels * steps * realizations, padded = steps + taps - 1;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < outputs; e += int64_t(blockDim.x) * gridDim.x) {
    const int64_t c = e / (steps * realizations), t = (e / realizations) % steps, r = e % realizations;
    const T* x_column = x + (c * padded + t) * realizations + r;  // x[c, t + τ, r] at τ·R
    T sum = T(0);
    for (int64_t tau = 0; tau < taps; ++tau) sum += filter[c * taps + tau] * x_column[tau * realizations];
    y[e] = sum;
  }
}

template <typename T>
STRIPES_KERNEL void depthwise_filter_backward_kernel(T* grad_filter, const T* grad_y, const T* x, int64_t channels,
                                                     int64_t steps, int64_t taps, int64_t realizations) {
  STRIPES_SHARED double partial[kFilterThreads];
  const int thread = int(threadIdx.x);
  const int64_t padded = steps + taps - 1, products = steps * realizations;
  for (int64_t pair = blockIdx.x; pair < channels * taps; pair += gridDim.x) {
    const int64_t c = pair / taps, tau = pair % taps;
    const T* g = grad_y + c * products;                          // ∂L/∂y[c, :, :], T·R contiguous
    const T* shifted = x + (c * padded + tau) * realizations;    // x[c, τ :, :], T·R contiguous
    double sum = 0;
    for (int64_t i = thread; i < products; i += kFilterThreads) sum += double(g[i] * shifted[i]);
    partial[thread] = sum;
    __syncthreads();
    for (int width = kFilterThreads / 2; width > 0; width /= 2) {
      if (thread < width) partial[thread] += partial[thread + width];
      __syncthreads();
    }
    if (thread == 0) grad_filter[pair] = T(partial[0]);
    __syncthreads();  // the next pair reuses partial
  }
}

}  // namespace stripes::attention::cuda_kernels
