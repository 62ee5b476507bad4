// F-StrIPE₁ (method.md §2.5 item 4; eq. 15 and eq. 20 of the paper): learnable frequencies, N_f = 1,
// no gains, no phases.
//
//   h(a_d, p) = [a_d cos(f_d p), a_d sin(f_d p)]                      per dimension d, per head
//   unpooled: U(a) = h(a_1) ⊕ … ⊕ h(a_D)  (dim 2D)   U(q_m)·U(k_n) = Σ_d q_md k_nd cos(f_d(p_m − p_n))  exactly
//   pooled:   C(a) = Σ_d h(a_d)            (dim 2)    C(q_m)·C(k_n) = Σ_{d,d'} q_md k_nd' cos(f_d p_m − f_d' p_n)
//
// The paper pools (eqs. 19-20: "dim into φ = 2" on the literal reading, our default) and argues the
// cross terms d ≠ d' vanish ("cross-dimension independence", proof not published). The unpooled
// form computes eq. 15 exactly; both are selectable (fstripe1_pooled).
#include "attention/positional_encoding.hpp"

#include "attention/cuda/fstripe1.hpp"
#include "attention/pe/row_offsets.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/parallel.hpp"

namespace stripes::attention {

// ---- fstripe1_features ---------------------------------------------------------------------------
// h(a_d) = [a_d c_d, a_d s_d];  unpooled y = h(a_0) ⊕ … ⊕ h(a_{D−1}) [..., 2D],  pooled y = Σ_d h(a_d) [..., 2]
//   a: [..., D]   c = cos α, s = sin α: [..., D], broadcast over a's leading dims
// The composed form: the reference for the fused op below, tested against it.
ag::Var fstripe1_features_composed(const ag::Var& a, const ag::Var& c, const ag::Var& s, bool pooled) {
  const ag::Var a_cos = a * c, a_sin = a * s;  // [..., D] each
  if (pooled) return ag::concat({ag::sum(a_cos, {-1}, true), ag::sum(a_sin, {-1}, true)}, -1);  // [..., 2]
  Shape shape = a.shape();
  shape.back() = 2 * a.size(-1);
  return ag::reshape(ag::concat({ag::unsqueeze(a_cos, -1), ag::unsqueeze(a_sin, -1)}, -1), shape);  // [..., 2D]
}

namespace {

// One pass over a's rows (CPU), or the GPU kernel.
Tensor fstripe1_features_forward(const Tensor& a, const Tensor& c, const Tensor& s, bool pooled) {
#ifdef STRIPES_HAVE_CUDA
  if (a.device() == Device::CUDA) return cuda_kernels::fstripe1_features_forward_cuda(a, c, s, pooled);
#endif
  const int64_t dims = a.size(-1), rows = a.numel() / std::max<int64_t>(dims, 1);
  const RowOffsets a_rows = row_offsets(a.shape(), a), c_rows = row_offsets(a.shape(), c), s_rows = row_offsets(a.shape(), s);
  Shape out_shape = a.shape();
  out_shape.back() = pooled ? 2 : 2 * dims;
  Tensor y = Tensor::empty(out_shape, a.dtype());
  dispatch_floating(a.dtype(), "fstripe1_features", [&]<typename T>() {
    const T* pa = a.data<T>();
    const T* pc = c.data<T>();
    const T* ps = s.data<T>();
    T* py = y.mutable_data<T>();
    parallel_for(rows, grain_for(3 * dims), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* ar = pa + a_rows.of(r);
        const T* cr = pc + c_rows.of(r);
        const T* sr = ps + s_rows.of(r);
        if (pooled) {
          double cos_sum = 0, sin_sum = 0;  // in double, as the composed form's sum
          for (int64_t d = 0; d < dims; ++d) {
            cos_sum += double(ar[d] * cr[d]);  // Σ_d a_d c_d
            sin_sum += double(ar[d] * sr[d]);  // Σ_d a_d s_d
          }
          py[2 * r] = T(cos_sum);
          py[2 * r + 1] = T(sin_sum);
        } else {
          T* yr = py + r * 2 * dims;
          for (int64_t d = 0; d < dims; ++d) {
            yr[2 * d] = ar[d] * cr[d];
            yr[2 * d + 1] = ar[d] * sr[d];
          }
        }
      }
    });
  });
  return y;
}

