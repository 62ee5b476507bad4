// Layer normalisation over the last axis (Ba, Kiros & Hinton 2016).
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "tensor/parallel.hpp"
#ifdef STRIPES_HAVE_CUDA
#include "autograd/ops/cuda/fused_row_ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#endif

#include <cmath>
#include <vector>

namespace stripes::ag {

// ---- layer_norm ----------------------------------------------------------------------------------
// μ = mean_c x_c,  σ² = mean_c (x_c - μ)²,  r = 1/√(σ² + ε),  x̂ = (x - μ) r,  y = x̂ ⊙ w + b
// x, y, x̂: [..., C]   w, b: [C]   μ, r: [..., 1]
struct LayerNormSaved {
  Tensor normalized;          // x̂  [..., C]
  Tensor reciprocal_std;      // r  [..., 1]
};
// The composed form: the equations above as tensor ops, one pass each. It is the reference the
// fused kernels below are tested against, and it serves what they do not (non-contiguous operands).
static Tensor layer_norm_forward_composed(LayerNormSaved& saved, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                          double eps) {
  const Tensor centered = x - mean(x, {-1}, true);
  saved.reciprocal_std = pow(mean(centered * centered, {-1}, true) + eps, -0.5);
  saved.normalized = centered * saved.reciprocal_std;
  return saved.normalized * weight + bias;
}
// ∂L/∂b = Σ ∂L/∂y,  ∂L/∂w = Σ ∂L/∂y ⊙ x̂   (sums over all leading positions)
// ∂L/∂x = r (g - mean_c g - x̂ mean_c(g ⊙ x̂))   with g = ∂L/∂y ⊙ w
static void layer_norm_backward_composed(GradTarget grad_x, GradTarget grad_weight, GradTarget grad_bias,
                                         const Tensor& grad_y, const LayerNormSaved& saved, const Tensor& weight) {
  grad_bias += grad_y;
  if (grad_weight.defined()) grad_weight += grad_y * saved.normalized;
  if (grad_x.defined()) {
    const Tensor g = grad_y * weight;
    const Tensor& x_hat = saved.normalized;
    grad_x += saved.reciprocal_std * (g - mean(g, {-1}, true) - x_hat * mean(g * x_hat, {-1}, true));
  }
}

// The fused CPU kernels: the same equations, one row of C channels at a time, so x is read once and
// y, x̂ and r written once (the composed form makes ~9 passes forward, ~12 backward). Row
// statistics are summed in double. ∂w and ∂b are sums over rows: per block of kRowsPerBlock rows
// a partial sum, then the blocks in order, so the result does not depend on the thread count.
constexpr int64_t kRowsPerBlock = 64;

// On the GPU (a build with CUDA) the same kernels run as autograd/ops/cuda/layer_norm_kernels.cuh:
// one block per row, ∂w and ∂b through per-block partial sums in the same order.
static bool fused_kernels_run_on(Device device) {
#ifdef STRIPES_HAVE_CUDA
  if (device == Device::CUDA) return cuda::fused_kernels_enabled();
#endif
  return device == Device::CPU;
}
static bool layer_norm_fusable(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return fused_kernels_run_on(x.device()) && weight.device() == x.device() && bias.device() == x.device() &&
         x.is_contiguous() && weight.is_contiguous() && bias.is_contiguous() && weight.dtype() == x.dtype() &&
         bias.dtype() == x.dtype();
}
static bool layer_norm_backward_fusable(const Tensor& grad_y, const LayerNormSaved& saved, const Tensor& weight) {
  return fused_kernels_run_on(grad_y.device()) && saved.normalized.device() == grad_y.device() &&
         weight.device() == grad_y.device() && saved.normalized.is_contiguous() && weight.is_contiguous() &&
         saved.normalized.dtype() == grad_y.dtype() && weight.dtype() == grad_y.dtype();
}

static Tensor layer_norm_forward_fused(LayerNormSaved& saved, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                       double eps) {
  const int64_t channels = x.size(-1), rows = x.numel() / std::max<int64_t>(channels, 1);
  Shape stat_shape = x.shape();
  stat_shape.back() = 1;
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  saved.normalized = Tensor::empty(x.shape(), x.dtype());
  saved.reciprocal_std = Tensor::empty(stat_shape, x.dtype());
  dispatch_floating(x.dtype(), "layer_norm", [&]<typename T>() {
    const T* in = x.data<T>();
    const T* w = weight.data<T>();
    const T* b = bias.data<T>();
    T* out = y.mutable_data<T>();
    T* x_hat = saved.normalized.mutable_data<T>();
    T* r = saved.reciprocal_std.mutable_data<T>();
    parallel_for(rows, grain_for(4 * channels), [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        const T* xr = in + row * channels;
        double sum = 0.0;
        for (int64_t c = 0; c < channels; ++c) sum += double(xr[c]);
        const T mu = T(sum / double(channels));               // μ
        double squares = 0.0;
        for (int64_t c = 0; c < channels; ++c) squares += double((xr[c] - mu) * (xr[c] - mu));
        const T rstd = T(1.0 / std::sqrt(squares / double(channels) + eps));  // r = 1/√(σ² + ε)
        r[row] = rstd;
        T* hr = x_hat + row * channels;
        T* yr = out + row * channels;
        for (int64_t c = 0; c < channels; ++c) {
          hr[c] = (xr[c] - mu) * rstd;                        // x̂ = (x - μ) r
          yr[c] = hr[c] * w[c] + b[c];                        // y = x̂ ⊙ w + b
        }
      }
    });
  });
  return y;
}

