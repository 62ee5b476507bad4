// The chunked causal product (CPU): the same function as causal_product_forward, computed chunk by
// chunk with dense GEMMs (flash-linear-attention's form; see causal_product.hpp).
//
//   a, b: [..., T, P]   c: [..., T, Q]   out: [..., T, Q]      chunk size C, chunks j = 0 .. ⌈T/C⌉−1
//   A = a[jC : jC+L], B = b[...], Cj = c[...]   (L ≤ C rows)
//   causal:   out[jC : jC+L] = A S_j + tril(A Bᵀ) Cj,   S_j = Σ_{i<j} B_iᵀ C_i       (P×Q)
//   reverse:  out[jC : jC+L] = A S_j + triu(A Bᵀ) Cj,   S_j = Σ_{i>j} B_iᵀ C_i
// tril / triu keep the diagonal (n = t is included in both directions).
//
// Work per sequence: ⌈T/C⌉ · (2·L·P·Q [A S] + 2·L·L·P [A Bᵀ] + L·L·Q [triangular × Cj] + 2·L·P·Q [S update])
// ≈ T·(4PQ + 2CP + CQ) flops, against 4·T·P·Q for the per-token prefix sum: more arithmetic, but in
// GEMMs that run near the machine's matmul rate instead of T rank-1 updates.
// Memory: one P×Q state and one C×C block per thread.
#include "attention/causal_product.hpp"

#include "nn/softmax_attention.hpp"  // causal_mask
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/eigen.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/parallel.hpp"

#include <algorithm>

