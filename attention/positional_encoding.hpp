// Positional encodings (PEs) of the paper, behind one interface (method.md §2).
//
// Every PE turns per-head queries and keys q, k ∈ R^{B×H×T×D} and the positions p (time index,
// chord token, chroma vector, multi-level structure vector ...) into the vectors whose dot product
// is the attention score — the vectors that enter the feature map φ of kernelized attention, or
// that softmax attention compares exactly:
//
//     a_mn = encode(q, p)_m · encode(k, p)_n           (dim into φ = feature_dim())
//
// The exact quadratic StrIPE baseline (S-RPE) cannot be written this way; it declares
// uses_score_bias() and adds a T×T bias to the softmax scores instead.
//
// Names (configs, CLI, dumps): nope, ape, rope-a, rope-b, rope-c, spe-sine, spe-conv, fstripe
// (RFF; `sff = true` for the noisy SFF form), fstripe1, ropepool, stripe.
#pragma once

#include "autograd/ops.hpp"
#include "nn/module.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace stripes::attention {

// What kind of kernel G(p_m, p_n) on positions a PE induces (Proposition 1 of the paper).
struct KernelProperties {
  bool positive_definite = true;  // RoPE's antisymmetric sine term makes it non-pd
  bool lag_only = true;           // depends on p_m − p_n only (RoPEPool also on p_m + p_n)
  bool stochastic = false;        // redraws noise at every forward (SPE, F-StrIPE:SFF)
  bool uses_positions = true;     // NoPE does not look at positions
};

struct PositionalEncodingConfig {
  std::string name = "nope";
  int64_t heads = 4;
  int64_t head_dim = 128;          // D
  int64_t position_dim = 1;        // L: 1 for scalar positions, 12 for chroma, 3 for [melody, chord, phrase]
  DType dtype = DType::Float32;
  uint64_t seed = 0;               // initialisation and noise
  // spectral PEs (spe-sine, spe-conv, fstripe)
  int64_t num_sines = 5;           // K (SPE) / N_f (F-StrIPE): frequencies per dimension
  int64_t realizations = 64;       // R: noise realizations (SPE, F-StrIPE:SFF)
  bool gated = true;               // SPE's gated filter (adds a position-free constant to P_d)
  bool sff = false;                // fstripe: the noisy SFF form instead of deterministic RFF
  int64_t conv_kernel = 32;        // spe-conv: filter length
  // fstripe1
  bool fstripe1_pooled = true;     // literal eqs. 19-20: pool over dimensions, dim into φ = 2
  // stripe (exact S-RPE)
  int64_t model_dim = 512;         // d_model, for S-RPE's embedding of position differences
  double srpe_base = 10001.0;      // sinusoid base (chord: 10001 in StrIPE)
};

class PositionalEncoding : public nn::Module {
 public:
  virtual std::string_view pe_name() const = 0;
  virtual KernelProperties kernel_properties() const = 0;
  // Dimension of the encoded vectors (the dim into φ).
  virtual int64_t feature_dim() const = 0;

  struct Encoded {
    ag::Var query;  // [B, H, T, feature_dim()]
    ag::Var key;    // [B, H, T, feature_dim()]
  };
  // q, k: [B, H, T, D]. positions: float [B, T], [B, T, L], or undefined (= time index 0..T-1).
  virtual Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor& positions) = 0;

  // Exact-attention PEs (stripe) add a bias [B, H, T, T] to the softmax scores instead.
  virtual bool uses_score_bias() const { return false; }
  virtual ag::Var score_bias(const ag::Var& q, const Tensor& positions);

  // The generator of the PE's random draws (SPE's noise), or null for deterministic PEs: part of a
  // training run's state, saved in checkpoints so that a resumed run draws the same noise.
  virtual std::shared_ptr<Generator> noise_generator() const { return nullptr; }

  // Positions as [B or 1, T, L] in `dtype` on `device` (that of the queries they combine with),
  // checked against the configured position_dim; undefined positions become the time index (built
  // on the host, then copied).
  Tensor normalized_positions(const Tensor& positions, int64_t steps, DType dtype, Device device,
                              int64_t position_dim) const;
};

std::shared_ptr<PositionalEncoding> make_positional_encoding(const PositionalEncodingConfig& config);
// Every name make_positional_encoding accepts.
const std::vector<std::string>& positional_encoding_names();

// ---- building blocks shared by several PEs (attention/pe/rotary.cpp) -------------------------------

// angles[b, h, t, j] = Σ_l p[b, t, l] f[h, j, l]            p: [B|1, T, L]  f: [H, J, L] -> [B|1, H, T, J]
ag::Var position_angles(const Tensor& positions, const ag::Var& frequencies);

// RoPE's per-pair rotation (eq. 22): for pair j = (2j, 2j+1) and angle α_j, given cos α and sin α
// (computed once when q and k share the angles),
//   [x_2j cos α_j − x_2j+1 sin α_j,  x_2j+1 cos α_j + x_2j sin α_j]
// x: [..., D], cos/sin: [..., D/2] (broadcast) -> rotated [..., D]. With pooled = true, the two
// rotated coordinates of each pair are summed instead (RoPEPool): -> [..., D/2]. One fused op with
// a hand-written backward (attention/pe/rotary.cpp): a CPU loop, or the GPU kernels of
// attention/cuda/rotate_pairs_kernels.cuh.
ag::Var rotate_pairs(const ag::Var& x, const ag::Var& cos_angles, const ag::Var& sin_angles, bool pooled = false);
// The composed reference: strided slices, products and sums of autograd ops.
ag::Var rotate_pairs_composed(const ag::Var& x, const ag::Var& cos_angles, const ag::Var& sin_angles, bool pooled = false);

