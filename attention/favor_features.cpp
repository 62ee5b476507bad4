// FAVOR+ features as one op (the function of favor_features_reference in feature_maps.cpp).
//
//   x: [..., T, d]   W: [d, h] (h = M/2)   φ: [..., T, M]      s = d^{-1/4},  u = s · x W   [..., T, h]
//   plain:       φ = [exp(u − hn), exp(−u − hn)],   hn = ½ s² ‖x‖² + ½ ln M
//   stabilized:  φ = [exp(u − c'), exp(−u − c')],   c' = max_j |u_j|
//     (the query shift c = max_j(±u_j) − hn of feature_maps.hpp: hn and ½ ln M cancel in u − hn − c)
//
// Backward, with g = ∂L/∂φ, a_j = g_j φ_j, b_j = g_{h+j} φ_{h+j}, σ = Σ_j (a_j + b_j):
//   plain:       ∂L/∂u_j = a_j − b_j,  ∂L/∂hn = −σ     ->  ∂L/∂x = s (a − b) Wᵀ − σ s² x
//   stabilized:  ∂L/∂u_j = a_j − b_j − σ [k = j] + σ [k = h + j]   (k: the argmax of [u, −u], so
//                c' = ±u_k: its gradient −σ goes to that one entry)  ->  ∂L/∂x = s (∂L/∂u) Wᵀ
//
// CPU kernel: rows in blocks of 128 within each sequence, blocks spread over the threads; per
// block one small GEMM (Eigen) into a thread-local [rows, h] buffer, then one pass writing the
// exponentials into φ. Saved for backward: φ, the argmax k per row (stabilized) or x (plain).
// GPU: u = x W and ∂L/∂(xW) Wᵀ on cuBLAS, the rest in one row kernel each way
// (attention/cuda/favor_features_kernels.cuh).
#include "attention/feature_maps.hpp"

#include "attention/cuda/favor_features.hpp"

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/eigen.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/parallel.hpp"

#include <algorithm>
#include <cmath>

