// Losses, reduced to a scalar mean.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"

namespace stripes::ag {

// ---- binary_cross_entropy_with_logits ------------------------------------------------------------
// ℓ = (1/N) Σ_i [ max(z_i, 0) - z_i y_i + ln(1 + e^{-|z_i|}) ]      z, y: [any], N = numel
// (= -y ln σ(z) - (1-y) ln(1-σ(z)), written so that no exp overflows)
static Tensor bce_with_logits_forward(const Tensor& logits, const Tensor& targets) {
  STRIPES_CHECK(logits.shape() == targets.shape(), "binary_cross_entropy_with_logits: logits {} and targets {} differ",
                logits.description(), targets.description());
  return mean(relu(logits) - logits * targets + softplus(-abs(logits)));
}
// ∂ℓ/∂z_i = (σ(z_i) - y_i) / N
static void bce_with_logits_backward(Tensor& grad_logits, const Tensor& grad_loss, const Tensor& logits,
                                     const Tensor& targets) {
  grad_logits.add_((sigmoid(logits) - targets) * (grad_loss.item() / double(logits.numel())));
}
Var binary_cross_entropy_with_logits(const Var& logits, const Tensor& targets_anywhere) {
  const Tensor targets = targets_anywhere.to(logits.value().device());
  SavedTensor saved_logits(logits.value(), "binary_cross_entropy_with_logits", "logits");
  return make_result("binary_cross_entropy_with_logits", bce_with_logits_forward(logits.value(), targets), {logits},
                     [saved_logits, targets](BackwardContext& ctx) {
                       bce_with_logits_backward(ctx.grad_input(0), ctx.grad_output(), saved_logits.get(), targets);
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
