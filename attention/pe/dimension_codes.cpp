// Per-dimension sinusoidal codes, the op F-StrIPE₁ (K = 1, pooled or not) and the noisy spectral
// PEs (sineSPE, F-StrIPE:SFF: K sines, interleaved, before the noise matmul) build their features
// with (method.md §2.3, §2.5):
//
//   h(a_d)_k = [a_d cos φ_dk, a_d sin φ_dk],  k < K
//   interleaved: y = [h(a_d)_k] over (d, k, cos|sin)    [..., 2DK]
//   pooled:      y = [Σ_d h(a_d)_k] over (k, cos|sin)   [..., 2K]
//   a: [..., D]   c = cos φ, s = sin φ: [..., D·K] ordered (d, k), broadcast over a's leading dims
// Backward, with (g_c, g_s) the gradients of h(a_d)_k's two entries (pooled: of y_2k, y_2k+1):
//   ∂a_d = Σ_k (g_c c_dk + g_s s_dk),   ∂c_dk = g_c a_d,   ∂s_dk = g_s a_d
//
// The composed form (products, sums, concat, reshape of autograd ops) is the reference; the fused
// op reads a, c, s once and writes y once: a CPU loop over rows, or the GPU kernels of
// attention/cuda/dimension_codes_kernels.cuh.
#include "attention/positional_encoding.hpp"

#include "attention/cuda/dimension_codes.hpp"
#include "attention/pe/table_ops.hpp"
#include "tensor/parallel.hpp"

namespace stripes::attention {

ag::Var dimension_codes_composed(const ag::Var& a, const ag::Var& c, const ag::Var& s, bool pooled) {
  const int64_t dims = a.size(-1), sines = c.size(-1) / dims;
  Shape per_dim = c.shape();
  per_dim.back() = dims;
  per_dim.push_back(sines);                                                        // [..., D, K]
  const ag::Var a_expanded = ag::unsqueeze(a, -1);                                 // [..., D, 1]
  ag::Var a_cos = a_expanded * ag::reshape(c, per_dim), a_sin = a_expanded * ag::reshape(s, per_dim);
  Shape out = a_cos.shape();
  out.pop_back();
  if (pooled) {
    a_cos = ag::sum(a_cos, {-2});                                                  // Σ_d  [..., K]
    a_sin = ag::sum(a_sin, {-2});
    out.back() = 2 * sines;
  } else {
    out.back() = 2 * dims * sines;
  }
  return ag::reshape(ag::stack({a_cos, a_sin}, -1), out);
}

namespace {

// One pass over a's rows (CPU), or the GPU kernel.
Tensor dimension_codes_forward(const Tensor& a, const Tensor& c, const Tensor& s, bool pooled) {
#ifdef STRIPES_HAVE_CUDA
  if (a.device() == Device::CUDA) return cuda_kernels::dimension_codes_forward_cuda(a, c, s, pooled);
#endif
  const int64_t dims = a.size(-1), rows = a.numel() / std::max<int64_t>(dims, 1), sines = c.size(-1) / dims;
  const RowOffsetTable a_rows = row_offset_table(a.shape(), a), c_rows = row_offset_table(a.shape(), c),
                       s_rows = row_offset_table(a.shape(), s);
  Shape out_shape = a.shape();
  out_shape.back() = pooled ? 2 * sines : 2 * dims * sines;
  Tensor y = Tensor::empty(out_shape, a.dtype());
  dispatch_floating(a.dtype(), "dimension_codes", [&]<typename T>() {
    const T* pa = a.data<T>();
    const T* pc = c.data<T>();
    const T* ps = s.data<T>();
    T* py = y.mutable_data<T>();
    parallel_for(rows, grain_for(3 * dims * sines), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* ar = pa + a_rows.of(r);
        const T* cr = pc + c_rows.of(r);
        const T* sr = ps + s_rows.of(r);
        if (pooled) {
          T* yr = py + r * 2 * sines;
          for (int64_t k = 0; k < sines; ++k) {
            double cos_sum = 0, sin_sum = 0;  // in double, as the composed form's sum
            for (int64_t d = 0; d < dims; ++d) {
              cos_sum += double(ar[d] * cr[d * sines + k]);  // Σ_d a_d c_dk
              sin_sum += double(ar[d] * sr[d * sines + k]);  // Σ_d a_d s_dk
            }
            yr[2 * k] = T(cos_sum);
            yr[2 * k + 1] = T(sin_sum);
          }
        } else {
          T* yr = py + r * 2 * dims * sines;
          for (int64_t dk = 0; dk < dims * sines; ++dk) {
            const T ad = ar[dk / sines];
            yr[2 * dk] = ad * cr[dk];
            yr[2 * dk + 1] = ad * sr[dk];
          }
        }
      }
    });
  });
  return y;
}