namespace stripes::attention {

namespace {

constexpr int64_t kRowBlock = 128;


// Rows of a [..., T, d] view whose last dim has stride 1: the element offset of every sequence's
// row 0 and the (uniform) row stride within a sequence. Other layouts are copied first.
struct RowLayout {
  Tensor tensor;                 // the input, or a contiguous copy
  std::vector<int64_t> offsets;  // per sequence (product of the leading dims)
  int64_t steps = 0, width = 0, row_stride = 0;
};

RowLayout row_layout(const Tensor& x) {
  RowLayout layout;
  layout.tensor = x.dim() >= 2 && x.strides().back() == 1 ? x : x.contiguous();
  const Tensor& t = layout.tensor;
  layout.width = t.size(-1);
  layout.steps = t.dim() >= 2 ? t.size(-2) : 1;
  layout.row_stride = t.dim() >= 2 ? t.strides()[size_t(t.dim() - 2)] : layout.width;
  if (layout.steps == 1) layout.row_stride = layout.width;
  int64_t sequences = 1;
  for (int64_t d = 0; d + 2 < t.dim(); ++d) sequences *= t.size(d);
  layout.offsets.resize(size_t(sequences));
  for (int64_t i = 0; i < sequences; ++i) {
    int64_t rest = i, offset = 0;
    for (int64_t d = t.dim() - 3; d >= 0; --d) {
      const int64_t index = rest % t.size(d);
      rest /= t.size(d);
      offset += index * t.strides()[size_t(d)];
    }
    layout.offsets[size_t(i)] = offset;
  }
  return layout;
}

struct FavorShapes {
  int64_t d = 0, half = 0, m = 0;
  double scale = 0, log_half_m = 0;  // s = d^{-1/4}, ½ ln M
};

// positive_j = exp(s u_j − shift), negative_j = exp(−s u_j − shift), j < half: Eigen's vectorized
// exp (libm's is called one element at a time).
template <typename T>
void write_exponentials(T* positive, T* negative, const T* u, int64_t half, T s, T shift) {
  using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
  const Eigen::Map<const Array> ur(u, half);
  Eigen::Map<Array>(positive, half) = (ur * s - shift).exp();
  Eigen::Map<Array>(negative, half) = (ur * (-s) - shift).exp();
}

// φ and (stabilized) the argmax index per row.
template <typename T>
void favor_forward_kernel(T* phi, int64_t* argmax, const RowLayout& x, const Tensor& projection, const FavorShapes& f,
                          bool stabilize) {
  const T* px = x.tensor.data<T>();
  const ConstRows<T> w(projection.data<T>(), f.d, f.half);
  const int64_t sequences = int64_t(x.offsets.size()), blocks_per_sequence = (x.steps + kRowBlock - 1) / kRowBlock;
  const T s = T(f.scale), s2_half = T(0.5 * f.scale * f.scale), log_half_m = T(f.log_half_m);
  parallel_for(sequences * blocks_per_sequence, grain_for(kRowBlock * f.d * f.half * 2), [&](int64_t begin, int64_t end) {
    RowMatrix<T> u(kRowBlock, f.half);
    for (int64_t block = begin; block < end; ++block) {
      const int64_t seq = block / blocks_per_sequence, first = (block % blocks_per_sequence) * kRowBlock;
      const int64_t rows = std::min(kRowBlock, x.steps - first);
      const T* x_block = px + x.offsets[size_t(seq)] + first * x.row_stride;
      auto u_block = u.topRows(rows);
      u_block.noalias() = ConstStridedRows<T>(x_block, rows, f.d, Eigen::OuterStride<>(x.row_stride)) * w;  // x W
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t row = seq * x.steps + first + r;
        const T* ur = u.data() + r * f.half;
        T* out = phi + row * f.m;
        T shift;
        if (stabilize) {  // c' = max_j |s u_j|, k = its index in [u, −u]
          T best = -1;
          int64_t k = 0;
          for (int64_t j = 0; j < f.half; ++j) {
            const T value = std::abs(ur[j]);
            if (value > best) {
              best = value;
              k = ur[j] >= 0 ? j : f.half + j;
            }
          }
          argmax[row] = k;
          shift = s * best;
        } else {  // hn = ½ s² ‖x‖² + ½ ln M
          const T* xr = x_block + r * x.row_stride;
          T norm = 0;
          for (int64_t i = 0; i < f.d; ++i) norm += xr[i] * xr[i];
          shift = s2_half * norm + log_half_m;
        }
        write_exponentials(out, out + f.half, ur, f.half, s, shift);
      }
    }
  });
}

// grad_x += ∂L/∂x (see the header comment).
// x: the input's layout, read only when !stabilize.
template <typename T>
void favor_backward_kernel(T* grad_x, const T* grad_phi, const T* phi, const int64_t* argmax, const RowLayout* x,
                           int64_t sequences, int64_t steps, const Tensor& projection, const FavorShapes& f,
                           bool stabilize) {
  const ConstRows<T> w(projection.data<T>(), f.d, f.half);
  const int64_t blocks_per_sequence = (steps + kRowBlock - 1) / kRowBlock;
  const T s = T(f.scale), s2 = T(f.scale * f.scale);
  const T* px = stabilize ? nullptr : x->tensor.data<T>();
  parallel_for(sequences * blocks_per_sequence, grain_for(kRowBlock * f.d * f.half * 2), [&](int64_t begin, int64_t end) {
    RowMatrix<T> du(kRowBlock, f.half);
    std::vector<T> sigma(static_cast<size_t>(kRowBlock));
    for (int64_t block = begin; block < end; ++block) {
      const int64_t seq = block / blocks_per_sequence, first = (block % blocks_per_sequence) * kRowBlock;
      const int64_t rows = std::min(kRowBlock, steps - first);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t row = seq * steps + first + r;
        const T* g = grad_phi + row * f.m;
        const T* p = phi + row * f.m;
        T* dr = du.data() + r * f.half;
        T total = 0;
        for (int64_t j = 0; j < f.half; ++j) {
          const T a = g[j] * p[j], b = g[f.half + j] * p[f.half + j];
          dr[j] = s * (a - b);  // ∂L/∂(xW)_j = s (a_j − b_j)
          total += a + b;
        }
        if (stabilize) {  // the shift's gradient −σ on its argmax entry of [u, −u]
          const int64_t k = argmax[row];
          if (k < f.half) dr[k] -= s * total;
          else dr[k - f.half] += s * total;
        }
        sigma[size_t(r)] = total;
      }
      // ∂L/∂x += du Wᵀ   (rows of grad_x are contiguous: [..., T, d])
      Rows<T> gx(grad_x + (seq * steps + first) * f.d, rows, f.d);
      gx.noalias() += du.topRows(rows) * w.transpose();
      if (!stabilize) {  // − σ s² x
        const T* x_block = px + x->offsets[size_t(seq)] + first * x->row_stride;
        for (int64_t r = 0; r < rows; ++r) {
          const T c = -sigma[size_t(r)] * s2;
          const T* xr = x_block + r * x->row_stride;
          T* out = gx.data() + r * f.d;
          for (int64_t i = 0; i < f.d; ++i) out[i] += c * xr[i];
        }
      }
    }
  });
}

