// Strided indexing on the GPU: the device-side counterpart of tensor/strided_loop.hpp. A kernel
// thread takes a linear output index and turns it into one element offset per operand, using the
// (merged) shape and each operand's strides, passed by value in the kernel's arguments.
#pragma once

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/cuda/cuda_check.hpp"
#include "tensor/strided_loop.hpp"

#include <array>

namespace stripes::cuda {

template <int N>
struct Indexer {
  int ndim = 0;
  int64_t shape[kMaxDims];
  int64_t strides[N][kMaxDims];

  __device__ void offsets(int64_t linear, int64_t (&out)[N]) const {
    for (int k = 0; k < N; ++k) out[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t index = linear % shape[d];
      linear /= shape[d];
      for (int k = 0; k < N; ++k) out[k] += index * strides[k][d];
    }
  }
};

template <int N>
Indexer<N> make_indexer(const char* op, const Shape& shape, const std::array<Strides, size_t(N)>& strides) {
  const StridedLayout<size_t(N)> layout = merge_dimensions<size_t(N)>(shape, strides);
  STRIPES_CHECK(int(layout.shape.size()) <= kMaxDims, "{} (cuda): {} dimensions after merging, at most {} supported", op,
                layout.shape.size(), kMaxDims);
  Indexer<N> indexer{};
  indexer.ndim = int(layout.shape.size());
  for (int d = 0; d < indexer.ndim; ++d) {
    indexer.shape[d] = layout.shape[size_t(d)];
    for (int k = 0; k < N; ++k) indexer.strides[k][d] = layout.strides[size_t(k)][size_t(d)];
  }
  return indexer;
}

// A 1-d grid over n elements, 256 threads per block; kernels loop grid-stride.
struct LaunchShape {
  unsigned blocks;
  unsigned threads;
};
inline LaunchShape launch_shape(int64_t n) {
  const int64_t threads = 256;
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>((n + threads - 1) / threads, 65535 * 8));
  return {unsigned(blocks), unsigned(threads)};
}

// One block per item (a row, a (channel, tap) pair), at most 65535·8 blocks: kernels walk the
// items grid-stride.
inline unsigned block_per_item_grid(int64_t items) {
  return unsigned(std::max<int64_t>(1, std::min<int64_t>(items, 65535 * 8)));
}

// A launcher's optional output: the device pointer, or null when the tensor is undefined (the
// kernel then skips that output).
template <typename T>
T* data_or_null(Tensor& t) {
  return t.defined() ? t.raw_mutable_data<T>() : nullptr;
}

#define STRIPES_GRID_STRIDE_LOOP(i, n) \
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

}  // namespace stripes::cuda
