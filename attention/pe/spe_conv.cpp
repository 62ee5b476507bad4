// convSPE (Liutkus et al. 2021, method.md §2.3): positional codes are white noise filtered by a
// learned filter per (head, dimension), separate filters for queries and keys, the same noise:
//
//   q̄_{hd}(t, r) = Σ_τ f^Q_{hd}(τ) ε_{hd}(t + τ, r) / (R·D)^{1/4}      ε ~ N(0, 1), length T + K − 1
//   E[q̄_{hd}(m) · k̄_{hd}(n)] ∝ Σ_τ f^Q(τ) f^K(τ + m − n)                 (a stationary kernel)
//   pooled:  q̂(t, r) = Σ_d q_d(t) q̄_d(t, r)                               dim into φ = R
// with SPE's gated filter as for sineSPE. The depthwise filtering is one primitive op with its
// backward written out (depthwise_filter below: CPU loops, or the GPU kernels of
// attention/cuda/depthwise_filter_kernels.cuh) and a composed form of autograd ops as its reference
// (depthwise_filter_composed, tested against it); the noise is redrawn at every
// forward, on the queries' device (the counter-based generator draws the same numbers on every
// device).
#include "attention/positional_encoding.hpp"

#include "attention/cuda/depthwise_filter.hpp"
#include "autograd/recorder.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/eigen.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace stripes::attention {

namespace {

// ---- depthwise_filter ------------------------------------------------------------------------------
// y[c, t, r] = Σ_τ f[c, τ] x[c, t + τ, r]         f: [C, K]  x: [C, T + K − 1, R]  y: [C, T, R]
// Per channel, with x and y contiguous, row t + τ of x starts τ·R elements after row t, so the
// filter is a sum of K shifted copies of x, read as flat vectors of T·R elements:
//   y_c[e] = Σ_τ f[c, τ] x_c[e + τ·R]        ∂f[c, τ] = Σ_e ∂y_c[e] x_c[e + τ·R]       e < T·R
// The CPU loops take both in tiles held in registers: kFilterTile consecutive outputs summing
// their K taps in order (forward), or kFilterTapTile taps each summing kFilterLanes partial sums
// over e (backward; the lanes then added in order). The same sums in the same order whatever the
// thread count (threads split the channels).
constexpr int64_t kFilterLanes = 16;                   // one AVX-512 register of floats
constexpr int64_t kFilterTile = 8 * kFilterLanes;      // outputs per forward tile (8 accumulators)
constexpr int64_t kFilterTapTile = 8;                  // taps per backward tile (8 accumulators)

// y_c[e] for e in [begin, begin + kFilterTile): the tile's sums stay in registers while the taps
// stream past (each x element read once per tap, from L1).
template <typename T>
void filter_tile(T* __restrict y, const T* __restrict x, const T* __restrict f, int64_t taps, int64_t shift) {
  T sums[kFilterTile] = {};
  for (int64_t tau = 0; tau < taps; ++tau) {
    const T w = f[tau];
    const T* shifted = x + tau * shift;
    for (int64_t i = 0; i < kFilterTile; ++i) sums[i] += w * shifted[i];
  }
  for (int64_t i = 0; i < kFilterTile; ++i) y[i] = sums[i];
}

// y[e] = Σ_τ f[τ] x[e + τ·shift] for e < count: tiles, then the last outputs in the same order.
template <typename T>
void filter_range(T* y, const T* x, const T* f, int64_t taps, int64_t shift, int64_t count) {
  const int64_t tiled = count / kFilterTile * kFilterTile;
  for (int64_t e = 0; e < tiled; e += kFilterTile) filter_tile<T>(y + e, x + e, f, taps, shift);
  for (int64_t e = tiled; e < count; ++e) {
    T sum = T(0);
    for (int64_t tau = 0; tau < taps; ++tau) sum += f[tau] * x[e + tau * shift];
    y[e] = sum;
  }
}

Tensor depthwise_filter_forward(const Tensor& filter, const Tensor& noise, int64_t steps) {
  const int64_t channels = filter.size(0), taps = filter.size(1), r = noise.size(2);
  const Tensor f = filter.contiguous(), x = noise.contiguous();
  Tensor y = Tensor::empty({channels, steps, r}, filter.dtype());
  const int64_t outputs = steps * r;
  dispatch_floating(filter.dtype(), "depthwise_filter", [&]<typename T>() {
    parallel_for(channels, grain_for(outputs * taps), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        filter_range<T>(y.mutable_data<T>() + c * outputs, x.data<T>() + c * (steps + taps - 1) * r,
                        f.data<T>() + c * taps, taps, r, outputs);
      }
    });
  });
  return y;
}

