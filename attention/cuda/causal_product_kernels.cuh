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

// ---- the chunked kernels (chunk C = 64): the fast path -------------------------------------------
// The CPU kernel's chunk equations (attention/causal_product_chunked.cpp), chunk j of rows
// A, B, C_j and the state S_j summed over the earlier chunks (reverse: the later ones):
//   out_j = A S_j + tril(A Bᵀ) C_j        (reverse: triu)
//   S_{j+1} = S_j + Bᵀ C_j
// The chunks of a sequence are cut into G groups of K consecutive chunks, so that the GPU has
// sequences × column tiles × G blocks to run, not only sequences × column tiles (8 × 3 = 24 blocks
// on 132 multiprocessors for 8 heads of 64 values: the first version's 9× loss to the composed form).
// Two kernels, one block of 256 threads per (sequence, tile of W = 32 value columns, group):
//   1. causal_product_group_states_kernel:  D_g = Σ_{j in group g} Bᵀ C_j      [S, G, P, Q]
//      (only when G > 1);
//   2. causal_product_chunked_kernel: the block of group g starts from S = Σ_{earlier groups} D_g'
//      (reverse: the later ones) and walks its K chunks in order, with the P×W state tile in shared
//      memory. Per chunk:
//      a. stage C_j's tile [C][W] in shared memory;
//      b. for each slice of 32 features: stage A's and B's slices [C][32]; every thread adds its
//         16 entries of A Bᵀ and its 8 entries of A S_j over the slice (registers); a barrier; then
//         the slice's state rows take Bᵀ C_j (each state entry read as S_j before it is updated);
//      c. the masked A Bᵀ goes to shared memory (over the slices' space), and every thread adds
//         its 8 outputs' Σ_n W[t, n] C_j[n, :] and writes them (or adds them: accumulate).
// Thread layout, lane = thread % 32 and warp = thread / 32 (0 … 7): a thread's 8 rows of the chunk
// are t = warp + 8k; its scores are (t, lane) and (t, lane + 32), its outputs and its state entries
// column lane. So the loops read each shared value once per thread and share it across the
// accumulators that need it: per feature, 11 reads (b at 2 rows n, one state entry, a at 8 rows t)
// for 24 multiply-adds, where reading per accumulator took 2 reads per multiply-add (rows t are the
// same across a warp: a broadcast; rows n and columns differ by lane: the +1 pitch keeps the
// slices' columns on 32 banks).
// Shared memory: (P·W + 2·C·33 + C·W) elements: 40.5 KiB in float32 at P = 128, 81 KiB in float64.
// Rows past T and columns past Q are staged as zeros and never written.
constexpr int kChunkRows = 64;                  // C
constexpr int kChunkColumnsPerBlock = 32;       // W
constexpr int kChunkFeatureSlice = 32;          // features of a and b staged at a time
constexpr int kChunkSlicePitch = kChunkFeatureSlice + 1;  // +1: reading a slice by rows across a warp hits 32 banks
constexpr int kChunkThreads = 256;
constexpr int kChunkWarps = kChunkThreads / 32;                        // 8
constexpr int kRowsPerThread = kChunkRows / kChunkWarps;               // 8 rows t = warp + 8k
constexpr int kStateRowsPerThread = kChunkFeatureSlice / kChunkWarps;  // 4 state rows f = warp + 8k per slice
static_assert(kChunkColumnsPerBlock == 32 && kChunkRows == 64, "lanes index the columns and half the chunk's rows");
static_assert(2 * kChunkRows * kChunkSlicePitch >= kChunkRows * kChunkRows, "the C×C block reuses the two slices' space");

inline size_t causal_product_chunked_shared_bytes(int64_t p, size_t element_size) {
  return size_t(p * kChunkColumnsPerBlock + 2 * kChunkRows * kChunkSlicePitch + kChunkRows * kChunkColumnsPerBlock) *
         element_size;
}

// Stage C_j's tile: rows start … start + C − 1, columns first_column … + W − 1 (zeros outside).
template <typename T>
STRIPES_DEVICE_FUNCTION void stage_value_tile(T* c_chunk, const T* c_seq, int64_t start, int64_t steps, int64_t q,
                                              int64_t first_column) {
  for (int e = int(threadIdx.x); e < kChunkRows * kChunkColumnsPerBlock; e += kChunkThreads) {
    const int64_t t = start + e / kChunkColumnsPerBlock, column = first_column + e % kChunkColumnsPerBlock;
    c_chunk[e] = (t < steps && column < q) ? c_seq[t * q + column] : T(0);
  }
}

// Stage features slice … slice + width − 1 of the chunk's rows of x [T, P] as [C][pitch] (zeros outside).
template <typename T>
STRIPES_DEVICE_FUNCTION void stage_feature_slice(T* x_slice, const T* x_seq, int64_t start, int64_t steps, int64_t p,
                                                 int64_t slice, int width) {
  for (int e = int(threadIdx.x); e < kChunkRows * kChunkFeatureSlice; e += kChunkThreads) {
    const int r = e / kChunkFeatureSlice, f = e % kChunkFeatureSlice;
    const int64_t t = start + r;
    x_slice[r * kChunkSlicePitch + f] = (t < steps && f < width) ? x_seq[t * p + slice + f] : T(0);
  }
}

