// Rotation-based PEs: RoPE (A, B, C) and RoPEPool (method.md §2.2, §2.6).
#include "attention/positional_encoding.hpp"

#include "attention/cuda/rotate_pairs.hpp"
#include "attention/pe/table_ops.hpp"

#include "tensor/device_copy.hpp"
#include "tensor/parallel.hpp"
#include "tensor/strided_loop.hpp"

#include <cmath>

namespace stripes::attention {

// angles = p fᵀ per head:  [B|1, 1, T, L] @ [H, L, J] -> [B|1, H, T, J]
ag::Var position_angles(const Tensor& positions, const ag::Var& frequencies) {
  STRIPES_CHECK(positions.dim() == 3 && frequencies.dim() == 3 && positions.size(-1) == frequencies.size(-1),
                "position_angles: positions {} and frequencies {} must be [B, T, L] and [H, J, L]",
                positions.description(), frequencies.value().description());
  return ag::matmul(ag::Var(positions.unsqueeze(1)), ag::transpose(frequencies, -1, -2));
}

// The composed form: slices, products and sums of tensor ops. The reference for the fused op below
// (tested against it), and the path for CUDA tensors.
ag::Var rotate_pairs_composed(const ag::Var& x, const ag::Var& c, const ag::Var& s, bool pooled) {
  const int64_t d = x.size(-1);
  const ag::Var first = ag::slice(x, -1, 0, d, 2);   // x_{2j}
  const ag::Var second = ag::slice(x, -1, 1, d, 2);  // x_{2j+1}
  const ag::Var rotated_first = first * c - second * s;
  const ag::Var rotated_second = second * c + first * s;
  if (pooled) return rotated_first + rotated_second;  // c_j = u1 + u2 (RoPEPool)
  Shape shape = rotated_first.shape();
  shape.back() = d;
  return ag::reshape(ag::stack({rotated_first, rotated_second}, -1), shape);
}

namespace {

// ---- rotate_pairs (fused CPU op) -------------------------------------------------------------------
// u1_j = x_2j c_j − x_2j+1 s_j,  u2_j = x_2j+1 c_j + x_2j s_j;   y = [u1_0, u2_0, u1_1, ...] or, pooled,
// y_j = u1_j + u2_j.      x: [..., D]   c = cos α, s = sin α: [..., D/2] (leading dims broadcast to x's)
// y: [..., D], pooled [..., D/2]. One pass over x, the same products and sums as the composed form
// (equal to rounding: the compiler may fuse a product and a sum into one FMA).


Tensor rotate_pairs_forward(const Tensor& x, const Tensor& c, const Tensor& s, bool pooled) {
#ifdef STRIPES_HAVE_CUDA
  if (x.device() == Device::CUDA) return cuda_kernels::rotate_pairs_forward_cuda(x, c, s, pooled);
#endif
  const int64_t d = x.size(-1), pairs = d / 2, rows = x.numel() / std::max<int64_t>(d, 1);
  const RowOffsetTable x_rows = row_offset_table(x.shape(), x), c_rows = row_offset_table(x.shape(), c),
                   s_rows = row_offset_table(x.shape(), s);
  Shape out_shape = x.shape();
  if (pooled) out_shape.back() = pairs;
  Tensor y = Tensor::empty(out_shape, x.dtype());
  dispatch_floating(x.dtype(), "rotate_pairs", [&]<typename T>() {
    const T* px = x.data<T>();
    const T* pc = c.data<T>();
    const T* ps = s.data<T>();
    T* py = y.mutable_data<T>();
    parallel_for(rows, grain_for(3 * d), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = px + x_rows.of(r);
        const T* cr = pc + c_rows.of(r);
        const T* sr = ps + s_rows.of(r);
        T* yr = py + r * (pooled ? pairs : d);
        for (int64_t j = 0; j < pairs; ++j) {
          const T u1 = xr[2 * j] * cr[j] - xr[2 * j + 1] * sr[j];
          const T u2 = xr[2 * j + 1] * cr[j] + xr[2 * j] * sr[j];
          if (pooled) {
            yr[j] = u1 + u2;
          } else {
            yr[2 * j] = u1;
            yr[2 * j + 1] = u2;
          }
        }
      }
    });
  });
  return y;
}

