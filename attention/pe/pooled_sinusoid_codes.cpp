// F-StrIPE's pooled codes from the phases, without the cos / sin tables (method.md §2.5, eq. 12):
//
//   y_{2k} = Σ_d a_d λ_dk cos φ_dk,   y_{2k+1} = Σ_d a_d λ_dk sin φ_dk          k < K
//   a: [B, H, T, D]   φ: [B|1, H, T, D·K] ordered (d, k)   λ: [H, D·K]   y: [B, H, T, 2K]
// Backward, with (g_c, g_s) = (∂L/∂y_{2k}, ∂L/∂y_{2k+1}):
//   ∂a_d  = Σ_k λ_dk (g_c cos φ_dk + g_s sin φ_dk)
//   ∂φ_dk = a_d λ_dk (g_s cos φ_dk − g_c sin φ_dk)            (summed over b when φ is [1, H, T, D·K])
//   ∂λ_dk = Σ_{b, t} a_d (g_c cos φ_dk + g_s sin φ_dk)
//
// The composed form is dimension_codes (pooled) of the tables λ cos φ and λ sin φ. It holds four
// [B, H, T, D·K] tables for the backward (cos φ, sin φ and their λ-weighted copies). The fused CPU
// op keeps only a, φ and λ, and computes cos φ and sin φ once per row with Eigen's vectorized sin
// and cos, in the forward and again in the backward. Each output, ∂a and ∂φ value is computed by
// one thread in a fixed order. ∂λ is summed per block of kCodeSteps steps, then over the blocks in
// order. So the numbers are the same whatever the thread count.
#include "attention/positional_encoding.hpp"

#include "attention/pe/phase_rows.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <algorithm>
#include <vector>