FavorShapes favor_shapes(int64_t d, const Tensor& projection) {
  FavorShapes f;
  f.d = d;
  f.half = projection.size(1);
  f.m = 2 * f.half;
  f.scale = std::pow(double(d), -0.25);
  f.log_half_m = 0.5 * std::log(double(f.m));
  return f;
}

#ifdef STRIPES_HAVE_CUDA
// The GPU form: the GEMMs on cuBLAS, the exponentials and the row reductions in one kernel each
// way. Saves φ and the argmax (stabilized) or x (plain), as the CPU op does.
ag::Var favor_features_cuda(const ag::Var& x, const Tensor& projection_anywhere, bool stabilize_query) {
  const int64_t d = x.size(-1);
  const Tensor w = projection_anywhere.to(Device::CUDA).contiguous();
  STRIPES_CHECK(w.dim() == 2 && w.size(0) == d, "favor_features: projection {} does not match inputs of dimension {}",
                w.description(), d);
  require_same_dtype("favor_features", x.value(), w);
  const FavorShapes f = favor_shapes(d, w);
  Shape out_shape = x.shape();
  out_shape.back() = f.m;
  const int64_t rows = x.numel() / std::max<int64_t>(d, 1);
  const Tensor u = matmul(x.value(), w);                                      // x W  [..., T, h]
  const Tensor x_rows = stabilize_query ? Tensor() : x.value().contiguous();  // plain: ‖x‖² and −σ s² x
  Tensor phi = Tensor::empty(out_shape, x.dtype(), Device::CUDA);
  Tensor argmax = stabilize_query ? Tensor::empty({rows}, DType::Int64, Device::CUDA) : Tensor();
  cuda_kernels::favor_exponentials_cuda(phi, argmax, u, x_rows, f.scale, f.log_half_m, stabilize_query);
  ag::SavedTensor saved_phi(phi, "favor_features", "phi");
  ag::SavedTensor saved_x = stabilize_query ? ag::SavedTensor() : ag::SavedTensor(x_rows, "favor_features", "x");
  return ag::make_result(
      "favor_features", phi, {x}, [saved_phi, saved_x, argmax, w, f, stabilize_query](ag::BackwardContext& ctx) {
        Tensor& grad_x = ctx.grad_input(0);
        if (!grad_x.defined() || grad_x.numel() == 0) return;
        const Tensor grad_phi = ctx.grad_output().contiguous();
        const Tensor& phi_value = saved_phi.get();
        Shape u_shape = grad_x.shape(), sigma_shape = grad_x.shape();
        u_shape.back() = f.half;
        sigma_shape.back() = 1;
        Tensor grad_u = Tensor::empty(u_shape, grad_phi.dtype(), Device::CUDA);
        Tensor sigma = stabilize_query ? Tensor() : Tensor::empty(sigma_shape, grad_phi.dtype(), Device::CUDA);
        cuda_kernels::favor_backward_rows_cuda(grad_u, sigma, grad_phi, phi_value, argmax, f.scale, stabilize_query);
        grad_x.add_(matmul(grad_u, w.transpose(0, 1)));                          // ∂L/∂(xW) Wᵀ
        if (!stabilize_query) grad_x.add_(saved_x.get() * (sigma * (-f.scale * f.scale)));  // − σ s² x
      });
}
#endif

}  // namespace

