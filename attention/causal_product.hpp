// The causal product — the one primitive behind causal linear attention (Katharopoulos et al.
// 2020; fast-transformers' `causal_product`):
//
//   out_t = Σ_{n ≤ t} (a_t · b_n) c_n              a, b: [..., T, P]   c: [..., T, Q]   out: [..., T, Q]
//   reverse:  out_t = Σ_{n ≥ t} (a_t · b_n) c_n
//
// computed as a prefix sum of the P×Q outer products S_t = Σ_{n≤t} b_n c_nᵀ, out_t = S_tᵀ a_t, in
// O(T·P·Q) time and O(P·Q) memory per sequence: the T×T matrix (a_t · b_n) is never formed.
// Its backward is three more causal products with permuted arguments:
//   ∂L/∂a = causal(g, c, b),   ∂L/∂b = reverse_causal(c, g, a),   ∂L/∂c = reverse_causal(b, a, g)
// (reverse swaps causal and reverse_causal).
//
// Two CPU implementations, tested against each other and against the masked T×T reference:
//  - prefix (causal_product): the per-token recurrence above, S_t in a P×Q buffer;
//  - chunked (causal_product_chunked, flash-linear-attention's form): the sequence is cut into
//    chunks of C steps (C = 64 by default); with A, B, C_ the rows of a, b, c in chunk j and S the
//    state summed over all earlier chunks,
//        out_chunk = A S + tril(A Bᵀ) C_          (reverse: the later chunks, triu)
//        S ← S + Bᵀ C_
//    i.e. three small dense GEMMs per chunk (Eigen) instead of T rank-1 updates. Only the running
//    P×Q state exists: the T·P·Q prefix states are never materialized. The backward is the same
//    permuted products as the prefix form, each accumulated straight into its gradient buffer.
// On the GPU (kernels in attention/cuda/causal_product_kernels.cuh):
//  - prefix: the recurrent kernel, one thread per value column walking the T steps;
//  - chunked: the chunked kernel (C = 64), one block per (sequence, 32 value columns) walking the
//    chunks with its state tile in shared memory;
//  - chunked-composed: the same chunk equations composed from tensor ops over every chunk at once
//    (causal_product_chunked_composed: cuBLAS batched GEMMs, a cumsum of the ⌈T/C⌉ chunk states),
//    on any device. It is the fused kernel's reference, and `bench attention` times both.
#pragma once

#include "autograd/ops.hpp"

#include <string_view>

namespace stripes::attention {

// Prefix: the recurrent form (one state update per step). Chunked: the chunked form's hand-written
// kernel on each device (the CPU loop; the GPU's fused kernel). ChunkedComposed: the chunked form
// from tensor ops (batched GEMMs: cuBLAS on the GPU). Auto: the faster chunked form of the tensors'
// device, as measured (docs/performance.md): Chunked on the CPU, ChunkedComposed on the GPU.
enum class CausalAlgorithm { Prefix, Chunked, ChunkedComposed, Auto };
CausalAlgorithm parse_causal_algorithm(std::string_view name);  // "prefix" | "chunked" | "chunked-composed" | "auto"
std::string_view causal_algorithm_name(CausalAlgorithm algorithm);
// Auto made concrete for a device; the other algorithms unchanged.
CausalAlgorithm resolve_causal_algorithm(CausalAlgorithm algorithm, Device device);
constexpr int64_t kDefaultCausalChunk = 64;

namespace detail {
// Checked shapes: `sequences` = product of the leading dims, `steps` = T, p = P, q = Q.
struct CausalShapes {
  int64_t sequences = 1, steps = 0, p = 0, q = 0;
};
CausalShapes check_causal_shapes(const char* op, const Tensor& a, const Tensor& b, const Tensor& c);
}  // namespace detail

namespace cuda_kernels {
// attention/cuda/causal_product.cu: the recurrent kernel; the chunked kernels (C = kDefaultCausalChunk)
// writing (accumulate: adding) into out, contiguous on the GPU with c's shape and dtype, the
// sequence cut into `groups` runs of chunks (0: as many as fill the device; tests set it).
Tensor causal_product_forward_cuda(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse);
void causal_product_chunked_cuda(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                                 bool accumulate, int64_t groups = 0);
}

// Tensor-level kernel (no autograd). Leading dims of a, b, c must be equal. Runs on the tensors'
// device: the CPU loop below, or attention/cuda/causal_product.cu.
Tensor causal_product_forward(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse);

// The reference it is tested against: materializes the masked T×T matrix.
Tensor causal_product_reference(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse);

// Differentiable causal product.
ag::Var causal_product(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse = false);

// ---- the chunked form (attention/causal_product_chunked.cpp) -----------------------------------
// Same contract as causal_product_forward. chunk >= 1; the last chunk may be shorter. The CPU
// kernel, or on the GPU the chunked kernel (chunk 64; another chunk size runs composed).
Tensor causal_product_chunked_forward(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                                      int64_t chunk = kDefaultCausalChunk);
// The same product composed from tensor ops on any device: every chunk at once with batched GEMMs
// (cuBLAS on the GPU) and a cumsum over the chunk axis for the states; holds the ⌈T/C⌉ chunk
// states [P, Q] of each sequence. Tested against the CPU kernel on the CPU.
Tensor causal_product_chunked_composed(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                                       int64_t chunk = kDefaultCausalChunk);
// out += causal_product(a, b, c, reverse), chunked; out: contiguous [..., T, Q] of c's dtype.
void causal_product_chunked_accumulate(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                                       int64_t chunk = kDefaultCausalChunk);
// Differentiable chunked causal product.
ag::Var causal_product_chunked(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse = false,
                               int64_t chunk = kDefaultCausalChunk);
// Any algorithm: tensor level (out = product; out += product) and differentiable.
Tensor causal_product_forward(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse, CausalAlgorithm algorithm,
                              int64_t chunk = kDefaultCausalChunk);
void causal_product_accumulate(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                               CausalAlgorithm algorithm, int64_t chunk = kDefaultCausalChunk);
ag::Var causal_product(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse, CausalAlgorithm algorithm,
                       int64_t chunk = kDefaultCausalChunk);

}  // namespace stripes::attention