// state[slice + f][lane] += (Bᵀ C_j)[f, lane] for this thread's rows f = warp + 8k of the slice.
template <typename T>
STRIPES_DEVICE_FUNCTION void add_slice_to_state(T* state, const T* b_slice, const T* c_chunk, int64_t slice, int width) {
  constexpr int W = kChunkColumnsPerBlock, pitch = kChunkSlicePitch;
  const int lane = int(threadIdx.x) % 32, warp = int(threadIdx.x) / 32;
  T increment[kStateRowsPerThread];
  for (int k = 0; k < kStateRowsPerThread; ++k) increment[k] = T(0);
  for (int r = 0; r < kChunkRows; ++r) {
    const T c_rw = c_chunk[r * W + lane];
    for (int k = 0; k < kStateRowsPerThread; ++k) increment[k] += b_slice[r * pitch + warp + kChunkWarps * k] * c_rw;
  }
  for (int k = 0; k < kStateRowsPerThread; ++k) {
    const int f = warp + kChunkWarps * k;
    if (f < width) state[(slice + f) * W + lane] += increment[k];
  }
}

// The chunks of group g: first … last − 1 (chunk indices), walked forward (reverse: backward).
struct ChunkRange {
  int64_t first, last;
};
STRIPES_DEVICE_FUNCTION ChunkRange group_chunks(int64_t group, int64_t chunks_per_group, int64_t chunks) {
  const int64_t first = group * chunks_per_group;
  const int64_t last = first + chunks_per_group < chunks ? first + chunks_per_group : chunks;
  return {first, last};
}

// 1. D_g = Σ_{j in group g} Bᵀ C_j into group_states [S, G, P, Q], this block's columns.
template <typename T>
STRIPES_KERNEL void causal_product_group_states_kernel(T* group_states, const T* b, const T* c, int64_t steps, int64_t p,
                                                       int64_t q, int64_t chunks_per_group) {
  constexpr int C = kChunkRows, W = kChunkColumnsPerBlock, F = kChunkFeatureSlice, pitch = kChunkSlicePitch;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  T* state = reinterpret_cast<T*>(shared_bytes);  // [p][W]
  T* b_slice = state + p * W + C * pitch;         // [C][pitch]  (the same layout as the product kernel)
  T* c_chunk = b_slice + C * pitch;               // [C][W]
  const int thread = int(threadIdx.x);
  const int64_t sequence = blockIdx.x, first_column = int64_t(blockIdx.y) * W, group = blockIdx.z, groups = gridDim.z;
  const T* b_seq = b + sequence * steps * p;
  const T* c_seq = c + sequence * steps * q;
  for (int64_t e = thread; e < p * W; e += kChunkThreads) state[e] = T(0);
  const ChunkRange range = group_chunks(group, chunks_per_group, (steps + C - 1) / C);
  for (int64_t chunk = range.first; chunk < range.last; ++chunk) {
    __syncthreads();  // the previous chunk is done with c_chunk
    stage_value_tile(c_chunk, c_seq, chunk * C, steps, q, first_column);
    for (int64_t slice = 0; slice < p; slice += F) {
      const int width = int(p - slice < F ? p - slice : F);
      __syncthreads();  // c_chunk is staged; the previous slice's b_slice is no longer read
      stage_feature_slice(b_slice, b_seq, chunk * C, steps, p, slice, width);
      __syncthreads();
      add_slice_to_state(state, b_slice, c_chunk, slice, width);
    }
  }
  __syncthreads();
  T* out = group_states + (sequence * groups + group) * p * q;
  for (int64_t e = thread; e < p * W; e += kChunkThreads) {
    const int64_t f = e / W, column = first_column + e % W;
    if (column < q) out[f * q + column] = state[e];
  }
}