static void layer_norm_backward_fused(GradTarget grad_x, GradTarget grad_weight, GradTarget grad_bias, const Tensor& grad_y_in,
                                      const LayerNormSaved& saved, const Tensor& weight) {
  const Tensor grad_y = grad_y_in.contiguous();
  const int64_t channels = grad_y.size(-1), rows = grad_y.numel() / std::max<int64_t>(channels, 1);
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  const bool want_x = grad_x.defined(), want_w = grad_weight.defined(), want_b = grad_bias.defined();
  Tensor dx = want_x ? Tensor::empty(grad_y.shape(), grad_y.dtype()) : Tensor();
  // per block of rows: [Σ ∂L/∂y ⊙ x̂, Σ ∂L/∂y], in double
  std::vector<double> block_sums(size_t((want_w || want_b) ? blocks * 2 * channels : 0), 0.0);
  dispatch_floating(grad_y.dtype(), "layer_norm backward", [&]<typename T>() {
    const T* gy = grad_y.data<T>();
    const T* x_hat = saved.normalized.data<T>();
    const T* r = saved.reciprocal_std.data<T>();
    const T* w = weight.data<T>();
    T* out = want_x ? dx.mutable_data<T>() : nullptr;
    parallel_for(blocks, grain_for(6 * kRowsPerBlock * channels), [&](int64_t block_begin, int64_t block_end) {
      for (int64_t block = block_begin; block < block_end; ++block) {
        double* sum_gy_xhat = block_sums.empty() ? nullptr : block_sums.data() + block * 2 * channels;
        double* sum_gy = sum_gy_xhat ? sum_gy_xhat + channels : nullptr;
        for (int64_t row = block * kRowsPerBlock; row < std::min(rows, (block + 1) * kRowsPerBlock); ++row) {
          const T* g_row = gy + row * channels;
          const T* h_row = x_hat + row * channels;
          if (sum_gy_xhat) {
            for (int64_t c = 0; c < channels; ++c) {
              sum_gy_xhat[c] += double(g_row[c] * h_row[c]);
              sum_gy[c] += double(g_row[c]);
            }
          }
          if (!out) continue;
          double mean_g = 0.0, mean_g_xhat = 0.0;             // mean_c g, mean_c g ⊙ x̂ with g = ∂L/∂y ⊙ w
          for (int64_t c = 0; c < channels; ++c) {
            const T g = g_row[c] * w[c];
            mean_g += double(g);
            mean_g_xhat += double(g * h_row[c]);
          }
          const T a = T(mean_g / double(channels)), bxh = T(mean_g_xhat / double(channels));
          T* o = out + row * channels;
          for (int64_t c = 0; c < channels; ++c) o[c] = r[row] * (g_row[c] * w[c] - a - h_row[c] * bxh);
        }
      }
    });
    if (want_w || want_b) {
      Tensor dw = Tensor::zeros({channels}, grad_y.dtype()), db = Tensor::zeros({channels}, grad_y.dtype());
      T* pw = dw.mutable_data<T>();
      T* pb = db.mutable_data<T>();
      for (int64_t c = 0; c < channels; ++c) {
        double sw = 0.0, sb = 0.0;
        for (int64_t block = 0; block < blocks; ++block) {
          sw += block_sums[size_t(block * 2 * channels + c)];
          sb += block_sums[size_t(block * 2 * channels + channels + c)];
        }
        pw[c] = T(sw);
        pb[c] = T(sb);
      }
      grad_weight += std::move(dw);
      grad_bias += std::move(db);
    }
  });
  if (want_x) grad_x += std::move(dx);
}