// ∂f[c, τ] for kTaps taps τ0 … τ0 + kTaps − 1 of one channel: per tap kFilterLanes partial sums over
// e (one load of ∂y serves every tap), then the lanes and the last products added in order.
template <typename T, int64_t kTaps>
void correlate_taps(T* grad_f, const T* __restrict g, const T* __restrict x, int64_t outputs, int64_t shift) {
  T lanes[kTaps][kFilterLanes] = {};
  const int64_t tiled = outputs / kFilterLanes * kFilterLanes;
  for (int64_t e = 0; e < tiled; e += kFilterLanes) {
    for (int64_t j = 0; j < kTaps; ++j) {
      const T* shifted = x + j * shift + e;
      for (int64_t i = 0; i < kFilterLanes; ++i) lanes[j][i] += g[e + i] * shifted[i];
    }
  }
  for (int64_t j = 0; j < kTaps; ++j) {
    T sum = T(0);
    for (int64_t i = 0; i < kFilterLanes; ++i) sum += lanes[j][i];
    for (int64_t e = tiled; e < outputs; ++e) sum += g[e] * x[j * shift + e];
    grad_f[j] = sum;
  }
}

// grad_f[τ] = Σ_{e < count} g[e] x[e + τ·shift] for every τ < taps (written): 8 taps at a time.
template <typename T>
void correlate_range(T* grad_f, const T* g, const T* x, int64_t taps, int64_t shift, int64_t count) {
  const int64_t tiled_taps = taps / kFilterTapTile * kFilterTapTile;
  for (int64_t tau = 0; tau < tiled_taps; tau += kFilterTapTile) {
    correlate_taps<T, kFilterTapTile>(grad_f + tau, g, x + tau * shift, count, shift);
  }
  for (int64_t tau = tiled_taps; tau < taps; ++tau) correlate_taps<T, 1>(grad_f + tau, g, x + tau * shift, count, shift);
}

void depthwise_filter_backward(Tensor& grad_filter, const Tensor& grad_y, const Tensor& noise) {
  const int64_t channels = grad_filter.size(0), taps = grad_filter.size(1), steps = grad_y.size(1), r = grad_y.size(2);
  const Tensor g = grad_y.contiguous(), x = noise.contiguous();
  Tensor contribution = Tensor::empty(grad_filter.shape(), grad_filter.dtype());
  const int64_t outputs = steps * r;
  dispatch_floating(grad_filter.dtype(), "depthwise_filter_backward", [&]<typename T>() {
    parallel_for(channels, grain_for(outputs * taps), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        correlate_range<T>(contribution.mutable_data<T>() + c * taps, g.data<T>() + c * outputs,
                           x.data<T>() + c * (steps + taps - 1) * r, taps, r, outputs);
      }
    });
  });
  grad_filter.add_(contribution);
}

void check_depthwise_filter(const char* op, const ag::Var& filter, const Tensor& noise, int64_t steps) {
  STRIPES_CHECK(filter.dim() == 2 && steps >= 0, "{}: filter {} must be [C, K]", op, filter.value().description());
  const int64_t channels = filter.size(0), taps = filter.size(1);
  STRIPES_CHECK(noise.dim() == 3 && noise.size(0) == channels && noise.size(1) == steps + taps - 1,
                "{}: noise {} must be [{}, {}, R]", op, noise.description(), channels, steps + taps - 1);
  require_same_dtype(op, filter.value(), noise);
  STRIPES_CHECK(filter.value().device() == noise.device(), "{}: filter {} and noise {} are on different devices", op,
                filter.value().description(), noise.description());
}

}  // namespace

