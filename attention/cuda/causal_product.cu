// The causal product on the GPU — the readable recurrent kernel (fast-transformers' layout):
//
//   S_t = S_{t-1} + b_t c_tᵀ,   out_t = S_tᵀ a_t          (reverse: t from T−1 down to 0)
//
// One block per (sequence, tile of 32 value columns); thread i of the block owns column i of the
// P×32 state tile, kept in shared memory, and walks the T steps in order. a_t and b_t are staged
// in shared memory once per step for the whole block. A chunked kernel (states only at chunk
// boundaries, intra-chunk work as small matmuls) is the fast path the performance issue adds.
#include "attention/causal_product.hpp"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

constexpr int kColumnsPerBlock = 32;

template <typename T>
__global__ void causal_product_kernel(T* out, const T* a, const T* b, const T* c, int64_t steps, int64_t p, int64_t q,
                                      bool reverse) {
  extern __shared__ unsigned char shared_bytes[];
  T* state = reinterpret_cast<T*>(shared_bytes);          // [p][kColumnsPerBlock]
  T* a_step = state + p * kColumnsPerBlock;                // [p]
  T* b_step = a_step + p;                                  // [p]
  const int64_t sequence = blockIdx.x;
  const int64_t column = int64_t(blockIdx.y) * kColumnsPerBlock + threadIdx.x;
  const bool active = column < q;
  for (int64_t j = 0; j < p; ++j) state[j * kColumnsPerBlock + threadIdx.x] = T(0);
  const T* a_seq = a + sequence * steps * p;
  const T* b_seq = b + sequence * steps * p;
  const T* c_seq = c + sequence * steps * q;
  T* out_seq = out + sequence * steps * q;
  for (int64_t step = 0; step < steps; ++step) {
    const int64_t t = reverse ? steps - 1 - step : step;
    __syncthreads();  // the previous step is done with a_step / b_step
    for (int64_t j = threadIdx.x; j < p; j += blockDim.x) {
      a_step[j] = a_seq[t * p + j];
      b_step[j] = b_seq[t * p + j];
    }
    __syncthreads();
    if (active) {
      const T c_ti = c_seq[t * q + column];
      T acc = T(0);
      for (int64_t j = 0; j < p; ++j) {
        T& s = state[j * kColumnsPerBlock + threadIdx.x];
        s += b_step[j] * c_ti;   // S[j, i] += b_t[j] c_t[i]
        acc += a_step[j] * s;    // out_t[i] = Σ_j a_t[j] S[j, i]
      }
      out_seq[t * q + column] = acc;
    }
  }
}

Tensor causal_product_forward_cuda(const Tensor& a_in, const Tensor& b_in, const Tensor& c_in, bool reverse) {
  const Tensor a = a_in.contiguous(), b = b_in.contiguous(), c = c_in.contiguous();
  const int64_t steps = a.size(-2), p = a.size(-1), q = c.size(-1);
  const int64_t sequences = a.numel() / std::max<int64_t>(steps * p, 1);
  Tensor out = Tensor::empty(c.shape(), c.dtype(), Device::CUDA);
  if (out.numel() == 0) return out;
  return dispatch_floating(a.dtype(), "causal_product", [&]<typename T>() {
    const size_t shared = size_t(p * kColumnsPerBlock + 2 * p) * sizeof(T);
    STRIPES_CHECK(shared <= 48 * 1024, "causal_product (cuda): feature dimension {} needs {} bytes of shared memory, over 48 KiB",
                  p, shared);
    STRIPES_CHECK(sequences <= INT32_MAX, "causal_product (cuda): too many sequences ({})", sequences);
    const dim3 grid(unsigned(sequences), unsigned((q + kColumnsPerBlock - 1) / kColumnsPerBlock));
    causal_product_kernel<T><<<grid, kColumnsPerBlock, shared>>>(out.raw_mutable_data<T>(), a.raw_data<T>(), b.raw_data<T>(),
                                                                c.raw_data<T>(), steps, p, q, reverse);
    STRIPES_CUDA_CHECK_LAUNCH(causal_product_kernel);
    return out;
  });
}

}  // namespace stripes::attention::cuda_kernels
