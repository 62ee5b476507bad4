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
#pragma once

#include "autograd/ops.hpp"

namespace stripes::attention {

namespace cuda_kernels {
Tensor causal_product_forward_cuda(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse);
}

// Tensor-level kernel (no autograd). Leading dims of a, b, c must be equal. Runs on the tensors'
// device: the CPU loop below, or attention/cuda/causal_product.cu.
Tensor causal_product_forward(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse);

// The reference it is tested against: materializes the masked T×T matrix.
Tensor causal_product_reference(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse);

// Differentiable causal product.
ag::Var causal_product(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse = false);

}  // namespace stripes::attention