namespace stripes::attention {

CausalAlgorithm parse_causal_algorithm(std::string_view name) {
  if (name == "prefix") return CausalAlgorithm::Prefix;
  if (name == "chunked") return CausalAlgorithm::Chunked;
  if (name == "chunked-composed") return CausalAlgorithm::ChunkedComposed;
  if (name == "auto") return CausalAlgorithm::Auto;
  throw_error("unknown causal algorithm '{}' (expected prefix, chunked, chunked-composed or auto)", name);
}

std::string_view causal_algorithm_name(CausalAlgorithm algorithm) {
  switch (algorithm) {
    case CausalAlgorithm::Prefix: return "prefix";
    case CausalAlgorithm::Chunked: return "chunked";
    case CausalAlgorithm::ChunkedComposed: return "chunked-composed";
    case CausalAlgorithm::Auto: return "auto";
  }
  return "?";
}

// On an H100 the composed form beat the fused kernel at every shape of the paper's model
// (batch × heads 64, T 1024 and 4096: forward 0.65 vs 0.95 ms and 2.34 vs 3.72 ms; a training step
// 17 vs 19 ms), while on the CPU the chunked loop is the faster (docs/performance.md).
CausalAlgorithm resolve_causal_algorithm(CausalAlgorithm algorithm, Device device) {
  if (algorithm != CausalAlgorithm::Auto) return algorithm;
  return device == Device::CUDA ? CausalAlgorithm::ChunkedComposed : CausalAlgorithm::Chunked;
}

namespace {

// One sequence: out (+)= chunked causal product of a [T, P], b [T, P], c [T, Q] (all row-major).
// state [P, Q] and block [C, C] are the caller's scratch.
template <typename T>
void chunked_sequence(T* out, const T* a, const T* b, const T* c, int64_t steps, int64_t p, int64_t q, int64_t chunk,
                      bool reverse, bool accumulate, RowMatrix<T>& state, RowMatrix<T>& block) {
  state.setZero();
  const int64_t chunks = (steps + chunk - 1) / chunk;
  for (int64_t i = 0; i < chunks; ++i) {
    const int64_t j = reverse ? chunks - 1 - i : i;
    const int64_t start = j * chunk, rows = std::min(chunk, steps - start);
    const ConstRows<T> A(a + start * p, rows, p), B(b + start * p, rows, p), C(c + start * q, rows, q);
    Rows<T> O(out + start * q, rows, q);
    auto W = block.topLeftCorner(rows, rows);
    W.noalias() = A * B.transpose();                                              // W_tn = a_t · b_n
    if (i == 0) {
      if (!accumulate) O.setZero();                                               // S = 0: no inter-chunk term
    } else if (accumulate) {
      O.noalias() += A * state;                                                   // Σ_{earlier chunks} (a_t·b_n) c_n
    } else {
      O.noalias() = A * state;
    }
    if (reverse) {
      O.noalias() += W.template triangularView<Eigen::Upper>() * C;              // Σ_{n ≥ t in chunk}
    } else {
      O.noalias() += W.template triangularView<Eigen::Lower>() * C;              // Σ_{n ≤ t in chunk}
    }
    if (i + 1 < chunks) state.noalias() += B.transpose() * C;                   // S ← S + Bᵀ C
  }
}

}  // namespace

// ---- the chunked form composed from tensor ops (the GPU path) ------------------------------------
// Every chunk at once, with batched GEMMs and a scan over chunks (n = ⌈T/C⌉, T padded to n·C with
// zero rows, which add nothing and whose outputs are cut off):
//   W_j = A_j B_jᵀ  [S, n, C, C]      K_j = B_jᵀ C_j  [S, n, P, Q]
//   S_j = Σ_{i<j} K_i (reverse: Σ_{i>j}): a cumsum over the chunk axis, shifted by one chunk
//   out_j = A_j S_j + tril(W_j) C_j   (reverse: triu)
// The n per-chunk states (T·P·Q/C numbers per sequence) are held at once: C times fewer than the
// prefix states, and the price of doing every chunk in parallel.
Tensor causal_product_chunked_composed(const Tensor& a_in, const Tensor& b_in, const Tensor& c_in, bool reverse,
                                       int64_t chunk) {
  const detail::CausalShapes s = detail::check_causal_shapes("causal_product_chunked_composed", a_in, b_in, c_in);
  STRIPES_CHECK(chunk >= 1, "causal_product_chunked_composed: chunk size must be >= 1, got {}", chunk);
  STRIPES_CHECK(a_in.device() == b_in.device() && a_in.device() == c_in.device(),
                "causal_product_chunked_composed: operands on different devices: {}, {}, {}", a_in.description(),
                b_in.description(), c_in.description());
  if (s.steps == 0 || s.q == 0) return Tensor::zeros(c_in.shape(), c_in.dtype(), c_in.device());
  const Device device = c_in.device();
  const int64_t rows = std::min(chunk, s.steps), chunks = (s.steps + rows - 1) / rows, padded = chunks * rows;
  // [..., T, X] -> [S, n, C, X], zero rows appended up to n·C
  auto blocks = [&](const Tensor& x) {
    Tensor flat = x.reshape({s.sequences, s.steps, x.size(-1)});
    if (padded > s.steps) {
      flat = concat({flat, Tensor::zeros({s.sequences, padded - s.steps, x.size(-1)}, x.dtype(), device)}, 1);
    }
    return flat.reshape({s.sequences, chunks, rows, x.size(-1)});
  };
  const Tensor a = blocks(a_in), b = blocks(b_in), c = blocks(c_in);
  // tril keeps n ≤ t: hide the entries causal_mask marks (u > t); triu hides its transpose.
  const Tensor hidden = reverse ? nn::causal_mask(rows, device).transpose(0, 1).contiguous() : nn::causal_mask(rows, device);
  const Tensor within = where(hidden, Tensor::scalar(0.0, a.dtype()), matmul(a, b.transpose(-1, -2)));  // masked W_j
  const Tensor chunk_states = matmul(b.transpose(-1, -2), c);                                              // K_j [S, n, P, Q]
  Tensor out = matmul(within, c);                                                                          // tril(W_j) C_j
  if (chunks > 1) {
    const Tensor running = cumsum(chunk_states, 1, reverse);  // Σ_{i≤j} K_i (reverse: Σ_{i≥j})
    const Tensor none = Tensor::zeros({s.sequences, 1, s.p, s.q}, a.dtype(), device);
    const Tensor earlier = reverse ? concat({running.slice(1, 1, chunks), none}, 1)       // S_j = Σ_{i>j} K_i
                                   : concat({none, running.slice(1, 0, chunks - 1)}, 1);  // S_j = Σ_{i<j} K_i
    out.add_(matmul(a, earlier));                                                         // + A_j S_j
  }
  return out.reshape({s.sequences, padded, s.q}).slice(1, 0, s.steps).reshape(c_in.shape());
}

namespace {

// out (+)= product over every sequence, sequences spread over the threads (Eigen serial inside).
void chunked_all(Tensor& out, const Tensor& a_in, const Tensor& b_in, const Tensor& c_in, bool reverse, int64_t chunk,
                 bool accumulate) {
  const detail::CausalShapes s = detail::check_causal_shapes("causal_product_chunked", a_in, b_in, c_in);
  STRIPES_CHECK(chunk >= 1, "causal_product_chunked: chunk size must be >= 1, got {}", chunk);
  if (a_in.device() != Device::CPU) {
#ifdef STRIPES_HAVE_CUDA
    if (cuda::fused_kernels_enabled() && chunk == kDefaultCausalChunk && out.is_contiguous() && a_in.device() == Device::CUDA &&
        b_in.device() == Device::CUDA && c_in.device() == Device::CUDA) {
      require_same_dtype("causal_product_chunked", a_in, b_in);
      require_same_dtype("causal_product_chunked", a_in, c_in);
      cuda_kernels::causal_product_chunked_cuda(out, a_in, b_in, c_in, reverse, accumulate);
      return;
    }
#endif
    // Another chunk size (the kernel's is fixed), or a strided output: the composed chunked form.
    const Tensor product = causal_product_chunked_composed(a_in, b_in, c_in, reverse, chunk);
    if (accumulate) out.add_(product);
    else out.copy_(product);
    return;
  }
  require_cpu("causal_product_chunked", a_in);
  require_cpu("causal_product_chunked", b_in);
  require_cpu("causal_product_chunked", c_in);
  STRIPES_CHECK(out.is_contiguous() && out.shape() == c_in.shape() && out.dtype() == c_in.dtype(),
                "causal_product_chunked: output {} must be contiguous with the shape and dtype of c {}",
                out.description(), c_in.description());
  const Tensor a = a_in.contiguous(), b = b_in.contiguous(), c = c_in.contiguous();
  if (s.steps == 0 || s.q == 0) return;
  const int64_t chunk_rows = std::min(chunk, s.steps);
  // ≈ flops per sequence: T·(4PQ + 2CP + CQ)
  const int64_t work = s.steps * (4 * s.p * s.q + 2 * chunk_rows * s.p + chunk_rows * s.q);
  dispatch_floating(a.dtype(), "causal_product_chunked", [&]<typename T>() {
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    const T* pc = c.data<T>();
    T* po = out.mutable_data<T>();
    parallel_for(s.sequences, grain_for(work), [&](int64_t begin, int64_t end) {
      RowMatrix<T> state(s.p, s.q), block(chunk_rows, chunk_rows);
      for (int64_t seq = begin; seq < end; ++seq) {
        chunked_sequence<T>(po + seq * s.steps * s.q, pa + seq * s.steps * s.p, pb + seq * s.steps * s.p,
                            pc + seq * s.steps * s.q, s.steps, s.p, s.q, chunk_rows, reverse, accumulate, state, block);
      }
    });
  });
}

}  // namespace

Tensor causal_product_chunked_forward(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse, int64_t chunk) {
  Tensor out = Tensor::empty(c.shape(), c.dtype(), c.device());
  chunked_all(out, a, b, c, reverse, chunk, false);
  return out;
}

void causal_product_chunked_accumulate(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                                       int64_t chunk) {
  chunked_all(out, a, b, c, reverse, chunk, true);
}

Tensor causal_product_forward(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse, CausalAlgorithm algorithm,
                              int64_t chunk) {
  switch (resolve_causal_algorithm(algorithm, a.device())) {
    case CausalAlgorithm::Prefix: return causal_product_forward(a, b, c, reverse);
    case CausalAlgorithm::Chunked: return causal_product_chunked_forward(a, b, c, reverse, chunk);
    case CausalAlgorithm::ChunkedComposed: return causal_product_chunked_composed(a, b, c, reverse, chunk);
    case CausalAlgorithm::Auto: break;  // resolved above
  }
  throw_error("causal_product: unknown algorithm {}", int(algorithm));
}

// out += product: straight into the buffer when the chunked kernel can write it (contiguous).
void causal_product_accumulate(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& c, bool reverse,
                               CausalAlgorithm algorithm, int64_t chunk) {
  algorithm = resolve_causal_algorithm(algorithm, a.device());
  if (algorithm == CausalAlgorithm::Chunked && out.is_contiguous()) {
    causal_product_chunked_accumulate(out, a, b, c, reverse, chunk);
  } else {
    out.add_(causal_product_forward(a, b, c, reverse, algorithm, chunk));
  }
}

namespace {
// ∂L/∂a = causal(g, c, b),  ∂L/∂b = reverse_causal(c, g, a),  ∂L/∂c = reverse_causal(b, a, g)
void chunked_product_backward(Tensor& grad_a, Tensor& grad_b, Tensor& grad_c, const Tensor& grad_out, const Tensor& a,
                              const Tensor& b, const Tensor& c, bool reverse, CausalAlgorithm algorithm, int64_t chunk) {
  const Tensor g = grad_out.contiguous();
  // grad_a_t = Σ_{n≤t} (g_t · c_n) b_n
  if (grad_a.defined()) causal_product_accumulate(grad_a, g, c, b, reverse, algorithm, chunk);
  // grad_b_n = Σ_{t≥n} (c_n · g_t) a_t
  if (grad_b.defined()) causal_product_accumulate(grad_b, c, g, a, !reverse, algorithm, chunk);
  // grad_c_n = Σ_{t≥n} (b_n · a_t) g_t
  if (grad_c.defined()) causal_product_accumulate(grad_c, b, a, g, !reverse, algorithm, chunk);
}

// The differentiable chunked product, fused (Chunked) or composed (ChunkedComposed).
ag::Var chunked_product(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse, CausalAlgorithm algorithm,
                        int64_t chunk) {
  const char* op = algorithm == CausalAlgorithm::Chunked ? "causal_product_chunked" : "causal_product_chunked_composed";
  ag::SavedTensor saved_a(a.value(), op, "a"), saved_b(b.value(), op, "b"), saved_c(c.value(), op, "c");
  return ag::make_result(op, causal_product_forward(a.value(), b.value(), c.value(), reverse, algorithm, chunk), {a, b, c},
                         [saved_a, saved_b, saved_c, reverse, algorithm, chunk](ag::BackwardContext& ctx) {
                           chunked_product_backward(ctx.grad_input(0), ctx.grad_input(1), ctx.grad_input(2),
                                                    ctx.grad_output(), saved_a.get(), saved_b.get(), saved_c.get(),
                                                    reverse, algorithm, chunk);
                         });
}
}  // namespace

ag::Var causal_product_chunked(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse, int64_t chunk) {
  return chunked_product(a, b, c, reverse, CausalAlgorithm::Chunked, chunk);
}

ag::Var causal_product(const ag::Var& a, const ag::Var& b, const ag::Var& c, bool reverse, CausalAlgorithm algorithm,
                       int64_t chunk) {
  algorithm = resolve_causal_algorithm(algorithm, a.value().device());
  return algorithm == CausalAlgorithm::Prefix ? causal_product(a, b, c, reverse)
                                              : chunked_product(a, b, c, reverse, algorithm, chunk);
}

}  // namespace stripes::attention
