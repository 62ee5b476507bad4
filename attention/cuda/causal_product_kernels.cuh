// The causal product's GPU kernels, pure index math (launchers: attention/cuda/causal_product.cu).
// Written in tensor/cuda/kernel_language.hpp's words, so that tests also run them on the CPU
// (tests/attention/test_kernel_emulation.cpp) against causal_product_reference.
//
//   out_t = Σ_{n ≤ t} (a_t · b_n) c_n        a, b: [S, T, P]   c, out: [S, T, Q]   (contiguous)
//   reverse: out_t = Σ_{n ≥ t} (a_t · b_n) c_n
#pragma once

#include "tensor/cuda/kernel_language.hpp"

#include <cstdint>

namespace stripes::attention::cuda_kernels {

// ---- the recurrent kernel (fast-transformers' layout) ---------------------------------------------
//   S_t = S_{t-1} + b_t c_tᵀ,   out_t = S_tᵀ a_t          (reverse: t from T−1 down to 0)
// One block per (sequence, tile of 32 value columns); thread i of the block owns column i of the
// P×32 state tile, kept in shared memory, and walks the T steps in order. a_t and b_t are staged
// in shared memory once per step for the whole block.
constexpr int kRecurrentColumnsPerBlock = 32;

inline size_t causal_product_recurrent_shared_bytes(int64_t p, size_t element_size) {
  return size_t(p * kRecurrentColumnsPerBlock + 2 * p) * element_size;
}

template <typename T>
STRIPES_KERNEL void causal_product_recurrent_kernel(T* out, const T* a, const T* b, const T* c, int64_t steps, int64_t p,
                                                    int64_t q, bool reverse) {
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  T* state = reinterpret_cast<T*>(shared_bytes);          // [p][kRecurrentColumnsPerBlock]
  T* a_step = state + p * kRecurrentColumnsPerBlock;       // [p]
  T* b_step = a_step + p;                                  // [p]
  const int64_t sequence = blockIdx.x;
  const int64_t column = int64_t(blockIdx.y) * kRecurrentColumnsPerBlock + threadIdx.x;
  const bool active = column < q;
  for (int64_t j = 0; j < p; ++j) state[j * kRecurrentColumnsPerBlock + threadIdx.x] = T(0);
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
        T& s = state[j * kRecurrentColumnsPerBlock + threadIdx.x];
        s += b_step[j] * c_ti;   // S[j, i] += b_t[j] c_t[i]
        acc += a_step[j] * s;    // out_t[i] = Σ_j a_t[j] S[j, i]
      }
      out_seq[t * q + column] = acc;
    }
  }
}

// ---- the chunked kernel (chunk C = 64): the fast path ----------------------------------------------
// The CPU kernel's chunk equations (attention/causal_product_chunked.cpp), chunk j of rows
// A, B, C_j and the state S_j summed over the earlier chunks (reverse: the later ones):
//   out_j = A S_j + tril(A Bᵀ) C_j        (reverse: triu)
//   S_{j+1} = S_j + Bᵀ C_j
// One block per (sequence, tile of W = 32 value columns), 256 threads, walking the chunks in order
// with the P×W state tile in shared memory. Per chunk:
//   1. stage C_j's tile [C][W] in shared memory;
//   2. for each slice of 32 features: stage A's and B's slices [C][32]; every thread adds its 16
//      entries of A Bᵀ and its 8 entries of A S_j over the slice (registers); a barrier; then the
//      slice's state rows take Bᵀ C_j (each state entry read as S_j before it is updated);
//   3. the masked A Bᵀ goes to shared memory (over the slices' space), and every thread adds
//      its 8 outputs' Σ_n W[t, n] C_j[n, :] and writes them (or adds them: accumulate).
// Shared memory: (P·W + 2·C·33 + C·W) elements: 40.5 KiB in float32 at P = 128, 81 KiB in float64.
// Rows past T and columns past Q are staged as zeros and never written.
constexpr int kChunkRows = 64;                  // C
constexpr int kChunkColumnsPerBlock = 32;       // W
constexpr int kChunkFeatureSlice = 32;          // features of a and b staged at a time
constexpr int kChunkSlicePitch = kChunkFeatureSlice + 1;  // +1: reading a slice by rows across a warp hits 32 banks
constexpr int kChunkThreads = 256;
constexpr int kScoresPerThread = kChunkRows * kChunkRows / kChunkThreads;                   // 16 entries of A Bᵀ
constexpr int kOutputsPerThread = kChunkRows * kChunkColumnsPerBlock / kChunkThreads;       // 8 entries of out_j
constexpr int kStatePerThread = kChunkFeatureSlice * kChunkColumnsPerBlock / kChunkThreads;  // 4 state entries per slice
static_assert(kScoresPerThread * kChunkThreads == kChunkRows * kChunkRows);
static_assert(kOutputsPerThread * kChunkThreads == kChunkRows * kChunkColumnsPerBlock);
static_assert(kStatePerThread * kChunkThreads == kChunkFeatureSlice * kChunkColumnsPerBlock);
static_assert(2 * kChunkRows * kChunkSlicePitch >= kChunkRows * kChunkRows, "the C×C block reuses the two slices' space");

