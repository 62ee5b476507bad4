// Row reductions: out[r] = Σ / max / min of rows[r, 0:inner], one block per row, a shared-memory
// tree inside the block. float32 sums accumulate in double, like the CPU.
#include "tensor/cuda/indexer.cuh"

#include <cfloat>

namespace stripes::cuda {

constexpr int kReduceThreads = 256;

template <typename T, typename Accumulator>
__global__ void reduce_rows_kernel(T* out, const T* rows, int64_t outer, int64_t inner, int kind) {
  __shared__ Accumulator partial[kReduceThreads];
  for (int64_t r = blockIdx.x; r < outer; r += gridDim.x) {
    const T* row = rows + r * inner;
    Accumulator acc = kind == 0 ? Accumulator(0) : (kind == 1 ? Accumulator(-INFINITY) : Accumulator(INFINITY));
    for (int64_t i = threadIdx.x; i < inner; i += blockDim.x) {
      const Accumulator v = Accumulator(row[i]);
      if (kind == 0) acc += v;
      else if (kind == 1) acc = (v > acc || v != v) ? v : acc;  // NaN propagates, as on the CPU
      else acc = (v < acc || v != v) ? v : acc;
    }
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int width = blockDim.x / 2; width > 0; width /= 2) {
      if (threadIdx.x < width) {
        const Accumulator other = partial[threadIdx.x + width];
        Accumulator& mine = partial[threadIdx.x];
        if (kind == 0) mine += other;
        else if (kind == 1) mine = (other > mine || other != other) ? other : mine;
        else mine = (other < mine || other != other) ? other : mine;
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) out[r] = T(partial[0]);
    __syncthreads();
  }
}

Tensor reduce_rows(Reduction kind, const Tensor& rows, int64_t outer, int64_t inner, const Shape& out_shape) {
  Tensor out = Tensor::empty(out_shape, rows.dtype(), Device::CUDA);
  if (outer == 0) return out;
  const unsigned blocks = unsigned(std::min<int64_t>(outer, 65535));
  dispatch_floating(rows.dtype(), "reduce", [&]<typename T>() {
    reduce_rows_kernel<T, double><<<blocks, kReduceThreads>>>(out.raw_mutable_data<T>(), rows.raw_data<T>(), outer, inner,
                                                              int(kind));
    STRIPES_CUDA_CHECK_LAUNCH(reduce_rows_kernel);
  });
  return out;
}

template <typename T>
__global__ void non_finite_kernel(const T* x, int64_t n, int* found) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    const T v = x[i];
    if (v != v || v - v != T(0)) *found = 1;  // NaN, or ±Inf (Inf − Inf is NaN)
  }
}

bool all_finite(const Tensor& x) {
  const Tensor c = x.contiguous();
  const int64_t n = c.numel();
  if (n == 0) return true;
  int* found = static_cast<int*>(allocate(sizeof(int)));
  STRIPES_CUDA_CHECK(cudaMemset(found, 0, sizeof(int)));
  const LaunchShape launch = launch_shape(n);
  dispatch_floating(c.dtype(), "all_finite", [&]<typename T>() {
    non_finite_kernel<T><<<launch.blocks, launch.threads>>>(c.raw_data<T>(), n, found);
    STRIPES_CUDA_CHECK_LAUNCH(non_finite_kernel);
  });
  int host = 0;
  STRIPES_CUDA_CHECK(cudaMemcpy(&host, found, sizeof(int), cudaMemcpyDeviceToHost));
  release(found, sizeof(int));
  return host == 0;
}

}  // namespace stripes::cuda