namespace stripes::attention {

ag::Var pooled_sinusoid_codes_composed(const ag::Var& a, const ag::Var& phase, const ag::Var& gains) {
  const ag::Var weights = ag::unsqueeze(gains, 1);  // λ [H, 1, D·K], broadcast over b and t
  return dimension_codes(a, ag::cos(phase) * weights, ag::sin(phase) * weights, true);
}

namespace {

constexpr int64_t kCodeSteps = 16;  // steps per block of ∂λ's partial sums

Tensor pooled_sinusoid_codes_forward(const Tensor& a, const Tensor& phase, const Tensor& gains, const PhaseRows& s) {
  Tensor y = Tensor::empty({s.batch, s.heads, s.steps, 2 * s.sines}, a.dtype());
  const int64_t dk = s.phases();
  dispatch_floating(a.dtype(), "pooled_sinusoid_codes", [&]<typename T>() {
    parallel_for(s.heads * s.steps, grain_for(s.batch * dk * 8), [&](int64_t begin, int64_t end) {
      std::vector<T> cos_row(static_cast<size_t>(dk)), sin_row(static_cast<size_t>(dk));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t h = item / s.steps, t = item % s.steps;
        const T* lambda = gains.data<T>() + h * dk;
        for (int64_t b = 0; b < s.batch; ++b) {
          if (s.new_phase_row(b)) {  // λ cos φ and λ sin φ of this row
            sinusoids<T>(cos_row.data(), sin_row.data(), phase.data<T>() + s.phase_row(b, h, t) * dk, dk);
            for (int64_t i = 0; i < dk; ++i) {
              cos_row[size_t(i)] *= lambda[i];
              sin_row[size_t(i)] *= lambda[i];
            }
          }
          const T* ar = a.data<T>() + s.row(b, h, t) * s.dims;
          T* yr = y.mutable_data<T>() + s.row(b, h, t) * 2 * s.sines;
          for (int64_t k = 0; k < s.sines; ++k) {
            double cos_sum = 0, sin_sum = 0;  // in double, as dimension_codes
            for (int64_t d = 0; d < s.dims; ++d) {
              cos_sum += double(ar[d] * cos_row[size_t(d * s.sines + k)]);  // Σ_d a_d λ_dk cos φ_dk
              sin_sum += double(ar[d] * sin_row[size_t(d * s.sines + k)]);    // Σ_d a_d λ_dk sin φ_dk
            }
            yr[2 * k] = T(cos_sum);
            yr[2 * k + 1] = T(sin_sum);
          }
        }
      }
    });
  });
  return y;
}

void pooled_sinusoid_codes_backward(ag::GradTarget grad_a, ag::GradTarget grad_phase, ag::GradTarget grad_gains,
                                    const Tensor& grad_y_in, const Tensor& a, const Tensor& phase, const Tensor& gains,
                                    const PhaseRows& s) {
  const Tensor grad_y = grad_y_in.contiguous();
  const int64_t dk = s.phases(), blocks = (s.steps + kCodeSteps - 1) / kCodeSteps;
  const bool want_a = grad_a.defined(), want_phase = grad_phase.defined(), want_gains = grad_gains.defined();
  Tensor da = want_a ? Tensor::empty(a.shape(), a.dtype()) : Tensor();
  Tensor dphase = want_phase ? Tensor::empty(phase.shape(), a.dtype()) : Tensor();
  Tensor block_dgains = want_gains ? Tensor::zeros({s.heads, blocks, dk}, a.dtype()) : Tensor();
  dispatch_floating(a.dtype(), "pooled_sinusoid_codes backward", [&]<typename T>() {
    parallel_for(s.heads * blocks, 1, [&](int64_t begin, int64_t end) {
      std::vector<T> cos_row(static_cast<size_t>(dk)), sin_row(static_cast<size_t>(dk)), dphase_row(static_cast<size_t>(dk));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t h = item / blocks, block = item % blocks;
        const T* lambda = gains.data<T>() + h * dk;
        T* dlambda = want_gains ? block_dgains.mutable_data<T>() + item * dk : nullptr;
        for (int64_t t = block * kCodeSteps; t < std::min(s.steps, (block + 1) * kCodeSteps); ++t) {
          for (int64_t b = 0; b < s.batch; ++b) {
            if (s.new_phase_row(b)) {
              sinusoids<T>(cos_row.data(), sin_row.data(), phase.data<T>() + s.phase_row(b, h, t) * dk, dk);
              std::fill(dphase_row.begin(), dphase_row.end(), T(0));
            }
            const T* ar = a.data<T>() + s.row(b, h, t) * s.dims;
            const T* gr = grad_y.data<T>() + s.row(b, h, t) * 2 * s.sines;
            for (int64_t d = 0; d < s.dims; ++d) {
              T grad_ad = 0;
              for (int64_t k = 0; k < s.sines; ++k) {
                const int64_t i = d * s.sines + k;
                const T g_cos = gr[2 * k], g_sin = gr[2 * k + 1], c = cos_row[size_t(i)], sn = sin_row[size_t(i)];
                const T along = g_cos * c + g_sin * sn;                // g_c cos φ + g_s sin φ
                grad_ad += lambda[i] * along;
                if (dlambda) dlambda[i] += ar[d] * along;
                if (want_phase) dphase_row[size_t(i)] += ar[d] * lambda[i] * (g_sin * c - g_cos * sn);
              }
              if (want_a) da.mutable_data<T>()[s.row(b, h, t) * s.dims + d] = grad_ad;
            }
            if (want_phase && s.ends_phase_row(b)) {
              std::copy(dphase_row.begin(), dphase_row.end(), dphase.mutable_data<T>() + s.phase_row(b, h, t) * dk);
            }
          }
        }
      }
    });
  });
  if (want_a) grad_a += std::move(da);
  if (want_phase) grad_phase += std::move(dphase);
  if (want_gains) grad_gains += sum(block_dgains, {1});  // [H, D·K]: the blocks of each head added in order
}

PhaseRows check_pooled_sinusoid_codes(const ag::Var& a, const ag::Var& phase, const ag::Var& gains) {
  const PhaseRows s = phase_rows_of("pooled_sinusoid_codes", a.value(), phase.value(), "gains [H, D·K]");
  const Tensor& gv = gains.value();
  STRIPES_CHECK(gv.dim() == 2 && gv.size(0) == s.heads && gv.size(1) == s.phases() && gv.dtype() == a.value().dtype() &&
                    gv.device() == a.value().device(),
                "pooled_sinusoid_codes: gains {} must be [H, D·K] = [{}, {}], of a {}'s dtype and device", gv.description(),
                s.heads, s.phases(), a.value().description());
  return s;
}

}  // namespace

ag::Var pooled_sinusoid_codes(const ag::Var& a, const ag::Var& phase, const ag::Var& gains) {
  const PhaseRows s = check_pooled_sinusoid_codes(a, phase, gains);
  if (a.value().device() != Device::CPU) return pooled_sinusoid_codes_composed(a, phase, gains);
  const Tensor av = a.value().contiguous(), pv = phase.value().contiguous(), gv = gains.value().contiguous();
  return ag::make_result("pooled_sinusoid_codes", pooled_sinusoid_codes_forward(av, pv, gv, s), {a, phase, gains},
                         [av, pv, gv, s](ag::BackwardContext& ctx) {
                           pooled_sinusoid_codes_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.grad_target(2),
                                                          ctx.grad_output(), av, pv, gv, s);
                         });
}

}  // namespace stripes::attention