// y = Σ_τ f[:, τ] ⊙ x[:, τ : τ + T, :]:  [C, 1, 1] ⊙ [C, T, R] per tap. The gradient of each
// product is summed over (t, r) by the broadcast rule and lands in column τ of ∂f by the slice's
// backward: the ∂f of the fused op, one tap at a time.
ag::Var depthwise_filter_composed(const ag::Var& filter, const Tensor& noise, int64_t steps) {
  check_depthwise_filter("depthwise_filter_composed", filter, noise, steps);
  const int64_t taps = filter.size(1);
  ag::Var y;
  for (int64_t tau = 0; tau < taps; ++tau) {
    const ag::Var tap = ag::unsqueeze(ag::slice(filter, 1, tau, tau + 1), -1);  // f[:, τ]   [C, 1, 1]
    const ag::Var term = tap * ag::Var(noise.slice(1, tau, tau + steps));        // ⊙ x[:, τ : τ + T, :]
    y = y.defined() ? y + term : term;
  }
  return y;
}

ag::Var depthwise_filter(const ag::Var& filter, const Tensor& noise, int64_t steps) {
  check_depthwise_filter("depthwise_filter", filter, noise, steps);
  const Device device = filter.value().device();
#ifdef STRIPES_HAVE_CUDA
  if (device == Device::CUDA && cuda::fused_kernels_enabled()) {
    const int64_t taps = filter.size(1);
    return ag::make_result("depthwise_filter", cuda_kernels::depthwise_filter_forward_cuda(filter.value(), noise, steps),
                           {filter}, [noise, taps](ag::BackwardContext& ctx) {
                             ctx.grad_input(0).add_(cuda_kernels::depthwise_filter_backward_cuda(ctx.grad_output(), noise, taps));
                           });
  }
#endif
  if (device != Device::CPU) return depthwise_filter_composed(filter, noise, steps);
  return ag::make_result("depthwise_filter", depthwise_filter_forward(filter.value(), noise, steps), {filter},
                         [noise](ag::BackwardContext& ctx) {
                           depthwise_filter_backward(ctx.grad_input(0), ctx.grad_output(), noise);
                         });
}