inline size_t causal_product_chunked_shared_bytes(int64_t p, size_t element_size) {
  return size_t(p * kChunkColumnsPerBlock + 2 * kChunkRows * kChunkSlicePitch + kChunkRows * kChunkColumnsPerBlock) *
         element_size;
}

template <typename T>
STRIPES_KERNEL void causal_product_chunked_kernel(T* out, const T* a, const T* b, const T* c, int64_t steps, int64_t p,
                                                  int64_t q, bool reverse, bool accumulate) {
  constexpr int C = kChunkRows, W = kChunkColumnsPerBlock, F = kChunkFeatureSlice, pitch = kChunkSlicePitch;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  T* state = reinterpret_cast<T*>(shared_bytes);  // [p][W]   S_j, this block's columns
  T* a_slice = state + p * W;                     // [C][pitch]
  T* b_slice = a_slice + C * pitch;               // [C][pitch]
  T* c_chunk = b_slice + C * pitch;               // [C][W]
  T* within = a_slice;                            // [C][C]    masked A Bᵀ, once the slices are done
  const int thread = int(threadIdx.x);
  const int64_t sequence = blockIdx.x;
  const int64_t first_column = int64_t(blockIdx.y) * W;
  const T* a_seq = a + sequence * steps * p;
  const T* b_seq = b + sequence * steps * p;
  const T* c_seq = c + sequence * steps * q;
  T* out_seq = out + sequence * steps * q;

  for (int64_t e = thread; e < p * W; e += kChunkThreads) state[e] = T(0);
  const int64_t chunks = (steps + C - 1) / C;
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t start = (reverse ? chunks - 1 - i : i) * C;
    __syncthreads();  // the previous chunk is done with c_chunk and within
    for (int e = thread; e < C * W; e += kChunkThreads) {  // 1. C_j's tile
      const int64_t t = start + e / W, column = first_column + e % W;
      c_chunk[e] = (t < steps && column < q) ? c_seq[t * q + column] : T(0);
    }
    T scores[kScoresPerThread];    // (A Bᵀ)[t, n], entry e = thread + k·256: t = e / C, n = e % C
    T outputs[kOutputsPerThread];  // out_j[t, w], entry e = thread + k·256: t = e / W, w = e % W
    for (int k = 0; k < kScoresPerThread; ++k) scores[k] = T(0);
    for (int k = 0; k < kOutputsPerThread; ++k) outputs[k] = T(0);

    for (int64_t slice = 0; slice < p; slice += F) {  // 2. the features, 32 at a time
      const int width = int(p - slice < F ? p - slice : F);
      __syncthreads();  // c_chunk is staged; the previous slice's a_slice, b_slice are no longer read
      for (int e = thread; e < C * F; e += kChunkThreads) {
        const int r = e / F, f = e % F;
        const int64_t t = start + r;
        const bool inside = t < steps && f < width;
        a_slice[r * pitch + f] = inside ? a_seq[t * p + slice + f] : T(0);
        b_slice[r * pitch + f] = inside ? b_seq[t * p + slice + f] : T(0);
      }
      __syncthreads();
      for (int k = 0; k < kScoresPerThread; ++k) {
        const int e = thread + k * kChunkThreads, t = e / C, n = e % C;
        for (int f = 0; f < width; ++f) scores[k] += a_slice[t * pitch + f] * b_slice[n * pitch + f];  // a_t · b_n
      }
      for (int k = 0; k < kOutputsPerThread; ++k) {
        const int e = thread + k * kChunkThreads, t = e / W, w = e % W;
        for (int f = 0; f < width; ++f) outputs[k] += a_slice[t * pitch + f] * state[(slice + f) * W + w];  // (A S_j)[t, w]
      }
      __syncthreads();  // these state rows have been read as S_j by every thread
      for (int k = 0; k < kStatePerThread; ++k) {
        const int e = thread + k * kChunkThreads, f = e / W, w = e % W;
        if (f >= width) continue;
        T increment = T(0);
        for (int r = 0; r < C; ++r) increment += b_slice[r * pitch + f] * c_chunk[r * W + w];  // (Bᵀ C_j)[f, w]
        state[(slice + f) * W + w] += increment;
      }
    }

    __syncthreads();  // 3. every thread is done with a_slice, b_slice: within may overwrite them
    for (int k = 0; k < kScoresPerThread; ++k) {
      const int e = thread + k * kChunkThreads, t = e / C, n = e % C;
      within[e] = (reverse ? n >= t : n <= t) ? scores[k] : T(0);  // tril (reverse: triu), diagonal kept
    }
    __syncthreads();
    for (int k = 0; k < kOutputsPerThread; ++k) {
      const int e = thread + k * kChunkThreads, t = e / W, w = e % W;
      T sum = outputs[k];
      for (int n = 0; n < C; ++n) sum += within[t * C + n] * c_chunk[n * W + w];  // (tril(A Bᵀ) C_j)[t, w]
      const int64_t row = start + t, column = first_column + w;
      if (row < steps && column < q) {
        T& target = out_seq[row * q + column];
        target = accumulate ? target + sum : sum;
      }
    }
  }
}

}  // namespace stripes::attention::cuda_kernels