// With g1 = ∂L/∂u1, g2 = ∂L/∂u2 (pooled: g1 = g2 = ∂L/∂y_j):
//   ∂x_2j = g1 c + g2 s,   ∂x_2j+1 = g2 c − g1 s,   ∂c = g1 x_2j + g2 x_2j+1,   ∂s = g2 x_2j − g1 x_2j+1
// ∂c and ∂s are written at x's leading shape, then summed down to c's (broadcast) shape. x is
// undefined when no angle gradient is wanted, c and s when no ∂x is.
void rotate_pairs_backward(ag::GradTarget grad_x, ag::GradTarget grad_c, ag::GradTarget grad_s, const Tensor& grad_y_in,
                           const Shape& x_shape, const Tensor& x, const Tensor& c, const Tensor& s, bool pooled) {
  const Tensor grad_y = grad_y_in.contiguous();
  const int64_t d = x_shape.back(), pairs = d / 2, rows = shape_numel(x_shape) / std::max<int64_t>(d, 1);
  const bool want_x = grad_x.defined(), want_angles = grad_c.defined() || grad_s.defined();
  const RowOffsetTable x_rows = want_angles ? row_offset_table(x_shape, x) : RowOffsetTable{},
                   c_rows = want_x ? row_offset_table(x_shape, c) : RowOffsetTable{},
                   s_rows = want_x ? row_offset_table(x_shape, s) : RowOffsetTable{};
  Shape angle_shape = x_shape;
  angle_shape.back() = pairs;
  const Device device = grad_y.device();
  Tensor dx = grad_x.defined() ? Tensor::empty(x_shape, grad_y.dtype(), device) : Tensor();
  Tensor dc = grad_c.defined() ? Tensor::empty(angle_shape, grad_y.dtype(), device) : Tensor();
  Tensor ds = grad_s.defined() ? Tensor::empty(angle_shape, grad_y.dtype(), device) : Tensor();
#ifdef STRIPES_HAVE_CUDA
  if (device == Device::CUDA) cuda_kernels::rotate_pairs_backward_cuda(dx, dc, ds, grad_y, x_shape, x, c, s, pooled);
#endif
  if (device == Device::CPU) dispatch_floating(grad_y.dtype(), "rotate_pairs backward", [&]<typename T>() {
    const T* px = want_angles ? x.data<T>() : nullptr;
    const T* pc = want_x ? c.data<T>() : nullptr;
    const T* ps = want_x ? s.data<T>() : nullptr;
    const T* pg = grad_y.data<T>();
    T* pdx = dx.defined() ? dx.mutable_data<T>() : nullptr;
    T* pdc = dc.defined() ? dc.mutable_data<T>() : nullptr;
    T* pds = ds.defined() ? ds.mutable_data<T>() : nullptr;
    parallel_for(rows, grain_for(6 * d), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const T* gr = pg + r * (pooled ? pairs : d);
        if (pdx) {
          const T* cr = pc + c_rows.of(r);
          const T* sr = ps + s_rows.of(r);
          for (int64_t j = 0; j < pairs; ++j) {
            const T g1 = pooled ? gr[j] : gr[2 * j], g2 = pooled ? gr[j] : gr[2 * j + 1];
            pdx[r * d + 2 * j] = g1 * cr[j] + g2 * sr[j];
            pdx[r * d + 2 * j + 1] = g2 * cr[j] - g1 * sr[j];
          }
        }
        if (pdc || pds) {
          const T* xr = px + x_rows.of(r);
          for (int64_t j = 0; j < pairs; ++j) {
            const T g1 = pooled ? gr[j] : gr[2 * j], g2 = pooled ? gr[j] : gr[2 * j + 1];
            if (pdc) pdc[r * pairs + j] = g1 * xr[2 * j] + g2 * xr[2 * j + 1];
            if (pds) pds[r * pairs + j] = g2 * xr[2 * j] - g1 * xr[2 * j + 1];
          }
        }
      }
    });
  });
  if (dx.defined()) grad_x += std::move(dx);
  if (dc.defined()) grad_c += std::move(dc);
  if (ds.defined()) grad_s += std::move(ds);
}

}  // namespace

ag::Var rotate_pairs(const ag::Var& x, const ag::Var& cos_angles, const ag::Var& sin_angles, bool pooled) {
  const int64_t d = x.size(-1);
  STRIPES_CHECK(d % 2 == 0, "rotate_pairs: dimension {} of {} is odd; RoPE needs pairs", d, x.value().description());
  STRIPES_CHECK(cos_angles.shape() == sin_angles.shape() && cos_angles.size(-1) == d / 2,
                "rotate_pairs: cos {} and sin {} of the angles must have the same shape, {} entries (one per pair) "
                "in the last axis",
                cos_angles.value().description(), sin_angles.value().description(), d / 2);
  const Tensor& xv = x.value();
  const Tensor& cv = cos_angles.value();
  const Tensor& sv = sin_angles.value();
  Shape lead(xv.shape().begin(), xv.shape().end() - 1);
  lead.push_back(d / 2);
  // The fused kernels: the CPU loop, or with CUDA the GPU kernel (attention/cuda/rotate_pairs_kernels.cuh).
  if (!table_op_fusable("rotate_pairs", xv, cv, sv, lead)) return rotate_pairs_composed(x, cos_angles, sin_angles, pooled);
  return make_table_op("rotate_pairs", rotate_pairs_forward(xv, cv, sv, pooled), x, cos_angles, sin_angles,
                       [pooled](ag::GradTarget gx, ag::GradTarget gc, ag::GradTarget gs, const Tensor& grad_y,
                                const Shape& x_shape, const Tensor& x_saved, const Tensor& c, const Tensor& s) {
                         rotate_pairs_backward(gx, gc, gs, grad_y, x_shape, x_saved, c, s, pooled);
                       });
}