// With (g_c, g_s) the gradients of (y_2d, y_2d+1) (pooled: of (y_0, y_1), for every d):
//   ∂a_d = g_c c_d + g_s s_d,   ∂c_d = g_c a_d,   ∂s_d = g_s a_d
// ∂c and ∂s are written at a's leading shape, then summed down to the tables' (broadcast) shape by
// the gradient targets. a is undefined when no table gradient is wanted, c and s when no ∂a is.
void fstripe1_features_backward(ag::GradTarget grad_a, ag::GradTarget grad_c, ag::GradTarget grad_s,
                                const Tensor& grad_y_in, const Shape& a_shape, const Tensor& a, const Tensor& c,
                                const Tensor& s, bool pooled) {
  const Tensor grad_y = grad_y_in.contiguous();
  const int64_t dims = a_shape.back(), rows = shape_numel(a_shape) / std::max<int64_t>(dims, 1);
  const bool want_a = grad_a.defined(), want_tables = grad_c.defined() || grad_s.defined();
  const Device device = grad_y.device();
  Tensor da = want_a ? Tensor::empty(a_shape, grad_y.dtype(), device) : Tensor();
  Tensor dc = grad_c.defined() ? Tensor::empty(a_shape, grad_y.dtype(), device) : Tensor();
  Tensor ds = grad_s.defined() ? Tensor::empty(a_shape, grad_y.dtype(), device) : Tensor();
#ifdef STRIPES_HAVE_CUDA
  if (device == Device::CUDA) cuda_kernels::fstripe1_features_backward_cuda(da, dc, ds, grad_y, a_shape, a, c, s, pooled);
#endif
  if (device == Device::CPU) {
    const RowOffsets a_rows = want_tables ? row_offsets(a_shape, a) : RowOffsets{},
                     c_rows = want_a ? row_offsets(a_shape, c) : RowOffsets{},
                     s_rows = want_a ? row_offsets(a_shape, s) : RowOffsets{};
    dispatch_floating(grad_y.dtype(), "fstripe1_features backward", [&]<typename T>() {
      const T* pg = grad_y.data<T>();
      const T* pa = want_tables ? a.data<T>() : nullptr;
      const T* pc = want_a ? c.data<T>() : nullptr;
      const T* ps = want_a ? s.data<T>() : nullptr;
      T* pda = da.defined() ? da.mutable_data<T>() : nullptr;
      T* pdc = dc.defined() ? dc.mutable_data<T>() : nullptr;
      T* pds = ds.defined() ? ds.mutable_data<T>() : nullptr;
      parallel_for(rows, grain_for(4 * dims), [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const T* gr = pg + r * (pooled ? 2 : 2 * dims);
          for (int64_t d = 0; d < dims; ++d) {
            const T g_cos = pooled ? gr[0] : gr[2 * d], g_sin = pooled ? gr[1] : gr[2 * d + 1];
            if (pda) pda[r * dims + d] = g_cos * pc[c_rows.of(r) + d] + g_sin * ps[s_rows.of(r) + d];
            if (pdc) pdc[r * dims + d] = g_cos * pa[a_rows.of(r) + d];
            if (pds) pds[r * dims + d] = g_sin * pa[a_rows.of(r) + d];
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

ag::Var fstripe1_features(const ag::Var& a, const ag::Var& cos_angles, const ag::Var& sin_angles, bool pooled) {
  const Tensor& av = a.value();
  const Tensor& cv = cos_angles.value();
  const Tensor& sv = sin_angles.value();
  STRIPES_CHECK(cv.shape() == sv.shape() && cv.size(-1) == av.size(-1),
                "fstripe1_features: cos {} and sin {} of the angles must have the same shape, {} entries (one per "
                "dimension) in the last axis",
                cv.description(), sv.description(), av.size(-1));
  const bool kernel_device = av.device() == Device::CPU || (cuda::kBuiltWithCuda && av.device() == Device::CUDA);
  const bool fusable = kernel_device && cv.device() == av.device() && sv.device() == av.device() &&
                       last_axis_contiguous(av) && last_axis_contiguous(cv) && last_axis_contiguous(sv) &&
                       cv.dtype() == av.dtype() && sv.dtype() == av.dtype() &&
                       broadcast_shapes("fstripe1_features", cv.shape(), av.shape()) == av.shape();
  if (!fusable) return fstripe1_features_composed(a, cos_angles, sin_angles, pooled);
  const bool keep_a = cos_angles.requires_grad() || sin_angles.requires_grad();
  const bool keep_tables = a.requires_grad();
  ag::SavedTensor saved_a = keep_a ? ag::SavedTensor(av, "fstripe1_features", "a") : ag::SavedTensor();
  ag::SavedTensor saved_c = keep_tables ? ag::SavedTensor(cv, "fstripe1_features", "cos") : ag::SavedTensor();
  ag::SavedTensor saved_s = keep_tables ? ag::SavedTensor(sv, "fstripe1_features", "sin") : ag::SavedTensor();
  const Shape a_shape = av.shape();
  return ag::make_result(
      "fstripe1_features", fstripe1_features_forward(av, cv, sv, pooled), {a, cos_angles, sin_angles},
      [=](ag::BackwardContext& ctx) {
        fstripe1_features_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.grad_target(2), ctx.grad_output(), a_shape,
                                   keep_a ? saved_a.get() : Tensor(), keep_tables ? saved_c.get() : Tensor(),
                                   keep_tables ? saved_s.get() : Tensor(), pooled);
      });
}

namespace {

class FStripe1Encoding : public PositionalEncoding {
 public:
  explicit FStripe1Encoding(const PositionalEncodingConfig& config) : config_(config) {
    // One learnable frequency per dimension per head (different across heads, like RoPE(C)),
    // initialised with RoPE(B)'s per-head spectrum spread over the D dimensions.
    const Tensor init = rope_frequencies(config.heads, config.head_dim, config.position_dim, true, config.dtype);
    frequencies_ = register_parameter("frequencies", init);  // [H, D, L]
  }

  std::string_view pe_name() const override { return "fstripe1"; }
  KernelProperties kernel_properties() const override {
    // The kernel the paper derives (eq. 15) is pd and stationary; the pooled features add cross terms.
    return {.positive_definite = true, .lag_only = true, .stochastic = false, .uses_positions = true};
  }
  int64_t feature_dim() const override { return config_.fstripe1_pooled ? 2 : 2 * config_.head_dim; }
  std::string describe() const override {
    return fmt::format("fstripe1(heads {}, D {}, L {}, {})", config_.heads, config_.head_dim, config_.position_dim,
                       config_.fstripe1_pooled ? "pooled" : "unpooled");
  }

  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor& positions) override {
    const Tensor p = normalized_positions(positions, q.size(-2), q.dtype(), q.value().device(), config_.position_dim);
    const ag::Var angles = position_angles(p, frequencies_);  // f_dᵀ p   [B|1, H, T, D]
    record("angles", angles, "matmul", "per-dimension angles f_dᵀ p [B, H, T, D]");
    const ag::Var c = ag::cos(angles), s = ag::sin(angles);
    Encoded out{fstripe1_features(q, c, s, config_.fstripe1_pooled), fstripe1_features(k, c, s, config_.fstripe1_pooled)};
    record("encoded_query", out.query, "fstripe1", "F-StrIPE₁ features of the queries");
    record("encoded_key", out.key, "fstripe1", "F-StrIPE₁ features of the keys");
    return out;
  }

 private:
  PositionalEncodingConfig config_;
  ag::Var frequencies_;
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_fstripe1_encoding(const PositionalEncodingConfig& config) {
  return std::make_shared<FStripe1Encoding>(config);
}

}  // namespace stripes::attention