static Tensor layer_norm_forward(LayerNormSaved& saved, const Tensor& x, const Tensor& weight, const Tensor& bias,
                                 double eps) {
  const int64_t channels = x.size(-1);
  STRIPES_CHECK(weight.shape() == Shape{channels} && bias.shape() == Shape{channels},
                "layer_norm: input {} needs weight and bias of shape [{}], got {} and {}", x.description(), channels,
                weight.description(), bias.description());
  if (!layer_norm_fusable(x, weight, bias)) return layer_norm_forward_composed(saved, x, weight, bias, eps);
#ifdef STRIPES_HAVE_CUDA
  if (x.device() == Device::CUDA) {
    return cuda_kernels::layer_norm_forward_cuda(saved.normalized, saved.reciprocal_std, x, weight, bias, eps);
  }
#endif
  return layer_norm_forward_fused(saved, x, weight, bias, eps);
}
static void layer_norm_backward(GradTarget grad_x, GradTarget grad_weight, GradTarget grad_bias, const Tensor& grad_y,
                                const LayerNormSaved& saved, const Tensor& weight) {
  if (!layer_norm_backward_fusable(grad_y, saved, weight)) {
    layer_norm_backward_composed(grad_x, grad_weight, grad_bias, grad_y, saved, weight);
    return;
  }
#ifdef STRIPES_HAVE_CUDA
  if (grad_y.device() == Device::CUDA) {
    const Tensor grad_y_rows = grad_y.contiguous();
    if (grad_x.defined()) {
      grad_x += cuda_kernels::layer_norm_backward_input_cuda(grad_y_rows, saved.normalized, saved.reciprocal_std.contiguous(),
                                                             weight);
    }
    if (grad_weight.defined() || grad_bias.defined()) {
      auto [sum_gy_xhat, sum_gy] = cuda_kernels::layer_norm_backward_parameters_cuda(grad_y_rows, saved.normalized);
      grad_weight += std::move(sum_gy_xhat);
      grad_bias += std::move(sum_gy);
    }
    return;
  }
#endif
  layer_norm_backward_fused(grad_x, grad_weight, grad_bias, grad_y, saved, weight);
}
Var layer_norm(const Var& x, const Var& weight, const Var& bias, double eps) {
  LayerNormSaved saved;
  Tensor y = layer_norm_forward(saved, x.value(), weight.value(), bias.value(), eps);
  SavedTensor saved_x_hat(saved.normalized, "layer_norm", "normalized"),
      saved_rstd(saved.reciprocal_std, "layer_norm", "reciprocal_std"), saved_weight(weight.value(), "layer_norm", "weight");
  return make_result("layer_norm", y, {x, weight, bias}, [saved_x_hat, saved_rstd, saved_weight](BackwardContext& ctx) {
    const LayerNormSaved s{saved_x_hat.get(), saved_rstd.get()};
    layer_norm_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.grad_target(2), ctx.grad_output(), s, saved_weight.get());
  });
}

// The fused kernels against the composed form (tests/autograd): forward y, x̂, r and the three
// gradients for an output gradient ∂L/∂y.
LayerNormComparison compare_layer_norm_fused_with_composed(const Tensor& x, const Tensor& weight, const Tensor& bias,
                                                           const Tensor& grad_y, double eps) {
  auto run = [&](bool fused) {
    LayerNormSaved saved;
    const Tensor y = fused ? layer_norm_forward_fused(saved, x, weight, bias, eps)
                           : layer_norm_forward_composed(saved, x, weight, bias, eps);
    Edge edge_x{nullptr, nullptr, x.shape(), x.dtype(), Device::CPU};
    Edge edge_w{nullptr, nullptr, weight.shape(), x.dtype(), Device::CPU};
    Tensor gx, gw, gb;
    GradTarget tx(&gx, &edge_x), tw(&gw, &edge_w), tb(&gb, &edge_w);
    if (fused) layer_norm_backward_fused(tx, tw, tb, grad_y, saved, weight);
    else layer_norm_backward_composed(tx, tw, tb, grad_y, saved, weight);
    return std::vector<Tensor>{y, saved.normalized, saved.reciprocal_std, gx, gw, gb};
  };
  return {run(true), run(false)};
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_layer_norm_gradchecks(GradcheckRegistry& r) {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 4}}) {
    const int64_t c = shape.back();
    r.add({"layer_norm", fmt::format("{} with weight and bias [{}]", shape_str(shape), c),
           {normal(shape), normal({c}), normal({c})},
           [](const std::vector<Var>& v) { return layer_norm(v[0], v[1], v[2]); }});
  }
}

}  // namespace stripes::ag