ag::Var favor_features(const ag::Var& x, const Tensor& projection_anywhere, bool stabilize_query) {
#ifdef STRIPES_HAVE_CUDA
  if (x.value().device() == Device::CUDA && cuda::fused_kernels_enabled()) {
    return favor_features_cuda(x, projection_anywhere, stabilize_query);
  }
#endif
  if (x.value().device() != Device::CPU) return favor_features_reference(x, projection_anywhere, stabilize_query);
  const Tensor projection = projection_anywhere.to(Device::CPU);  // the kernel reads W through a host pointer
  const int64_t d = x.size(-1);
  STRIPES_CHECK(projection.dim() == 2 && projection.size(0) == d,
                "favor_features: projection {} does not match inputs of dimension {}", projection.description(), d);
  require_same_dtype("favor_features", x.value(), projection);
  const FavorShapes f = favor_shapes(d, projection);
  const Tensor w = projection.contiguous();
  const RowLayout layout = row_layout(x.value());
  Shape out_shape = x.shape();
  out_shape.back() = f.m;
  Tensor phi = Tensor::empty(out_shape, x.dtype());
  const int64_t rows = x.numel() / std::max<int64_t>(d, 1);
  const int64_t steps = layout.steps, sequences = int64_t(layout.offsets.size());
  Tensor argmax = stabilize_query ? Tensor::empty({rows}, DType::Int64) : Tensor();
  if (rows > 0) {
    dispatch_floating(x.dtype(), "favor_features", [&]<typename T>() {
      favor_forward_kernel<T>(phi.mutable_data<T>(), stabilize_query ? argmax.mutable_data<int64_t>() : nullptr, layout, w,
                              f, stabilize_query);
    });
  }
  ag::SavedTensor saved_phi(phi, "favor_features", "phi");
  ag::SavedTensor saved_x = stabilize_query ? ag::SavedTensor() : ag::SavedTensor(x.value(), "favor_features", "x");
  return ag::make_result(
      "favor_features", phi, {x},
      [saved_phi, saved_x, argmax, w, f, stabilize_query, sequences, steps](ag::BackwardContext& ctx) {
        Tensor& grad_x = ctx.grad_input(0);
        if (!grad_x.defined() || grad_x.numel() == 0) return;
        const Tensor grad_phi = ctx.grad_output().contiguous();
        const Tensor& phi_value = saved_phi.get();
        const RowLayout x_layout = stabilize_query ? RowLayout() : row_layout(saved_x.get());
        // grad_x is a fresh contiguous buffer from the context; otherwise go through a temporary
        Tensor target = grad_x.is_contiguous() ? grad_x : Tensor::zeros(grad_x.shape(), grad_x.dtype());
        dispatch_floating(grad_x.dtype(), "favor_features", [&]<typename T>() {
          favor_backward_kernel<T>(target.mutable_data<T>(), grad_phi.data<T>(), phi_value.data<T>(),
                                   stabilize_query ? argmax.data<int64_t>() : nullptr, &x_layout, sequences, steps, w, f,
                                   stabilize_query);
        });
        if (!target.shares_storage_with(grad_x)) grad_x.add_(target);
      });
}

}  // namespace stripes::attention
