// sineSPE's and F-StrIPE:SFF's pooled codes from the phases, without the codes (method.md §2.3, §2.5,
// eqs. 5–7):
//
//   q̄_d = Σ_k (cos φ_dk W_(d,k,cos) + sin φ_dk W_(d,k,sin))      the codes of dimension d, [R]
//   y = Σ_d a_d q̄_d
//   a: [B, H, T, D]   φ: [B|1, H, T, D·K] ordered (d, k)   W: [H, 2·D·K, R] rows ordered (d, k, cos|sin)
//   y: [B, H, T, R]
// Backward, with g = ∂L/∂y and u the interleaved [cos φ_dk, sin φ_dk] row:
//   ∂a_d  = g · q̄_d
//   ∂q̄_d  = Σ_b a_d g                  (over the sequences that share the row of phases)
//   ∂W_(d,k,c) = Σ_{b, t} u_(d,k,c) ∂q̄_d
//   ∂φ_dk = cos φ_dk (W_(d,k,sin) · ∂q̄_d) − sin φ_dk (W_(d,k,cos) · ∂q̄_d)
//
// The composed form is dimension_codes (interleaved) of cos φ, sin φ, then the matmul with W: the
// joint-axis matmul [B, H, T, 2·D·K] @ [H, 2·D·K, R]. It forms the codes table [B, H, T, 2·D·K]
// (168 MB per side in the paper's model) and does 2·D·K·R multiply-adds per (b, h, t). The fused
// CPU op makes q̄ [D, R] for L = 32 steps of one head at a time (one [L, 2K] @ [2K, R] GEMM per
// dimension: 2·D·K·R multiply-adds per step, once for the whole batch when the phases are shared,
// as with time positions), pools it for every sequence with one [B, D] @ [D, R] GEMM per step, and
// drops it. Its backward makes q̄ again. ∂W is summed per part of 256 steps, then over the parts
// in order: the same numbers whatever the thread count.
#include "attention/positional_encoding.hpp"

#include "attention/pe/phase_rows.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <algorithm>
#include <vector>

namespace stripes::attention {

ag::Var pooled_noisy_codes_composed(const ag::Var& a, const ag::Var& phase, const ag::Var& weights) {
  return ag::matmul(dimension_codes(a, ag::cos(phase), ag::sin(phase), false), weights);
}

namespace {

constexpr int64_t kCodeRows = 32;          // L: steps whose codes are made together (one GEMM per dimension)
constexpr int64_t kWeightGradSteps = 256;  // steps per partial sum of ∂W (a multiple of L)
static_assert(kWeightGradSteps % kCodeRows == 0, "a partial sum of ∂W covers whole blocks of codes");

struct NoisyShape {
  PhaseRows rows;
  int64_t realizations;
};

// The sequences that share row `b` of phases: all of them (shared phases) or b alone.
struct Sequences {
  int64_t first, count;
};
Sequences sharing(const PhaseRows& s, int64_t b) { return s.phase_batch == 1 ? Sequences{0, s.batch} : Sequences{b, 1}; }

// [count, cols] rows of x at (b, h, t) for b = first … first + count − 1 (x is [B, H, T, cols]).
template <typename T>
ConstStridedRows<T> batch_rows(const T* x, const PhaseRows& s, Sequences seq, int64_t h, int64_t t, int64_t cols) {
  return ConstStridedRows<T>(x + s.row(seq.first, h, t) * cols, seq.count, cols, Eigen::OuterStride<>(s.heads * s.steps * cols));
}
template <typename T>
StridedRows<T> batch_rows(T* x, const PhaseRows& s, Sequences seq, int64_t h, int64_t t, int64_t cols) {
  return StridedRows<T>(x + s.row(seq.first, h, t) * cols, seq.count, cols, Eigen::OuterStride<>(s.heads * s.steps * cols));
}

// The codes of `count` ≤ L consecutive steps of one head and one row of phases:
//   u [count, 2·D·K] = [cos φ_dk, sin φ_dk] interleaved, per step
//   codes[d] [count, R] = u_d W_d        (u_d: u's 2K columns of dimension d, W_d: W's [2K, R] rows)
// held as [D][L·R], so that the codes of step l are the [D, R] matrix at l·R with row stride L·R.
template <typename T>
struct BlockCodes {
  int64_t count = 0;
  std::vector<T> cos_rows, sin_rows, u, codes;
  BlockCodes(const PhaseRows& s, int64_t r)
      : cos_rows(static_cast<size_t>(kCodeRows * s.phases())), sin_rows(static_cast<size_t>(kCodeRows * s.phases())),
        u(static_cast<size_t>(kCodeRows * 2 * s.phases())), codes(static_cast<size_t>(s.dims * kCodeRows * r)) {}

