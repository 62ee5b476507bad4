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
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/elementwise.hpp"

#include <cmath>

namespace stripes::attention {

namespace {

// ---- depthwise_filter ------------------------------------------------------------------------------
// y[c, t, r] = Σ_τ f[c, τ] x[c, t + τ, r]         f: [C, K]  x: [C, T + K − 1, R]  y: [C, T, R]
// Fused CPU loop: each output row accumulates its K taps in place (no [C, T, R] temporary per tap).
Tensor depthwise_filter_forward(const Tensor& filter, const Tensor& noise, int64_t steps) {
  const int64_t channels = filter.size(0), taps = filter.size(1), r = noise.size(2);
  const Tensor f = filter.contiguous(), x = noise.contiguous();
  Tensor y = Tensor::zeros({channels, steps, r}, filter.dtype());
  dispatch_floating(filter.dtype(), "depthwise_filter", [&]<typename T>() {
    const T* pf = f.data<T>();
    const T* px = x.data<T>();
    T* py = y.mutable_data<T>();
    parallel_for(channels, grain_for(steps * taps * r), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c)
        for (int64_t t = 0; t < steps; ++t)
          for (int64_t tau = 0; tau < taps; ++tau) {
            const T w = pf[c * taps + tau];
            const T* row = px + (c * (steps + taps - 1) + t + tau) * r;
            T* out = py + (c * steps + t) * r;
            for (int64_t i = 0; i < r; ++i) out[i] += w * row[i];
          }
    });
  });
  return y;
}
// ∂L/∂f[c, τ] = Σ_{t, r} ∂L/∂y[c, t, r] x[c, t + τ, r]
void depthwise_filter_backward(Tensor& grad_filter, const Tensor& grad_y, const Tensor& noise) {
  const int64_t channels = grad_filter.size(0), taps = grad_filter.size(1), steps = grad_y.size(1), r = grad_y.size(2);
  const Tensor g = grad_y.contiguous(), x = noise.contiguous();
  Tensor contribution = Tensor::zeros(grad_filter.shape(), grad_filter.dtype());
  dispatch_floating(grad_filter.dtype(), "depthwise_filter_backward", [&]<typename T>() {
    const T* pg = g.data<T>();
    const T* px = x.data<T>();
    T* pc = contribution.mutable_data<T>();
    parallel_for(channels, grain_for(steps * taps * r), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c)
        for (int64_t tau = 0; tau < taps; ++tau) {
          T acc = 0;
          for (int64_t t = 0; t < steps; ++t) {
            const T* row = px + (c * (steps + taps - 1) + t + tau) * r;
            const T* gr = pg + (c * steps + t) * r;
            for (int64_t i = 0; i < r; ++i) acc += gr[i] * row[i];
          }
          pc[c * taps + tau] = acc;
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
    auto codes = [&](const ag::Var& filter) {  // [H, T, D, R]
      const ag::Var filtered = depthwise_filter(filter, noise, steps) * scale;  // [H·D, T, R]
      return ag::permute(ag::reshape(filtered, {h, d, steps, r}), {0, 2, 1, 3});
    };
    ag::Var query_codes = codes(query_filter_), key_codes = codes(key_filter_);
    if (gate_.defined()) {
      const ag::Var g = ag::sigmoid(gate_);  // [H, D]
      const Tensor gate_noise = Tensor::randn({h, 1, d, r}, *noise_generator_, q.dtype(), device) * scale;
      const ag::Var keep = ag::reshape(ag::sqrt(1.0 - g + 1e-12), {h, 1, d, 1});
      const ag::Var mix = ag::reshape(ag::sqrt(g + 1e-12), {h, 1, d, 1}) * ag::Var(gate_noise);
      query_codes = query_codes * keep + mix;
      key_codes = key_codes * keep + mix;
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
