// Losses, reduced to a scalar mean.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "tensor/eigen.hpp"
#include "tensor/parallel.hpp"
#ifdef STRIPES_HAVE_CUDA
#include "autograd/ops/cuda/fused_row_ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#endif

#include <algorithm>
#include <cmath>
#include <vector>

namespace stripes::ag {

// ---- binary_cross_entropy_with_logits ------------------------------------------------------------
// ℓ = (1/N) Σ_i [ max(z_i, 0) - z_i y_i + ln(1 + e^{-|z_i|}) ]      z, y: [any], N = numel
// (= -y ln σ(z) - (1-y) ln(1-σ(z)), written so that no exp overflows)
static Tensor bce_with_logits_forward_composed(const Tensor& logits, const Tensor& targets) {
  return mean(relu(logits) - logits * targets + softplus(-abs(logits)));
}
// ∂ℓ/∂z_i = (σ(z_i) - y_i) / N
static void bce_with_logits_backward_composed(GradTarget grad_logits, const Tensor& grad_loss, const Tensor& logits,
                                              const Tensor& targets) {
  grad_logits += (sigmoid(logits) - targets) * (grad_loss.item() / double(logits.numel()));
}

// The fused CPU forms: one pass each (the composed forward makes 7). The sum runs in double over
// fixed blocks of 4096 elements, added in order: the same loss whatever the thread count.
static bool bce_fusable(const Tensor& logits, const Tensor& targets) {
  return logits.device() == Device::CPU && logits.is_contiguous() && targets.is_contiguous() &&
         targets.dtype() == logits.dtype();
}
static Tensor bce_with_logits_forward_fused(const Tensor& logits, const Tensor& targets) {
  constexpr int64_t kBlock = 4096;
  const int64_t n = logits.numel(), blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> block_sums(size_t(blocks), 0.0);
  dispatch_floating(logits.dtype(), "binary_cross_entropy_with_logits", [&]<typename T>() {
    const T* z = logits.data<T>();
    const T* y = targets.data<T>();
    parallel_for(blocks, 8, [&](int64_t first_block, int64_t last_block) {
      Eigen::Array<T, Eigen::Dynamic, 1> terms(kBlock);
      for (int64_t block = first_block; block < last_block; ++block) {
        const int64_t begin = block * kBlock, count = std::min(n, begin + kBlock) - begin;
        const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> zb(z + begin, count), yb(y + begin, count);
        // Eigen's vectorized exp and log1p (libm's are called one element at a time)
        terms.head(count) = zb.max(T(0)) - zb * yb + (-zb.abs()).exp().log1p();
        double total = 0.0;
        for (int64_t i = 0; i < count; ++i) total += double(terms[i]);
        block_sums[size_t(block)] = total;
      }
    });
  });
  double sum = 0.0;
  for (double block_sum : block_sums) sum += block_sum;
  return Tensor::scalar(sum / double(std::max<int64_t>(n, 1)), logits.dtype());
}
static void bce_with_logits_backward_fused(GradTarget grad_logits, const Tensor& grad_loss, const Tensor& logits,
                                           const Tensor& targets) {
  Tensor grad = Tensor::empty(logits.shape(), logits.dtype());
  const double scale = grad_loss.item() / double(logits.numel());
  dispatch_floating(logits.dtype(), "binary_cross_entropy_with_logits backward", [&]<typename T>() {
    const T* z = logits.data<T>();
    const T* y = targets.data<T>();
    T* out = grad.mutable_data<T>();
    const T s = T(scale);
    parallel_for(logits.numel(), kParallelGrain / 8, [&](int64_t begin, int64_t end) {
      const int64_t count = end - begin;
      const Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> zb(z + begin, count), yb(y + begin, count);
      Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>(out + begin, count) = ((T(1) + (-zb).exp()).inverse() - yb) * s;  // (σ(z) - y) / N
    });
  });
  grad_logits += std::move(grad);
}

// On the GPU the fused forms are autograd/ops/cuda/binary_cross_entropy_kernels.cuh: the terms
// summed in double over fixed blocks of 4096 elements, the blocks' sums added by a second kernel;
// the backward one elementwise kernel that reads ∂L/∂ℓ on the device (the composed backward's
// item() would wait for the GPU).
#ifdef STRIPES_HAVE_CUDA
static bool bce_fusable_on_gpu(const Tensor& logits, const Tensor& targets) {
  return logits.device() == Device::CUDA && cuda::fused_kernels_enabled() && targets.device() == Device::CUDA &&
         logits.is_contiguous() &&
         targets.is_contiguous() && targets.dtype() == logits.dtype();
}
#endif

static Tensor bce_with_logits_forward(const Tensor& logits, const Tensor& targets) {
  STRIPES_CHECK(logits.shape() == targets.shape(), "binary_cross_entropy_with_logits: logits {} and targets {} differ",
                logits.description(), targets.description());
#ifdef STRIPES_HAVE_CUDA
  if (bce_fusable_on_gpu(logits, targets)) return cuda_kernels::bce_with_logits_forward_cuda(logits, targets);
#endif
  return bce_fusable(logits, targets) ? bce_with_logits_forward_fused(logits, targets)
                                      : bce_with_logits_forward_composed(logits, targets);
}
static void bce_with_logits_backward(GradTarget grad_logits, const Tensor& grad_loss, const Tensor& logits,
                                     const Tensor& targets) {
#ifdef STRIPES_HAVE_CUDA
  if (bce_fusable_on_gpu(logits, targets)) {
    grad_logits += cuda_kernels::bce_with_logits_backward_cuda(grad_loss, logits, targets);
    return;
  }
#endif
  if (bce_fusable(logits, targets)) bce_with_logits_backward_fused(grad_logits, grad_loss, logits, targets);
  else bce_with_logits_backward_composed(grad_logits, grad_loss, logits, targets);
}

BceComparison compare_bce_fused_with_composed(const Tensor& logits, const Tensor& targets) {
  auto run = [&](bool fused) {
    const Tensor loss = fused ? bce_with_logits_forward_fused(logits, targets) : bce_with_logits_forward_composed(logits, targets);
    Edge edge{nullptr, nullptr, logits.shape(), logits.dtype(), Device::CPU};
    Tensor grad;
    GradTarget target(&grad, &edge);
    const Tensor one = Tensor::scalar(1.0, logits.dtype());
    if (fused) bce_with_logits_backward_fused(target, one, logits, targets);
    else bce_with_logits_backward_composed(target, one, logits, targets);
    return std::vector<Tensor>{loss, grad};
  };
  return {run(true), run(false)};
}
Var binary_cross_entropy_with_logits(const Var& logits, const Tensor& targets_anywhere) {
  const Tensor targets = targets_anywhere.to(logits.value().device());
  SavedTensor saved_logits(logits.value(), "binary_cross_entropy_with_logits", "logits");
  return make_result("binary_cross_entropy_with_logits", bce_with_logits_forward(logits.value(), targets), {logits},
                     [saved_logits, targets](BackwardContext& ctx) {
                       bce_with_logits_backward(ctx.grad_target(0), ctx.grad_output(), saved_logits.get(), targets);
                     });
}

// ---- cross_entropy -------------------------------------------------------------------------------
// ℓ = -(1/N') Σ_{i: t_i ≠ ignore} log_softmax(z_i)[t_i]        z: [N, C]  t: int64 [N]
static Tensor cross_entropy_forward(Tensor& log_probabilities, Tensor& valid, const Tensor& logits,
                                    const Tensor& targets, int64_t ignore_index) {
  STRIPES_CHECK(logits.dim() == 2 && targets.dim() == 1 && targets.size(0) == logits.size(0),
                "cross_entropy: expected logits [N, C] and targets [N], got {} and {}", logits.description(),
                targets.description());
  STRIPES_CHECK(targets.dtype() == DType::Int64, "cross_entropy: targets must be int64, got {}", targets.description());
  const Tensor shifted = logits - max(logits, {1}, true);
  log_probabilities = shifted - log(sum(exp(shifted), {1}, true));
  const Tensor ignored = equal(targets, Tensor::scalar(double(ignore_index), DType::Int64));
  valid = 1.0 - ignored.to(logits.dtype());
  const Tensor safe_targets = where(ignored, Tensor::scalar(0.0, DType::Int64), targets);  // any in-range class
  const Tensor picked = gather(log_probabilities, 1, safe_targets.unsqueeze(1)).squeeze(1);  // [N]
  const double count = std::max(sum(valid).item(), 1.0);
  return sum(picked * valid) * (-1.0 / count);
}
// ∂ℓ/∂z_ij = (softmax(z_i)_j - [j = t_i]) / N'   for valid rows, 0 for ignored rows
static void cross_entropy_backward(Tensor& grad_logits, const Tensor& grad_loss, const Tensor& log_probabilities,
                                   const Tensor& valid, const Tensor& targets, int64_t ignore_index) {
  const double count = std::max(sum(valid).item(), 1.0);
  Tensor one_hot = Tensor::zeros(log_probabilities.shape(), log_probabilities.dtype(), log_probabilities.device());
  const Tensor safe_targets = where(equal(targets, Tensor::scalar(double(ignore_index), DType::Int64)),
                                    Tensor::scalar(0.0, DType::Int64), targets);
  scatter_add_(one_hot, 1, safe_targets.unsqueeze(1), Tensor::ones({targets.size(0), 1}, log_probabilities.dtype(), log_probabilities.device()));
  grad_logits.add_((exp(log_probabilities) - one_hot) * valid.unsqueeze(1) * (grad_loss.item() / count));
}
Var cross_entropy(const Var& logits, const Tensor& targets_anywhere, int64_t ignore_index) {
  const Tensor targets = targets_anywhere.to(logits.value().device());
  Tensor log_probabilities, valid;
  Tensor loss = cross_entropy_forward(log_probabilities, valid, logits.value(), targets, ignore_index);
  return make_result("cross_entropy", loss, {logits}, [log_probabilities, valid, targets, ignore_index](BackwardContext& ctx) {
    cross_entropy_backward(ctx.grad_input(0), ctx.grad_output(), log_probabilities, valid, targets, ignore_index);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_loss_gradchecks(GradcheckRegistry& r) {
  for (const Shape& shape : {Shape{6}, Shape{2, 3, 4}}) {
    r.add({"binary_cross_entropy_with_logits", shape_str(shape), {normal(shape), probability(shape)},
           [](const std::vector<Var>& v) { return binary_cross_entropy_with_logits(v[0], v[1].value()); }});
  }
  r.add({"cross_entropy", "logits [5, 4], targets [5]", {normal({5, 4}), indices({5}, 4)},
         [](const std::vector<Var>& v) { return cross_entropy(v[0], v[1].value()); }});
  r.add({"cross_entropy", "logits [6, 3], targets [6] with ignore_index 2", {normal({6, 3}), indices({6}, 3)},
         [](const std::vector<Var>& v) { return cross_entropy(v[0], v[1].value(), 2); }});
}

}  // namespace stripes::ag