// ---- pooled_filtered_noise ---------------------------------------------------------------------------
namespace {

// out[b, h, t, r] = Σ_d a[b, h, t, d] ā[h·D + d, t, r],   ā = depthwise_filter(f, x, T)
//   a: [B, H, T, D]   f: [H·D, K]   x: [H·D, T + K − 1, R] (noise)   ā: [H·D, T, R]   out: [B, H, T, R]
// convSPE's pooled codes without the H·T·D·R codes ā: a thread makes the codes of one head and
// kPoolSteps steps, ā[h, :, t0 : t0 + L, :], in a scratch buffer [D, L·R] (depthwise_filter's loop),
// pools them with one small GEMM per step, [B, D] @ [D, R], and drops them.
// Backward, the block's codes made again the same way:
//   ∂a[b, h, t, :] = ∂out[b, h, t, :] ā[h, :, t, :]ᵀ            [B, R] @ [R, D] per (h, t)
//   ∂ā[h, :, t, :] = a[:, h, t, :]ᵀ ∂out[:, h, t, :]              [D, B] @ [B, R] per (h, t)
//   ∂f[h·D + d, τ] = Σ_{t, r} ∂ā[h, d, t, r] x[h·D + d, t + τ, r]   per block, then the blocks in order
// (each value computed by one thread in a fixed order: the same numbers whatever the thread count).
constexpr int64_t kPoolSteps = 16;  // L: the scratch is D·L·R elements (256 KiB at D = R = 64, float32)

struct PoolShape {
  int64_t batch, heads, steps, dims, taps, realizations;
  int64_t blocks() const { return (steps + kPoolSteps - 1) / kPoolSteps; }
};

// codes[d · L·R + l·R + r] = ā[h·D + d, t0 + l, r] for l < count (the rows of steps t0 … t0 + count − 1).
template <typename T>
void make_block_codes(T* codes, const T* f, const T* x, const PoolShape& s, int64_t h, int64_t t0, int64_t count) {
  for (int64_t d = 0; d < s.dims; ++d) {
    const int64_t c = h * s.dims + d;
    filter_range<T>(codes + d * kPoolSteps * s.realizations, x + (c * (s.steps + s.taps - 1) + t0) * s.realizations,
                    f + c * s.taps, s.taps, s.realizations, count * s.realizations);
  }
}

Tensor pooled_filtered_noise_forward(const Tensor& a, const Tensor& f, const Tensor& x, const PoolShape& s) {
  Tensor out = Tensor::empty({s.batch, s.heads, s.steps, s.realizations}, a.dtype());
  const int64_t row_stride = s.heads * s.steps;  // between batch entries, in rows of a and out
  dispatch_floating(a.dtype(), "pooled_filtered_noise", [&]<typename T>() {
    parallel_for(s.heads * s.blocks(), 1, [&](int64_t begin, int64_t end) {
      std::vector<T> codes(size_t(s.dims * kPoolSteps * s.realizations));
      for (int64_t item = begin; item < end; ++item) {
        const int64_t h = item / s.blocks(), t0 = item % s.blocks() * kPoolSteps;
        const int64_t count = std::min(kPoolSteps, s.steps - t0);
        make_block_codes<T>(codes.data(), f.data<T>(), x.data<T>(), s, h, t0, count);
        for (int64_t l = 0; l < count; ++l) {
          const int64_t row = h * s.steps + t0 + l;  // (h, t) in a [B, H·T, D] and out [B, H·T, R]
          const ConstStridedRows<T> a_rows(a.data<T>() + row * s.dims, s.batch, s.dims, Eigen::OuterStride<>(row_stride * s.dims));
          const ConstStridedRows<T> step_codes(codes.data() + l * s.realizations, s.dims, s.realizations,
                                               Eigen::OuterStride<>(kPoolSteps * s.realizations));
          StridedRows<T> out_rows(out.mutable_data<T>() + row * s.realizations, s.batch, s.realizations,
                                  Eigen::OuterStride<>(row_stride * s.realizations));
          out_rows.noalias() = a_rows * step_codes;
        }
      }
    });
  });
  return out;
}

void pooled_filtered_noise_backward(ag::GradTarget grad_a, ag::GradTarget grad_f, const Tensor& grad_out_in, const Tensor& a,
                                    const Tensor& f, const Tensor& x, const PoolShape& s) {
  const Tensor grad_out = grad_out_in.contiguous();
  const bool want_a = grad_a.defined(), want_f = grad_f.defined();
  Tensor da = want_a ? Tensor::empty(a.shape(), a.dtype()) : Tensor();
  Tensor block_df = want_f ? Tensor::empty({s.heads, s.blocks(), s.dims, s.taps}, a.dtype()) : Tensor();  // ∂f per block
  const int64_t row_stride = s.heads * s.steps;
  dispatch_floating(a.dtype(), "pooled_filtered_noise backward", [&]<typename T>() {
    parallel_for(s.heads * s.blocks(), 1, [&](int64_t begin, int64_t end) {
      const size_t scratch = size_t(s.dims * kPoolSteps * s.realizations);
      std::vector<T> codes(scratch), grad_codes(want_f ? scratch : 0);
      for (int64_t item = begin; item < end; ++item) {
        const int64_t h = item / s.blocks(), block = item % s.blocks(), t0 = block * kPoolSteps;
        const int64_t count = std::min(kPoolSteps, s.steps - t0);
        if (want_a) make_block_codes<T>(codes.data(), f.data<T>(), x.data<T>(), s, h, t0, count);
        for (int64_t l = 0; l < count; ++l) {
          const int64_t row = h * s.steps + t0 + l;
          const ConstStridedRows<T> g_rows(grad_out.data<T>() + row * s.realizations, s.batch, s.realizations,
                                           Eigen::OuterStride<>(row_stride * s.realizations));
          if (want_a) {
            const ConstStridedRows<T> step_codes(codes.data() + l * s.realizations, s.dims, s.realizations,
                                                 Eigen::OuterStride<>(kPoolSteps * s.realizations));
            StridedRows<T> da_rows(da.mutable_data<T>() + row * s.dims, s.batch, s.dims, Eigen::OuterStride<>(row_stride * s.dims));
            da_rows.noalias() = g_rows * step_codes.transpose();
          }
          if (want_f) {
            const ConstStridedRows<T> a_rows(a.data<T>() + row * s.dims, s.batch, s.dims, Eigen::OuterStride<>(row_stride * s.dims));
            StridedRows<T> step_grad(grad_codes.data() + l * s.realizations, s.dims, s.realizations,
                                     Eigen::OuterStride<>(kPoolSteps * s.realizations));
            step_grad.noalias() = a_rows.transpose() * g_rows;
          }
        }
        if (!want_f) continue;
        for (int64_t d = 0; d < s.dims; ++d) {
          const int64_t c = h * s.dims + d;
          correlate_range<T>(block_df.mutable_data<T>() + ((h * s.blocks() + block) * s.dims + d) * s.taps,
                             grad_codes.data() + d * kPoolSteps * s.realizations,
                             x.data<T>() + (c * (s.steps + s.taps - 1) + t0) * s.realizations, s.taps, s.realizations,
                             count * s.realizations);
        }
      }
    });
  });
  if (want_a) grad_a += std::move(da);
  if (want_f) grad_f += sum(block_df, {1}).reshape({s.heads * s.dims, s.taps});  // the blocks added in order
}

PoolShape check_pooled_filtered_noise(const char* op, const ag::Var& a, const ag::Var& filter, const Tensor& noise) {
  STRIPES_CHECK(a.dim() == 4, "{}: a {} must be [B, H, T, D]", op, a.value().description());
  const int64_t heads = a.size(1), steps = a.size(2), dims = a.size(3);
  check_depthwise_filter(op, filter, noise, steps);
  STRIPES_CHECK(filter.size(0) == heads * dims, "{}: filter {} must have H·D = {} channels for a {}", op,
                filter.value().description(), heads * dims, a.value().description());
  require_same_dtype(op, a.value(), noise);
  STRIPES_CHECK(a.value().device() == noise.device(), "{}: a {} and noise {} are on different devices", op,
                a.value().description(), noise.description());
  return {a.size(0), heads, steps, dims, filter.size(1), noise.size(2)};
}

}  // namespace