// ∂c and ∂s are written at a's leading shape, then summed down to the tables' (broadcast) shape by
// the gradient targets. a is undefined when no table gradient is wanted, c and s when no ∂a is.
void dimension_codes_backward(ag::GradTarget grad_a, ag::GradTarget grad_c, ag::GradTarget grad_s,
                              const Tensor& grad_y_in, const Shape& a_shape, int64_t sines, const Tensor& a,
                              const Tensor& c, const Tensor& s, bool pooled) {
  const Tensor grad_y = grad_y_in.contiguous();
  const int64_t dims = a_shape.back(), rows = shape_numel(a_shape) / std::max<int64_t>(dims, 1);
  const bool want_a = grad_a.defined(), want_tables = grad_c.defined() || grad_s.defined();
  const Device device = grad_y.device();
  Shape table_shape = a_shape;
  table_shape.back() = dims * sines;
  Tensor da = want_a ? Tensor::empty(a_shape, grad_y.dtype(), device) : Tensor();
  Tensor dc = grad_c.defined() ? Tensor::empty(table_shape, grad_y.dtype(), device) : Tensor();
  Tensor ds = grad_s.defined() ? Tensor::empty(table_shape, grad_y.dtype(), device) : Tensor();
#ifdef STRIPES_HAVE_CUDA
  if (device == Device::CUDA) cuda_kernels::dimension_codes_backward_cuda(da, dc, ds, grad_y, a_shape, a, c, s, pooled);
#endif
  if (device == Device::CPU) {
    const RowOffsetTable a_rows = want_tables ? row_offset_table(a_shape, a) : RowOffsetTable{},
                     c_rows = want_a ? row_offset_table(a_shape, c) : RowOffsetTable{},
                     s_rows = want_a ? row_offset_table(a_shape, s) : RowOffsetTable{};
    dispatch_floating(grad_y.dtype(), "dimension_codes backward", [&]<typename T>() {
      const T* pg = grad_y.data<T>();
      const T* pa = want_tables ? a.data<T>() : nullptr;
      const T* pc = want_a ? c.data<T>() : nullptr;
      const T* ps = want_a ? s.data<T>() : nullptr;
      T* pda = da.defined() ? da.mutable_data<T>() : nullptr;
      T* pdc = dc.defined() ? dc.mutable_data<T>() : nullptr;
      T* pds = ds.defined() ? ds.mutable_data<T>() : nullptr;
      parallel_for(rows, grain_for(4 * dims * sines), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const T* ar = pa ? pa + a_rows.of(r) : nullptr;  // each row located once
          const T* cr = pc ? pc + c_rows.of(r) : nullptr;
          const T* sr = ps ? ps + s_rows.of(r) : nullptr;
          for (int64_t d = 0; d < dims; ++d) {
            const T* gr = pg + (pooled ? r * 2 * sines : (r * dims + d) * 2 * sines);  // (g_c, g_s) over k
            const T ad = ar ? ar[d] : T(0);
            T grad_a = 0;
            for (int64_t k = 0; k < sines; ++k) {
              const T g_cos = gr[2 * k], g_sin = gr[2 * k + 1];
              const int64_t dk = d * sines + k;
              if (pda) grad_a += g_cos * cr[dk] + g_sin * sr[dk];
              if (pdc) pdc[r * dims * sines + dk] = g_cos * ad;
              if (pds) pds[r * dims * sines + dk] = g_sin * ad;
            }
            if (pda) pda[r * dims + d] = grad_a;
          }
        }
      });
    });
  }
  if (da.defined()) grad_a += std::move(da);
  if (dc.defined()) grad_c += std::move(dc);
  if (ds.defined()) grad_s += std::move(ds);
}

}  // namespace

ag::Var dimension_codes(const ag::Var& a, const ag::Var& cos_phases, const ag::Var& sin_phases, bool pooled) {
  const Tensor& av = a.value();
  const Tensor& cv = cos_phases.value();
  const Tensor& sv = sin_phases.value();
  const int64_t dims = av.size(-1);
  STRIPES_CHECK(dims > 0 && cv.shape() == sv.shape() && cv.size(-1) > 0 && cv.size(-1) % dims == 0,
                "dimension_codes: cos {} and sin {} of the phases must have the same shape, a positive multiple of "
                "a's {} dimensions (D·K) in the last axis",
                cv.description(), sv.description(), dims);
  const int64_t sines = cv.size(-1) / dims;
  Shape table_shape = av.shape();
  table_shape.back() = dims * sines;
  if (!table_op_fusable("dimension_codes", av, cv, sv, table_shape)) {
    return dimension_codes_composed(a, cos_phases, sin_phases, pooled);
  }
  return make_table_op("dimension_codes", dimension_codes_forward(av, cv, sv, pooled), a, cos_phases, sin_phases,
                       [sines, pooled](ag::GradTarget ga, ag::GradTarget gc, ag::GradTarget gs, const Tensor& grad_y,
                                       const Shape& a_shape, const Tensor& a_saved, const Tensor& c, const Tensor& s) {
                         dimension_codes_backward(ga, gc, gs, grad_y, a_shape, sines, a_saved, c, s, pooled);
                       });
}

}  // namespace stripes::attention
