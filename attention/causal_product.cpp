#include "attention/causal_product.hpp"

#include "tensor/elementwise.hpp"

#include <vector>

namespace stripes::attention {

namespace detail {

CausalShapes check_causal_shapes(const char* op, const Tensor& a, const Tensor& b, const Tensor& c) {
  STRIPES_CHECK(a.dim() >= 2 && a.shape() == b.shape(), "{}: a {} and b {} must have the same shape [..., T, P]", op,
                a.description(), b.description());
  STRIPES_CHECK(c.dim() == a.dim() && std::equal(a.shape().begin(), a.shape().end() - 1, c.shape().begin()),
                "{}: c {} must be [..., T, Q] with the leading dims of a {}", op, c.description(), a.description());
  require_same_dtype(op, a, c);
  CausalShapes s;
  s.steps = a.size(-2);
  s.p = a.size(-1);
  s.q = c.size(-1);
  for (int64_t d = 0; d + 2 < a.dim(); ++d) s.sequences *= a.shape()[size_t(d)];
  return s;
}

}  // namespace detail

using detail::CausalShapes;
using detail::check_causal_shapes;

// S_t = S_{t-1} + b_t c_tᵀ (S: P×Q),  out_t = S_tᵀ a_t      (reverse: t runs from T-1 down to 0)
Tensor causal_product_forward(const Tensor& a_in, const Tensor& b_in, const Tensor& c_in, bool reverse) {
  const CausalShapes s = check_causal_shapes("causal_product", a_in, b_in, c_in);
  STRIPES_CHECK(a_in.device() == b_in.device() && a_in.device() == c_in.device(),
                "causal_product: operands on different devices: {}, {}, {}", a_in.description(), b_in.description(),
                c_in.description());
  if (a_in.device() == Device::CUDA) {
#ifdef STRIPES_HAVE_CUDA
    return cuda_kernels::causal_product_forward_cuda(a_in, b_in, c_in, reverse);
#endif
  }
  require_cpu("causal_product", a_in);
  const Tensor a = a_in.contiguous(), b = b_in.contiguous(), c = c_in.contiguous();
  Tensor out = Tensor::empty(c.shape(), c.dtype());
  dispatch_floating(a.dtype(), "causal_product", [&]<typename T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const T* pc = c.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(s.sequences, grain_for(2 * s.steps * s.p * s.q), [&](int64_t begin, int64_t end) {
      std::vector<T> state(size_t(s.p * s.q));
      for (int64_t seq = begin; seq < end; ++seq) {
        std::fill(state.begin(), state.end(), T(0));
        const T* a_seq = pa + seq * s.steps * s.p;
        const T* b_seq = pb + seq * s.steps * s.p;
        const T* c_seq = pc + seq * s.steps * s.q;
        T* o_seq = po + seq * s.steps * s.q;
        for (int64_t step = 0; step < s.steps; ++step) {
          const int64_t t = reverse ? s.steps - 1 - step : step;
          const T* a_t = a_seq + t * s.p;
          const T* b_t = b_seq + t * s.p;
          const T* c_t = c_seq + t * s.q;
          T* o_t = o_seq + t * s.q;
          for (int64_t i = 0; i < s.q; ++i) o_t[i] = T(0);
          for (int64_t j = 0; j < s.p; ++j) {
            T* row = state.data() + j * s.q;  // S[j, :] += b_t[j] c_t ; out_t += a_t[j] S[j, :]
            const T bj = b_t[j], aj = a_t[j];
            for (int64_t i = 0; i < s.q; ++i) {
              row[i] += bj * c_t[i];
              o_t[i] += aj * row[i];
            }
          }
        }
      }
    });
  });
  return out;
}

// out = (mask ⊙ a bᵀ) c with mask_tn = [n ≤ t] (reverse: [n ≥ t])
Tensor causal_product_reference(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse) {
  check_causal_shapes("causal_product_reference", a, b, c);
  const int64_t steps = a.size(-2);
  Tensor mask = Tensor::zeros({steps, steps}, a.dtype());  // built on the host, used on a's device
  for (int64_t t = 0; t < steps; ++t) {
    mask.slice(0, t, t + 1).slice(1, reverse ? t : 0, reverse ? steps : t + 1).fill_(1.0);
  }
  return matmul(matmul(a, b.transpose(-1, -2)) * mask.to(a.device()), c);
}

// ∂L/∂a = causal(g, c, b),  ∂L/∂b = reverse_causal(c, g, a),  ∂L/∂c = reverse_causal(b, a, g)
static void causal_product_backward(Tensor& grad_a, Tensor& grad_b, Tensor& grad_c, const Tensor& grad_out,
                                    const Tensor& a, const Tensor& b, const Tensor& c, bool reverse) {
  // grad_a_t = Σ_{n≤t} (g_t · c_n) b_n
  if (grad_a.defined()) grad_a.add_(causal_product_forward(grad_out, c, b, reverse));
  // grad_b_n = Σ_{t≥n} (c_n · g_t) a_t
  if (grad_b.defined()) grad_b.add_(causal_product_forward(c, grad_out, a, !reverse));
  // grad_c_n = Σ_{t≥n} (b_n · a_t) g_t
  if (grad_c.defined()) grad_c.add_(causal_product_forward(b, a, grad_out, !reverse));
}

ag::Var causal_product(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse) {
  ag::SavedTensor saved_a(a.value(), "causal_product", "a"), saved_b(b.value(), "causal_product", "b"),
      saved_c(c.value(), "causal_product", "c");
  return ag::make_result("causal_product", causal_product_forward(a.value(), b.value(), c.value(), reverse), {a, b, c},
                         [saved_a, saved_b, saved_c, reverse](ag::BackwardContext& ctx) {
                           causal_product_backward(ctx.grad_input(0), ctx.grad_input(1), ctx.grad_input(2),
                                                   ctx.grad_output(), saved_a.get(), saved_b.get(), saved_c.get(),
                                                   reverse);
                         });
}

}  // namespace stripes::attention