ag::Var pooled_filtered_noise_composed(const ag::Var& a, const ag::Var& filter, const Tensor& noise) {
  const PoolShape s = check_pooled_filtered_noise("pooled_filtered_noise_composed", a, filter, noise);
  const ag::Var codes = depthwise_filter(filter, noise, s.steps);  // ā [H·D, T, R]
  const ag::Var per_step = ag::permute(ag::reshape(codes, {s.heads, s.dims, s.steps, s.realizations}), {0, 2, 1, 3});  // [H, T, D, R]
  return ag::squeeze(ag::matmul(ag::unsqueeze(a, -2), per_step), -2);  // [B, H, T, 1, D] @ [H, T, D, R]
}

ag::Var pooled_filtered_noise(const ag::Var& a, const ag::Var& filter, const Tensor& noise) {
  const PoolShape s = check_pooled_filtered_noise("pooled_filtered_noise", a, filter, noise);
  if (a.value().device() != Device::CPU) return pooled_filtered_noise_composed(a, filter, noise);
  const Tensor av = a.value().contiguous(), fv = filter.value().contiguous(), x = noise.contiguous();
  return ag::make_result("pooled_filtered_noise", pooled_filtered_noise_forward(av, fv, x, s), {a, filter},
                         [av, fv, x, s](ag::BackwardContext& ctx) {
                           pooled_filtered_noise_backward(ctx.grad_target(0), ctx.grad_target(1), ctx.grad_output(), av,
                                                          fv, x, s);
                         });
}

namespace {

class ConvSpeEncoding : public PositionalEncoding {
 public:
  explicit ConvSpeEncoding(const PositionalEncodingConfig& config)
      : config_(config), noise_generator_(std::make_shared<Generator>(config.seed ^ 0xC0417ull)) {
    const int64_t channels = config.heads * config.head_dim, taps = config.conv_kernel;
    Generator init(config.seed);
    const double scale = 1.0 / std::sqrt(double(taps) / 2.0);  // U(0,1)/√(K/2) as in the SPE code
    query_filter_ = register_parameter("query_filter", Tensor::rand({channels, taps}, init, config.dtype) * scale);
    key_filter_ = register_parameter("key_filter", Tensor::rand({channels, taps}, init, config.dtype) * scale);
    if (config.gated) gate_ = register_parameter("gate", Tensor::randn({config.heads, config.head_dim}, init, config.dtype));
  }

  std::string_view pe_name() const override { return "spe-conv"; }
  KernelProperties kernel_properties() const override {
    return {.positive_definite = false, .lag_only = true, .stochastic = true, .uses_positions = true};
  }
  int64_t feature_dim() const override { return config_.realizations; }
  std::shared_ptr<Generator> noise_generator() const override { return noise_generator_; }
  std::string describe() const override {
    return fmt::format("spe-conv(heads {}, D {}, kernel {}, R {}{})", config_.heads, config_.head_dim,
                       config_.conv_kernel, config_.realizations, gate_.defined() ? ", gated" : "");
  }