  void make(const T* phase_rows, const T* weights_h, const PhaseRows& s, int64_t r, int64_t steps) {
    count = steps;
    const int64_t dk = s.phases(), width = 2 * s.sines;
    sinusoids<T>(cos_rows.data(), sin_rows.data(), phase_rows, count * dk);
    for (int64_t i = 0; i < count * dk; ++i) {
      u[size_t(2 * i)] = cos_rows[size_t(i)];
      u[size_t(2 * i + 1)] = sin_rows[size_t(i)];
    }
    for (int64_t d = 0; d < s.dims; ++d) {
      Rows<T>(codes.data() + d * kCodeRows * r, count, r).noalias() =
          u_of(d, s) * ConstRows<T>(weights_h + d * width * r, width, r);
    }
  }
  ConstStridedRows<T> u_of(int64_t d, const PhaseRows& s) const {  // [count, 2K]
    return ConstStridedRows<T>(u.data() + d * 2 * s.sines, count, 2 * s.sines, Eigen::OuterStride<>(2 * s.phases()));
  }
  ConstStridedRows<T> step_codes(int64_t l, const PhaseRows& s, int64_t r) const {  // q̄ of step l, [D, R]
    return ConstStridedRows<T>(codes.data() + l * r, s.dims, r, Eigen::OuterStride<>(kCodeRows * r));
  }
};

Tensor pooled_noisy_codes_forward(const Tensor& a, const Tensor& phase, const Tensor& weights, const NoisyShape& shape) {
  const PhaseRows& s = shape.rows;
  const int64_t r = shape.realizations, blocks = (s.steps + kCodeRows - 1) / kCodeRows;
  Tensor y = Tensor::empty({s.batch, s.heads, s.steps, r}, a.dtype());
  dispatch_floating(a.dtype(), "pooled_noisy_codes", [&]<typename T>() {
    parallel_for(s.heads * blocks, 1, [&](int64_t begin, int64_t end) {
      BlockCodes<T> block(s, r);
      for (int64_t item = begin; item < end; ++item) {
        const int64_t h = item / blocks, t0 = item % blocks * kCodeRows, count = std::min(kCodeRows, s.steps - t0);
        for (int64_t b = 0; b < s.phase_batch; ++b) {
          block.make(phase.data<T>() + s.phase_row(b, h, t0) * s.phases(), weights.data<T>() + h * 2 * s.phases() * r, s, r, count);
          const Sequences seq = sharing(s, b);
          for (int64_t l = 0; l < count; ++l) {  // y = a q̄ for every sequence sharing these codes
            batch_rows(y.mutable_data<T>(), s, seq, h, t0 + l, r).noalias() =
                batch_rows(a.data<T>(), s, seq, h, t0 + l, s.dims) * block.step_codes(l, s, r);
          }
        }
      }
    });
  });
  return y;
}

void pooled_noisy_codes_backward(ag::GradTarget grad_a, ag::GradTarget grad_phase, ag::GradTarget grad_weights,
                                 const Tensor& grad_y_in, const Tensor& a, const Tensor& phase, const Tensor& weights,
                                 const NoisyShape& shape) {
  const PhaseRows& s = shape.rows;
  const int64_t r = shape.realizations, dk = s.phases(), width = 2 * s.sines;
  const int64_t parts = (s.steps + kWeightGradSteps - 1) / kWeightGradSteps;
  const Tensor grad_y = grad_y_in.contiguous();
  const bool want_a = grad_a.defined(), want_phase = grad_phase.defined(), want_weights = grad_weights.defined();
  Tensor da = want_a ? Tensor::empty(a.shape(), a.dtype()) : Tensor();
  Tensor dphase = want_phase ? Tensor::empty(phase.shape(), a.dtype()) : Tensor();
  Tensor part_dweights = want_weights ? Tensor::zeros({s.heads, parts, 2 * dk, r}, a.dtype()) : Tensor();
  dispatch_floating(a.dtype(), "pooled_noisy_codes backward", [&]<typename T>() {
    parallel_for(s.heads * parts, 1, [&](int64_t begin, int64_t end) {
      BlockCodes<T> block(s, r);
      std::vector<T> grad_codes(static_cast<size_t>(s.dims * kCodeRows * r)), grad_u(static_cast<size_t>(kCodeRows * 2 * dk));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t h = item / parts, part = item % parts;
        const T* weights_h = weights.data<T>() + h * 2 * dk * r;
        T* dweights = want_weights ? part_dweights.mutable_data<T>() + item * 2 * dk * r : nullptr;
        const int64_t part_end = std::min(s.steps, (part + 1) * kWeightGradSteps);
        for (int64_t t0 = part * kWeightGradSteps; t0 < part_end; t0 += kCodeRows) {
          const int64_t count = std::min(kCodeRows, part_end - t0);
          for (int64_t b = 0; b < s.phase_batch; ++b) {
            block.make(phase.data<T>() + s.phase_row(b, h, t0) * dk, weights_h, s, r, count);
            const Sequences seq = sharing(s, b);
            for (int64_t l = 0; l < count; ++l) {
              const ConstStridedRows<T> g = batch_rows(grad_y.data<T>(), s, seq, h, t0 + l, r);
              if (want_a) batch_rows(da.mutable_data<T>(), s, seq, h, t0 + l, s.dims).noalias() = g * block.step_codes(l, s, r).transpose();
              if (!want_phase && !want_weights) continue;
              // ∂q̄ of step l [D, R] = Σ over the sharing sequences of a_dᵀ g
              StridedRows<T>(grad_codes.data() + l * r, s.dims, r, Eigen::OuterStride<>(kCodeRows * r)).noalias() =
                  batch_rows(a.data<T>(), s, seq, h, t0 + l, s.dims).transpose() * g;
            }
            if (!want_phase && !want_weights) continue;
            for (int64_t d = 0; d < s.dims; ++d) {
              const ConstRows<T> dcodes_d(grad_codes.data() + d * kCodeRows * r, count, r);  // [count, R]
              const ConstRows<T> w_d(weights_h + d * width * r, width, r);                    // [2K, R]
              if (dweights) Rows<T>(dweights + d * width * r, width, r).noalias() += block.u_of(d, s).transpose() * dcodes_d;
              if (want_phase) {  // ∂u_d = ∂q̄_d W_dᵀ  [count, 2K]
                StridedRows<T>(grad_u.data() + d * width, count, width, Eigen::OuterStride<>(2 * dk)).noalias() = dcodes_d * w_d.transpose();
              }
            }
            if (!want_phase) continue;
            T* dphase_rows = dphase.mutable_data<T>() + s.phase_row(b, h, t0) * dk;
            for (int64_t i = 0; i < count * dk; ++i) {  // ∂φ = cos φ ∂u_sin − sin φ ∂u_cos
              dphase_rows[i] = block.cos_rows[size_t(i)] * grad_u[size_t(2 * i + 1)] - block.sin_rows[size_t(i)] * grad_u[size_t(2 * i)];
            }
          }
        }
      }
    });
  });
  if (want_a) grad_a += std::move(da);
  if (want_phase) grad_phase += std::move(dphase);
  if (want_weights) grad_weights += sum(part_dweights, {1});  // [H, 2·D·K, R]: the parts added in order
}

NoisyShape check_pooled_noisy_codes(const ag::Var& a, const ag::Var& phase, const ag::Var& weights) {
  const PhaseRows s = phase_rows_of("pooled_noisy_codes", a.value(), phase.value(), "weights [H, 2·D·K, R]");
  const Tensor& wv = weights.value();
  STRIPES_CHECK(wv.dim() == 3 && wv.size(0) == s.heads && wv.size(1) == 2 * s.phases() && wv.dtype() == a.value().dtype() &&
                    wv.device() == a.value().device(),
                "pooled_noisy_codes: weights {} must be [H, 2·D·K, R] = [{}, {}, R], of a {}'s dtype and device",
                wv.description(), s.heads, 2 * s.phases(), a.value().description());
  return {s, wv.size(2)};
}

}  // namespace

ag::Var pooled_noisy_codes(const ag::Var& a, const ag::Var& phase, const ag::Var& weights) {
  const NoisyShape shape = check_pooled_noisy_codes(a, phase, weights);
  if (a.value().device() != Device::CPU) return pooled_noisy_codes_composed(a, phase, weights);
  const Tensor av = a.value().contiguous(), pv = phase.value().contiguous(), wv = weights.value().contiguous();
  return ag::make_result("pooled_noisy_codes", pooled_noisy_codes_forward(av, pv, wv, shape), {a, phase, weights},
                         [av, pv, wv, shape](ag::BackwardContext& ctx) {
                           pooled_noisy_codes_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.grad_target(2),
                                                       ctx.grad_output(), av, pv, wv, shape);
                         });
}

}  // namespace stripes::attention