// Per-dimension sinusoidal codes (attention/pe/dimension_codes.cpp):
//   h(a_d)_k = [a_d cos φ_dk, a_d sin φ_dk], k < K
//   interleaved: over (d, k, cos|sin) [..., 2DK];   pooled: Σ_d, over (k, cos|sin) [..., 2K]
// a: [..., D], cos/sin of the phases: [..., D·K] ordered (d, k), broadcast over a's leading dims.
// F-StrIPE₁'s features are K = 1 (eq. 15, pooled: eq. 20); sineSPE's and F-StrIPE:SFF's codes
// before the noise matmul are the interleaved form. One fused op with a hand-written backward: a
// CPU loop, or the GPU kernels of attention/cuda/dimension_codes_kernels.cuh.
ag::Var dimension_codes(const ag::Var& a, const ag::Var& cos_phases, const ag::Var& sin_phases, bool pooled);
// The composed reference: products, sums, concat and reshape of autograd ops.
ag::Var dimension_codes_composed(const ag::Var& a, const ag::Var& cos_phases, const ag::Var& sin_phases, bool pooled);

// F-StrIPE's pooled codes from the phases (attention/pe/pooled_sinusoid_codes.cpp, eq. 12):
//   y_{2k} = Σ_d a_d λ_dk cos φ_dk,   y_{2k+1} = Σ_d a_d λ_dk sin φ_dk
// a: [B, H, T, D]   φ: [B|1, H, T, D·K] ordered (d, k)   λ: [H, D·K]   y: [B, H, T, 2K]
// One fused CPU op with a hand-written backward (∂a, ∂φ, ∂λ) that keeps no cos / sin table; the
// composed form below on other devices.
ag::Var pooled_sinusoid_codes(const ag::Var& a, const ag::Var& phase, const ag::Var& gains);
// The composed reference: dimension_codes (pooled) of λ cos φ and λ sin φ.
ag::Var pooled_sinusoid_codes_composed(const ag::Var& a, const ag::Var& phase, const ag::Var& gains);

// sineSPE's and F-StrIPE:SFF's pooled codes from the phases (attention/pe/pooled_noisy_codes.cpp):
//   y = Σ_d a_d q̄_d,   q̄_d = Σ_k (cos φ_dk W_(d,k,cos) + sin φ_dk W_(d,k,sin))
// a: [B, H, T, D]   φ: [B|1, H, T, D·K] ordered (d, k)   W: [H, 2·D·K, R] rows (d, k, cos|sin)   y: [B, H, T, R]
// One fused CPU op with a hand-written backward (∂a, ∂φ, ∂W) that forms neither the codes table
// [B, H, T, 2·D·K] nor q̄ beyond 32 steps of a head; the composed form below on other devices.
ag::Var pooled_noisy_codes(const ag::Var& a, const ag::Var& phase, const ag::Var& weights);
// The composed reference: dimension_codes (interleaved) of cos φ, sin φ, then the matmul with W.
ag::Var pooled_noisy_codes_composed(const ag::Var& a, const ag::Var& phase, const ag::Var& weights);

// RoPE(A)'s frequencies f_j = 10000^{−2j/D}, j = 0..D/2−1; RoPE(B)'s per-head bases
// 10000^{(h+1)/H} (head H−1 is RoPE(A), earlier heads rotate faster). [H, J, L] with the same value
// for every position dimension l.
Tensor rope_frequencies(int64_t heads, int64_t pairs, int64_t position_dim, bool per_head, DType dtype);

// Absolute sinusoidal PE (Vaswani et al.): PE(t, 2i) = sin(t / 10000^{2i/d}), PE(t, 2i+1) = cos(·).
// positions: [B|1, T] -> [B|1, T, d_model], on the positions' device (tabulated on the host).
// The `ape` PE is added to the model's input, not here.
Tensor sinusoidal_position_embedding(const Tensor& positions, int64_t model_dim, double base = 10000.0,
                                     DType dtype = DType::Float32);

// ---- convSPE's depthwise filter (attention/pe/spe_conv.cpp) ----------------------------------------

// y[c, t, r] = Σ_τ f[c, τ] x[c, t + τ, r]      f: [C, K]  x: [C, T + K − 1, R] (noise, no gradient)  y: [C, T, R]
// filter and noise on one device. One fused op with a hand-written backward (∂f): a CPU loop, or
// the GPU kernels of attention/cuda/depthwise_filter_kernels.cuh.
ag::Var depthwise_filter(const ag::Var& filter, const Tensor& noise, int64_t steps);
// The composed reference: y = Σ_τ f[:, τ] ⊙ x[:, τ : τ + T, :], a sum over the K taps of broadcast
// products of slices (autograd ops only, so it runs on any device).
ag::Var depthwise_filter_composed(const ag::Var& filter, const Tensor& noise, int64_t steps);

// convSPE's pooled codes without the codes:
//   out[b, h, t, r] = Σ_d a[b, h, t, d] ā[h·D + d, t, r],   ā = depthwise_filter(f, x, T)
// a: [B, H, T, D]   f: [H·D, K]   x: [H·D, T + K − 1, R] (noise, no gradient)   out: [B, H, T, R]
// One fused CPU op with a hand-written backward (∂a, ∂f) that makes the codes of one head and a
// few steps at a time and never holds the H·T·D·R codes; the composed form below on other devices.
ag::Var pooled_filtered_noise(const ag::Var& a, const ag::Var& filter, const Tensor& noise);
// The composed reference: depthwise_filter, then a batched [1, D] @ [D, R] matmul per (b, h, t).
ag::Var pooled_filtered_noise_composed(const ag::Var& a, const ag::Var& filter, const Tensor& noise);

}  // namespace stripes::attention
