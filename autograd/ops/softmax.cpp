// softmax and log_softmax along one axis, shifted by the maximum so exp never overflows.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#ifdef STRIPES_HAVE_CUDA
#include "autograd/ops/cuda/fused_row_ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#endif

namespace stripes::ag {

// The forms below are tensor ops, one pass each, on any device and along any axis. Over the last
// axis of a contiguous GPU tensor (attention scores, logits) each forward and backward is instead
// one kernel, one block per row (autograd/ops/cuda/softmax_kernels.cuh), with the same arithmetic.
#ifdef STRIPES_HAVE_CUDA
static bool fused_rows_on_gpu(const Tensor& x, int64_t axis) {
  return x.device() == Device::CUDA && cuda::fused_kernels_enabled() && axis == x.dim() - 1 && x.is_contiguous();
}
#endif

// ---- softmax -------------------------------------------------------------------------------------
// y_i = e^{x_i - m} / Σ_j e^{x_j - m}       m = max_j x_j; x, y: [..., n, ...] over `axis`
static Tensor softmax_forward(const Tensor& x, int64_t axis) {
#ifdef STRIPES_HAVE_CUDA
  if (fused_rows_on_gpu(x, axis)) return cuda_kernels::softmax_forward_cuda(x);
#endif
  const Tensor shifted_exp = exp(x - max(x, {axis}, true));
  return shifted_exp / sum(shifted_exp, {axis}, true);
}
// ∂L/∂x_i = y_i (∂L/∂y_i - Σ_j ∂L/∂y_j y_j)
static void softmax_backward(GradTarget grad_x, const Tensor& grad_y, const Tensor& y, int64_t axis) {
#ifdef STRIPES_HAVE_CUDA
  if (fused_rows_on_gpu(y, axis) && grad_y.device() == Device::CUDA && grad_y.dtype() == y.dtype()) {
    grad_x += cuda_kernels::softmax_backward_cuda(grad_y.contiguous(), y);
    return;
  }
#endif
  grad_x += y * (grad_y - sum(grad_y * y, {axis}, true));
}
Var softmax(const Var& x, int64_t axis) {
  const int64_t a = normalize_axis("softmax", axis, x.dim());
  Tensor y = softmax_forward(x.value(), a);
  SavedTensor saved_y(y, "softmax", "y");
  return make_result("softmax", y, {x}, [saved_y, a](BackwardContext& ctx) {
    softmax_backward(ctx.grad_target(0), ctx.grad_output(), saved_y.get(), a);
  });
}

// ---- log_softmax ---------------------------------------------------------------------------------
// y_i = x_i - m - ln Σ_j e^{x_j - m}
static Tensor log_softmax_forward(const Tensor& x, int64_t axis) {
#ifdef STRIPES_HAVE_CUDA
  if (fused_rows_on_gpu(x, axis)) return cuda_kernels::log_softmax_forward_cuda(x);
#endif
  const Tensor shifted = x - max(x, {axis}, true);
  return shifted - log(sum(exp(shifted), {axis}, true));
}
// ∂L/∂x_i = ∂L/∂y_i - e^{y_i} Σ_j ∂L/∂y_j
static void log_softmax_backward(GradTarget grad_x, const Tensor& grad_y, const Tensor& y, int64_t axis) {
#ifdef STRIPES_HAVE_CUDA
  if (fused_rows_on_gpu(y, axis) && grad_y.device() == Device::CUDA && grad_y.dtype() == y.dtype()) {
    grad_x += cuda_kernels::log_softmax_backward_cuda(grad_y.contiguous(), y);
    return;
  }
#endif
  grad_x += grad_y - exp(y) * sum(grad_y, {axis}, true);
}
Var log_softmax(const Var& x, int64_t axis) {
  const int64_t a = normalize_axis("log_softmax", axis, x.dim());
  Tensor y = log_softmax_forward(x.value(), a);
  SavedTensor saved_y(y, "log_softmax", "y");
  return make_result("log_softmax", y, {x}, [saved_y, a](BackwardContext& ctx) {
    log_softmax_backward(ctx.grad_target(0), ctx.grad_output(), saved_y.get(), a);
  });
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_softmax_gradchecks(GradcheckRegistry& r) {
  for (const auto& [shape, axis] : std::vector<std::pair<Shape, int64_t>>{{{5}, 0}, {{3, 4}, -1}, {{2, 4, 3}, 1}}) {
    const std::string label = fmt::format("{} axis {}", shape_str(shape), axis);
    r.add({"softmax", label, {normal(shape)}, [axis](const std::vector<Var>& v) { return softmax(v[0], axis); }});
    r.add({"log_softmax", label, {normal(shape)}, [axis](const std::vector<Var>& v) { return log_softmax(v[0], axis); }});
  }
}

}  // namespace stripes::ag