  Encoded encode(const ag::Var& q, const ag::Var& k, const Tensor&) override {
    const int64_t h = config_.heads, d = config_.head_dim, r = config_.realizations, steps = q.size(-2);
    // Noise drawn on the queries' device (the gate noise below likewise): the counter-based
    // generator draws the same numbers on every device, and nothing is copied.
    const Device device = q.value().device();
    const Tensor noise = Tensor::randn({h * d, steps + config_.conv_kernel - 1, r}, *noise_generator_, q.dtype(), device);
    record("noise", noise, "randn", "white noise ε [H·D, T + K − 1, R]");
    const double scale = 1.0 / std::pow(double(r * d), 0.25);
    // The gate (SPE's SPEFilter): q̄_d ← keep_d q̄_d + mix_d with keep_d = √(1 − g_d), mix_d = √g_d ε_d.
    const ag::Var g = gate_.defined() ? ag::sigmoid(gate_) : ag::Var();  // [H, D]
    const Tensor gate_noise = gate_.defined() ? Tensor::randn({h, d, r}, *noise_generator_, q.dtype(), device) * scale : Tensor();
    const ag::Var keep = gate_.defined() ? ag::sqrt(1.0 - g + 1e-12) : ag::Var();                       // [H, D]
    const ag::Var mix = gate_.defined() ? ag::reshape(ag::sqrt(g + 1e-12), {h, d, 1}) * ag::Var(gate_noise) : ag::Var();  // [H, D, R]
    if (ag::recorder_active()) return encode_with_codes(q, k, noise, scale, keep, mix);
    // q̂ = Σ_d q_d (keep_d q̄_d + mix_d) = Σ_d (q_d keep_d) q̄_d + q @ mix, with the scale in the filter:
    // pooled_filtered_noise never forms the codes q̄ [H, T, D, R].
    auto pooled = [&](const ag::Var& a, const ag::Var& filter) {
      if (!gate_.defined()) return pooled_filtered_noise(a, filter * scale, noise);
      return pooled_filtered_noise(a * ag::reshape(keep, {1, h, 1, d}), filter * scale, noise) + ag::matmul(a, mix);
    };
    return {pooled(q, query_filter_), pooled(k, key_filter_)};
  }

  // The same encoding with the codes formed, for dumps: q̄, k̄ [H, T, D, R] recorded, then pooled.
  Encoded encode_with_codes(const ag::Var& q, const ag::Var& k, const Tensor& noise, double scale, const ag::Var& keep,
                            const ag::Var& mix) {
    const int64_t h = config_.heads, d = config_.head_dim, r = config_.realizations, steps = q.size(-2);
    auto codes = [&](const ag::Var& filter) {  // [H, T, D, R]
      const ag::Var filtered = depthwise_filter(filter, noise, steps) * scale;  // [H·D, T, R]
      return ag::permute(ag::reshape(filtered, {h, d, steps, r}), {0, 2, 1, 3});
    };
    ag::Var query_codes = codes(query_filter_), key_codes = codes(key_filter_);
    if (keep.defined()) {
      const ag::Var keep_codes = ag::reshape(keep, {h, 1, d, 1}), mix_codes = ag::reshape(mix, {h, 1, d, r});
      query_codes = query_codes * keep_codes + mix_codes;
      key_codes = key_codes * keep_codes + mix_codes;
    }
    record("query_codes", query_codes, "depthwise_filter", "filtered noise q̄ [H, T, D, R]");
    record("key_codes", key_codes, "depthwise_filter", "filtered noise k̄ [H, T, D, R]");
    // q̂[b, h, t, :] = q[b, h, t, :] @ q̄[h, t, :, :]
    auto pool = [](const ag::Var& a, const ag::Var& code) { return ag::squeeze(ag::matmul(ag::unsqueeze(a, -2), code), -2); };
    Encoded out{pool(q, query_codes), pool(k, key_codes)};
    record("pooled_query", out.query, "spe-conv", "pooled codes q̂ [B, H, T, R]");
    record("pooled_key", out.key, "spe-conv", "pooled codes k̂ [B, H, T, R]");
    return out;
  }

 private:
  PositionalEncodingConfig config_;
  std::shared_ptr<Generator> noise_generator_;
  ag::Var query_filter_, key_filter_, gate_;
};

}  // namespace

std::shared_ptr<PositionalEncoding> make_conv_spe_encoding(const PositionalEncodingConfig& config) {
  return std::make_shared<ConvSpeEncoding>(config);
}

}  // namespace stripes::attention