Tensor rope_frequencies(int64_t heads, int64_t pairs, int64_t position_dim, bool per_head, DType dtype) {
  Tensor f = Tensor::empty({heads, pairs, position_dim}, DType::Float64);
  double* p = f.mutable_data<double>();
  for (int64_t h = 0; h < heads; ++h) {
    const double base = per_head ? std::pow(10000.0, double(h + 1) / double(heads)) : 10000.0;
    for (int64_t j = 0; j < pairs; ++j)
      for (int64_t l = 0; l < position_dim; ++l) p[(h * pairs + j) * position_dim + l] = std::pow(base, -2.0 * double(j) / double(2 * pairs));
  }
  return f.to(dtype);
}

namespace {

// RoPE(A/B/C) and RoPEPool share everything but the variant of their frequencies and the pooling.
class RotaryEncoding : public PositionalEncoding {
 public:
  enum class Variant { A, B, C, Pool };

  RotaryEncoding(const PositionalEncodingConfig& config, Variant variant) : config_(config), variant_(variant) {
    STRIPES_CHECK(config.head_dim % 2 == 0, "{}: head dimension {} must be even", name_of(variant), config.head_dim);
    const Tensor init = rope_frequencies(config.heads, config.head_dim / 2, config.position_dim,
                                         variant != Variant::A, config.dtype);
    // RoPE(C) and RoPEPool learn one frequency per pair per head (and per position dimension).
    if (learned()) frequencies_ = register_parameter("frequencies", init);
    else frequencies_ = ag::Var(init);
  }

  std::string_view pe_name() const override { return name_of(variant_); }
  KernelProperties kernel_properties() const override {
    return {.positive_definite = false, .lag_only = variant_ != Variant::Pool, .stochastic = false, .uses_positions = true};
  }
  int64_t feature_dim() const override { return variant_ == Variant::Pool ? config_.head_dim / 2 : config_.head_dim; }
  std::string describe() const override {
    return fmt::format("{}(heads {}, D {}, L {})", pe_name(), config_.heads, config_.head_dim, config_.position_dim);
  }

  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor& positions) override {
    const Device device = q.value().device();
    const Tensor p = normalized_positions(positions, q.size(-2), q.dtype(), device, config_.position_dim);
    const ag::Var angles = position_angles(p, frequencies_on(device));  // α_j = f_jᵀ p   [B|1, H, T, D/2]
    record("angles", angles, "matmul", "rotation angles f_jᵀ p per pair [B, H, T, D/2]");
    const bool pooled = variant_ == Variant::Pool;
    const ag::Var c = ag::cos(angles), s = ag::sin(angles);  // once, for both q and k
    Encoded out{rotate_pairs(q, c, s, pooled), rotate_pairs(k, c, s, pooled)};
    record(pooled ? "pooled_query" : "rotated_query", out.query, "rotate_pairs",
           pooled ? "RoPEPool codes c_j(q) = u1 + u2 per pair [B, H, T, D/2]" : "RoPE-rotated queries [B, H, T, D]");
    record(pooled ? "pooled_key" : "rotated_key", out.key, "rotate_pairs",
           pooled ? "RoPEPool codes c_j(k) [B, H, T, D/2]" : "RoPE-rotated keys [B, H, T, D]");
    return out;
  }

 private:
  static std::string_view name_of(Variant v) {
    switch (v) {
      case Variant::A: return "rope-a";
      case Variant::B: return "rope-b";
      case Variant::C: return "rope-c";
      case Variant::Pool: return "ropepool";
    }
    return "?";
  }
  bool learned() const { return variant_ == Variant::C || variant_ == Variant::Pool; }

  // The frequencies on the queries' device. Learned ones (RoPE(C), RoPEPool) are parameters and
  // move with the module (Module::to); RoPE(A)/(B)'s fixed table is not a parameter, so it stays
  // on the host where it was computed and is used through one kept device copy.
  ag::Var frequencies_on(Device device) {
    if (learned()) return frequencies_;
    return ag::Var(fixed_frequencies_on_device_.get(frequencies_.value(), device));
  }

  PositionalEncodingConfig config_;
  Variant variant_;
  ag::Var frequencies_;                   // [H, D/2, L]
  CachedDeviceCopy fixed_frequencies_on_device_;  // RoPE(A)/(B): frequencies_ on a non-CPU device
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_rotary_encoding(const PositionalEncodingConfig& config) {
  using V = RotaryEncoding::Variant;
  const V variant = config.name == "rope-a" ? V::A : config.name == "rope-b" ? V::B : config.name == "rope-c" ? V::C : V::Pool;
  return std::make_shared<RotaryEncoding>(config, variant);
}

}  // namespace stripes::attention
