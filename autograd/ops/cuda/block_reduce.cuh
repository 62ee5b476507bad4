// Block-wide sums and maxima for the row kernels of autograd/ops/cuda/ (layer norm, softmax, BCE):
// every thread of the block hands in its partial value and gets the block's result back.
//
//   total = Σ_t value_t   (or max_t value_t)   over the blockDim.x threads t of the block
//
// A shared-memory tree, as tensor/cuda/reduce.cu's: at each level thread t < w takes in thread
// t + w's value, w = blockDim.x / 2, …, 1. The order of the additions depends on blockDim.x alone,
// so a kernel gives the same bits on every run (no atomics). Values are doubles: float32 sums are
// accumulated in double, as on the CPU. blockDim.x must be a power of two; `partial` holds
// blockDim.x doubles of shared memory. Every thread of the block must call (the tree has barriers).
#pragma once

#include "tensor/cuda/kernel_language.hpp"
#include "tensor/error.hpp"
#include "tensor/tensor.hpp"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>

namespace stripes::ag::cuda_kernels {

constexpr unsigned kMaxRowThreads = 256;

// Threads per block for a row of `length` elements: a power of two (the tree halves it), at least
// one warp, at most kMaxRowThreads, and no more than the row has elements beyond the first warp.
inline unsigned row_threads(int64_t length) {
  unsigned threads = 32;
  while (threads < kMaxRowThreads && int64_t(threads) < length) threads *= 2;
  return threads;
}
// The dynamic shared memory of a block of `threads` threads: one double per thread.
inline size_t row_shared_bytes(unsigned threads) { return size_t(threads) * sizeof(double); }
// The rows of a contiguous GPU tensor [..., C], for a launcher giving each row a block (a grid has
// at most 2³¹ − 1 blocks along x).
inline int64_t row_count(const Tensor& t, const char* op) {
  STRIPES_CHECK(t.device() == Device::CUDA && t.is_contiguous() && t.dim() >= 1,
                "{} (cuda): expected a contiguous GPU tensor of at least one axis, got {}", op, t.description());
  const int64_t rows = t.numel() / std::max<int64_t>(t.size(-1), 1);
  STRIPES_CHECK(rows <= INT_MAX, "{} (cuda): {} rows, over a grid's {}", op, rows, INT_MAX);
  return rows;
}

// The block's values combined pairwise by a tree (a fixed order: the same result every run), the
// result to every thread. partial: one double per thread (row_shared_bytes).
template <class Combine>
STRIPES_DEVICE_FUNCTION double block_reduce(double* partial, double value, Combine combine) {
  const unsigned thread = threadIdx.x;
  partial[thread] = value;
  __syncthreads();
  for (unsigned width = blockDim.x / 2; width > 0; width /= 2) {
    if (thread < width) partial[thread] = combine(partial[thread], partial[thread + width]);
    __syncthreads();
  }
  const double result = partial[0];
  __syncthreads();  // every thread has read the result before the slots are written again
  return result;
}

STRIPES_DEVICE_FUNCTION double block_sum(double* partial, double value) {
  return block_reduce(partial, value, [](double a, double b) { return a + b; });
}

// NaN propagates, as in the CPU's max (v != v only for NaN).
STRIPES_DEVICE_FUNCTION double block_max(double* partial, double value) {
  return block_reduce(partial, value, [](double a, double b) { return (b > a || b != b) ? b : a; });
}

}  // namespace stripes::ag::cuda_kernels
