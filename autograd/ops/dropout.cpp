// Dropout (Srivastava et al. 2014), inverted: scale at training time so eval is the identity.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "tensor/parallel.hpp"
#include "tensor/philox.hpp"

#include <algorithm>

namespace stripes::ag {

// ---- dropout -------------------------------------------------------------------------------------
// m_i ~ Bernoulli(1 - p) / (1 - p) from the seeded generator,  y = x ⊙ m      x, y, m: [any]
// mask[i] = kept where the 53-bit draw of counter first + i is below keep_threshold, else 0, for i in
// [begin, end). A function of plain arguments so that the compiler vectorizes the Philox rounds
// across elements (inside the parallel lambda it did not: 4x slower).
template <typename T>
static void draw_dropout_mask(T* mask, int64_t begin, int64_t end, uint64_t first, uint64_t seed, uint64_t keep_threshold,
                              T kept) {
  for (int64_t i = begin; i < end; ++i) mask[i] = philox::bernoulli(first + uint64_t(i), seed, keep_threshold) ? kept : T(0);
}

static Tensor dropout_forward(Tensor& mask, const Tensor& x, double p, Generator& generator) {
  STRIPES_CHECK(p >= 0.0 && p < 1.0, "dropout: probability {} is outside [0, 1)", p);
  if (x.device() == Device::CUDA || !x.is_contiguous()) {
    mask = Tensor::bernoulli(x.shape(), 1.0 - p, generator, x.dtype(), x.device()) * (1.0 / (1.0 - p));
    return x * mask;
  }
  // The same draws in one pass over x (mask and output written together): element i keeps when
  // its uniform u_i < 1 - p, which is Tensor::bernoulli's test, so the mask is the one above.
  mask = Tensor::empty(x.shape(), x.dtype());
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  const uint64_t first = generator.reserve(uint64_t(n)), seed = generator.seed();
  const uint64_t keep_threshold = philox::bernoulli_threshold(1.0 - p);
  dispatch_floating(x.dtype(), "dropout", [&]<typename T>() {
    const T kept = T(1.0 / (1.0 - p));
    const T* in = x.data<T>();
    T* m = mask.mutable_data<T>();
    T* out = y.mutable_data<T>();
    parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t slice = begin; slice < end; slice += 1024) {
        const int64_t slice_end = std::min(end, slice + 1024);
        draw_dropout_mask(m, slice, slice_end, first, seed, keep_threshold, kept);
        for (int64_t i = slice; i < slice_end; ++i) out[i] = in[i] * m[i];
      }
    });
  });
  return y;
}
// ∂y/∂x = m
static void dropout_backward(GradTarget grad_x, const Tensor& grad_y, const Tensor& mask) { grad_x += grad_y * mask; }
Var dropout(const Var& x, double p, Generator& generator, bool training) {
  if (!training || p == 0.0) return x;
  Tensor mask;
  Tensor y = dropout_forward(mask, x.value(), p, generator);
  return make_result("dropout", y, {x}, [mask](BackwardContext& ctx) {
    dropout_backward(ctx.grad_target(0), ctx.grad_output(), mask);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_dropout_gradchecks(GradcheckRegistry& r) {
  // The generator is re-seeded inside the function, so every evaluation draws the same mask.
  r.add({"dropout", "[4, 5] p = 0.3 (fixed mask)", {normal({4, 5})}, [](const std::vector<Var>& v) {
           Generator generator(1234);
           return dropout(v[0], 0.3, generator);
         }});
}

}  // namespace stripes::ag