// 2. out_j (+)= A S_j + tril(A Bᵀ) C_j for the chunks of group g (group_states: null when G = 1).
template <typename T>
STRIPES_KERNEL void causal_product_chunked_kernel(T* out, const T* group_states, const T* a, const T* b, const T* c,
                                                  int64_t steps, int64_t p, int64_t q, int64_t chunks_per_group,
                                                  bool reverse, bool accumulate) {
  constexpr int C = kChunkRows, W = kChunkColumnsPerBlock, F = kChunkFeatureSlice, pitch = kChunkSlicePitch;
  constexpr int R = kRowsPerThread;
  STRIPES_DYNAMIC_SHARED(shared_bytes);
  T* state = reinterpret_cast<T*>(shared_bytes);  // [p][W]   S_j, this block's columns
  T* a_slice = state + p * W;                     // [C][pitch]
  T* b_slice = a_slice + C * pitch;               // [C][pitch]
  T* c_chunk = b_slice + C * pitch;               // [C][W]
  T* within = a_slice;                            // [C][C]    masked A Bᵀ, once the slices are done
  const int thread = int(threadIdx.x), lane = thread % 32, warp = thread / 32;
  const int64_t sequence = blockIdx.x, first_column = int64_t(blockIdx.y) * W, group = blockIdx.z, groups = gridDim.z;
  const T* a_seq = a + sequence * steps * p;
  const T* b_seq = b + sequence * steps * p;
  const T* c_seq = c + sequence * steps * q;
  T* out_seq = out + sequence * steps * q;

  // S at the group's first chunk: the totals of the groups before it (reverse: after it).
  for (int64_t e = thread; e < p * W; e += kChunkThreads) {
    const int64_t f = e / W, column = first_column + e % W;
    T sum = T(0);
    if (column < q) {
      for (int64_t earlier = reverse ? group + 1 : 0; earlier < (reverse ? groups : group); ++earlier) {
        sum += group_states[((sequence * groups + earlier) * p + f) * q + column];
      }
    }
    state[e] = sum;
  }
  const ChunkRange range = group_chunks(group, chunks_per_group, (steps + C - 1) / C);
  for (int64_t i = 0; i < range.last - range.first; ++i) {
    const int64_t start = (reverse ? range.last - 1 - i : range.first + i) * C;
    __syncthreads();  // the state is set; the previous chunk is done with c_chunk and within
    stage_value_tile(c_chunk, c_seq, start, steps, q, first_column);
    T scores[R][2];  // (A Bᵀ)[t, n] for t = warp + 8k, n = lane and lane + 32
    T outputs[R];    // out_j[t, lane]
    for (int k = 0; k < R; ++k) scores[k][0] = scores[k][1] = outputs[k] = T(0);

    for (int64_t slice = 0; slice < p; slice += F) {  // b. the features, 32 at a time
      const int width = int(p - slice < F ? p - slice : F);
      __syncthreads();  // c_chunk is staged; the previous slice's a_slice, b_slice are no longer read
      stage_feature_slice(a_slice, a_seq, start, steps, p, slice, width);
      stage_feature_slice(b_slice, b_seq, start, steps, p, slice, width);
      __syncthreads();
      for (int f = 0; f < width; ++f) {
        const T b_low = b_slice[lane * pitch + f], b_high = b_slice[(lane + 32) * pitch + f];
        const T s_f = state[(slice + f) * W + lane];
        for (int k = 0; k < R; ++k) {
          const T a_tf = a_slice[(warp + kChunkWarps * k) * pitch + f];
          scores[k][0] += a_tf * b_low;   // a_t · b_n
          scores[k][1] += a_tf * b_high;
          outputs[k] += a_tf * s_f;       // (A S_j)[t, lane]
        }
      }
      __syncthreads();  // these state rows have been read as S_j by every thread
      add_slice_to_state(state, b_slice, c_chunk, slice, width);
    }

    __syncthreads();  // c. every thread is done with a_slice, b_slice: within may overwrite them
    for (int k = 0; k < R; ++k) {
      const int t = warp + kChunkWarps * k;
      for (int half = 0; half < 2; ++half) {
        const int n = lane + 32 * half;
        within[t * C + n] = (reverse ? n >= t : n <= t) ? scores[k][half] : T(0);  // tril (reverse: triu), diagonal kept
      }
    }
    __syncthreads();
    for (int n = 0; n < C; ++n) {
      const T c_nw = c_chunk[n * W + lane];
      for (int k = 0; k < R; ++k) outputs[k] += within[(warp + kChunkWarps * k) * C + n] * c_nw;  // (tril(A Bᵀ) C_j)[t, lane]
    }
    for (int k = 0; k < R; ++k) {
      const int64_t row = start + warp + kChunkWarps * k, column = first_column + lane;
      if (row < steps && column < q) {
        T& target = out_seq[row * q + column];
        target = accumulate ? target + outputs[k] : outputs[k];
      }
    }
  }
}

// The launcher's choice of G: enough blocks for every multiprocessor to hold several (each needs
// 40.5 KiB and 256 threads in float32: about 4 fit), never more groups than chunks, and K ≥ 1.
inline int64_t causal_product_chunk_groups(int64_t sequences, int64_t column_tiles, int64_t chunks, int64_t multiprocessors) {
  const int64_t wanted_blocks = 4 * multiprocessors, blocks = sequences * column_tiles;
  int64_t groups = (wanted_blocks + blocks - 1) / blocks;
  if (groups > chunks) groups = chunks;
  if (groups < 1) groups = 1;
  const int64_t chunks_per_group = (chunks + groups - 1) / groups;
  return (chunks + chunks_per_group - 1) / chunks_per_group;  // no empty group
}

}  // namespace stripes::attention::cuda_kernels
