// Binary cross-entropy with logits on the GPU, pure index math (launchers:
// autograd/ops/cuda/binary_cross_entropy.cu). The CPU's fused kernels (autograd/ops/losses.cpp) on
// the GPU: one pass forward, one backward. Written in tensor/cuda/kernel_language.hpp's words, so that
// tests also run them on the CPU (tests/autograd/test_kernel_emulation_rows.cpp).
//
//   ℓ = (1/N) Σ_i [ max(z_i, 0) - z_i y_i + ln(1 + e^{-|z_i|}) ]      ∂ℓ/∂z_i = (σ(z_i) - y_i) / N
// z, y, ∂ℓ/∂z: [N] (contiguous)   ℓ, ∂L/∂ℓ: one element
#pragma once

#include "autograd/ops/cuda/block_reduce.cuh"
#include "tensor/cuda/kernel_language.hpp"

#include <cmath>
#include <cstdint>

namespace stripes::ag::cuda_kernels {

// The forward sums N terms in double over fixed blocks of elements, then the blocks' sums in a
// second kernel: the same loss on every run whatever the grid (the CPU's block is 4096 too, but the
// orders within a block differ: threads stride over it).
constexpr int64_t kBceElementsPerBlock = 4096;
constexpr unsigned kBceThreads = 256;  // a power of two: block_sum's tree

inline int64_t bce_partial_sum_blocks(int64_t count) { return (count + kBceElementsPerBlock - 1) / kBceElementsPerBlock; }

// max(z, 0) - z y + ln(1 + e^{-|z|}): no exp overflows
template <typename T>
STRIPES_DEVICE_FUNCTION T bce_with_logits_term(T z, T y) {
  using std::abs;
  using std::exp;
  using std::log1p;
  return (z > T(0) ? z : T(0)) - z * y + log1p(exp(-abs(z)));
}

// Step 1. Grid bce_partial_sum_blocks(N), kBceThreads threads: block b sums the terms of elements
// [b·4096, (b+1)·4096) ∩ [0, N) into partial_sums[b]. Shared memory: row_shared_bytes(kBceThreads).
template <typename T>
STRIPES_KERNEL void bce_with_logits_partial_sums_kernel(double* partial_sums, const T* logits, const T* targets,
                                                        int64_t count) {
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  const int64_t begin = int64_t(blockIdx.x) * kBceElementsPerBlock;
  const int64_t end = count < begin + kBceElementsPerBlock ? count : begin + kBceElementsPerBlock;
  double sum = 0.0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) sum += double(bce_with_logits_term(logits[i], targets[i]));
  const double total = block_sum(partial, sum);
  if (threadIdx.x == 0) partial_sums[blockIdx.x] = total;
}

// Step 2. One block of kBceThreads threads: ℓ = Σ_b partial_sums[b] / N (N = 0 gives 0, as on the
// CPU). Shared memory: row_shared_bytes(kBceThreads).
template <typename T>
STRIPES_KERNEL void bce_with_logits_mean_kernel(T* loss, const double* partial_sums, int64_t blocks, int64_t count) {
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  double* partial = reinterpret_cast<double*>(shared_bytes);  // [blockDim.x]
  double sum = 0.0;
  for (int64_t b = threadIdx.x; b < blocks; b += blockDim.x) sum += partial_sums[b];
  const double total = block_sum(partial, sum);
  if (threadIdx.x == 0) loss[0] = T(total / double(count > 1 ? count : 1));
}

// ∂ℓ/∂z_i = (σ(z_i) - y_i) ∂L/∂ℓ / N, elementwise: a grid-stride loop over any grid. ∂L/∂ℓ is read
// on the device, so the backward never waits for the GPU to hand a scalar to the host.
template <typename T>
STRIPES_KERNEL void bce_with_logits_backward_kernel(T* grad_logits, const T* grad_loss, const T* logits, const T* targets,
                                                    int64_t count) {
  using std::exp;
  const T scale = T(double(grad_loss[0]) / double(count));
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride) {
    grad_logits[i] = (T(1) / (T(1) + exp(-logits[i])) - targets[i]) * scale;  // (σ(z) - y) / N
  }
}

}  // namespace stripes::ag::cuda_kernels
