// Feature maps φ: R^d → R^M of kernelized attention (method.md §1.2).
//
//   FAVOR+ (Choromanski et al. 2021), positive "hyperbolic" random features, as in fast-transformers:
//     x' = x d^{-1/4},  u = x' W  (W: [d, M/2], orthogonal blocks),
//     φ(x) = [exp(u − ‖x'‖²/2 − ½ ln M), exp(−u − ‖x'‖²/2 − ½ ln M)]          E[φ(x)·φ(y)] = exp(x'·y')
//   trigonometric random Fourier features (Rahimi & Recht 2007):
//     φ(x) = √(2/M) [cos(x' W), sin(x' W)]                                     E[φ(x)·φ(y)] = exp(−‖x' − y'‖²/2)
//   elu + 1 (Katharopoulos et al. 2020), deterministic, M = d:
//     φ(x) = elu(x) + 1
//
// Causal-safe stabilizer for FAVOR+ (our choice; fast-transformers' `stabilize` subtracts the
// maximum of ‖x'‖² over the whole sequence, a statistic of future positions). We shift each
// *query* by its own maximum exponent c_m = max_j(±u_mj) − ‖q'_m‖²/2 − ½ ln M, so that its largest
// feature is exactly 1. A per-query factor e^{−c_m}
// multiplies both the numerator and the normalizer of y_m = φ(q_m)ᵀS_m / φ(q_m)ᵀz_m, so it cancels
// exactly and uses nothing but position m. Keys are not shifted: their exponent is bounded by
// u_j − ‖x'‖²/2 ≤ ‖w_j‖²/2 whatever the key, so they cannot overflow for the column norms FAVOR+
// draws (‖w_j‖ ≈ √d). (The normalizer's ε is then relative to max_j φ(q_m)_j = 1 instead of to
// the unshifted scale; see docs/attention.md.)
#pragma once

#include "autograd/ops.hpp"

#include <string_view>

namespace stripes::attention {

enum class FeatureMapKind { Favor, Trig, Elu };
FeatureMapKind parse_feature_map(std::string_view name);   // "favor" | "trig" | "elu"
std::string_view feature_map_name(FeatureMapKind kind);

// W ∈ R^{d × columns}: blocks of d orthonormal columns (QR of a Gaussian matrix, sign-corrected so
// the distribution is Haar), each column rescaled by the norm of an independent N(0, I_d) vector,
// so that every column is marginally N(0, I_d) but columns within a block are orthogonal.
// orthogonal = false gives i.i.d. N(0, 1) entries.
Tensor draw_random_projection(int64_t d, int64_t columns, Generator& generator, DType dtype, bool orthogonal = true);

// The projection W of the random feature maps below may be on another device than x (it is drawn on
// the host): it is then copied to x's device at each call. A caller that reuses one W on a GPU
// keeps its own device copy instead, as PositionalAttention does.

// FAVOR+ features. x: [..., d], projection: [d, M/2] -> [..., M].
// stabilize_query: apply the per-position shift described above (use for queries only).
// One op with a hand-written backward (attention/favor_features.cpp): on the CPU, per block of
// rows, u = x W in a small GEMM and the exponentials written straight into φ — no [..., M/2]
// temporaries. On the GPU, u = x W on cuBLAS and one row kernel each way for the rest
// (attention/cuda/favor_features_kernels.cuh).
ag::Var favor_features(const ag::Var& x, const Tensor& projection, bool stabilize_query);
// The same function composed of primitive ops (scale, matmul, sum, max, concat, exp): the spec.
ag::Var favor_features_reference(const ag::Var& x, const Tensor& projection, bool stabilize_query);

// Trigonometric features. x: [..., d], projection: [d, M/2] -> [..., M].
ag::Var trig_features(const ag::Var& x, const Tensor& projection);

// elu(x) + 1. x: [..., d] -> [..., d].
ag::Var elu_features(const ag::Var& x);

// The kernel each map estimates, for tests and the `kernel` command:
// favor: exp(x·y/√d); trig: exp(−‖x−y‖²/(2√d)); elu: (elu(x)+1)·(elu(y)+1).
Tensor exact_kernel(FeatureMapKind kind, const Tensor& x, const Tensor& y);  // x: [T, d], y: [S, d] -> [T, S]

}  // namespace stripes::attention
