#include "autograd/variable.hpp"

#include "tensor/profile.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_set>

namespace stripes::ag {

namespace {
thread_local bool g_grad_enabled = true;
std::atomic<uint64_t> g_tape_position{0};
}  // namespace

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

// ---- Var -----------------------------------------------------------------------------------------

Var::Var(Tensor value, bool requires_grad, std::string name) : data_(std::make_shared<VariableData>()) {
  STRIPES_CHECK(value.defined(), "Var: cannot wrap an undefined tensor{}", name.empty() ? "" : " '" + name + "'");
  STRIPES_CHECK(!requires_grad || is_floating(value.dtype()), "Var '{}': only float tensors can require grad, got {}",
                name, value.description());
  data_->value = std::move(value);
  data_->requires_grad = requires_grad;
  data_->name = std::move(name);
}

const Tensor& Var::value() const {
  STRIPES_CHECK(data_ != nullptr, "use of an undefined Var");
  return data_->value;
}
Tensor& Var::mutable_value() {
  STRIPES_CHECK(data_ != nullptr, "use of an undefined Var");
  return data_->value;
}
const Tensor& Var::grad() const { return data_->grad; }
bool Var::requires_grad() const { return data_ && data_->requires_grad; }
bool Var::is_leaf() const { return data_->grad_fn == nullptr; }
const std::string& Var::name() const { return data_->name; }
Var& Var::set_name(std::string name) {
  data_->name = std::move(name);
  return *this;
}
const std::shared_ptr<Node>& Var::grad_fn() const { return data_->grad_fn; }
void Var::retain_grad() { data_->retains_grad = true; }
void Var::zero_grad() { data_->grad = Tensor(); }
Var Var::detach() const { return Var(data_->value, false, data_->name); }

void Var::backward(bool retain_graph) const {
  STRIPES_CHECK(numel() == 1, "backward: the output {} is not a scalar; pass its gradient explicitly",
                value().description());
  backward(Tensor::ones(shape(), dtype(), value().device()), retain_graph);
}

void Var::backward(const Tensor& grad_output, bool retain_graph) const {
  STRIPES_CHECK(requires_grad(), "backward: '{}' does not require grad (no input of its graph requires grad)",
                name().empty() ? value().description() : name());
  STRIPES_CHECK(grad_output.shape() == shape() && grad_output.dtype() == dtype() && grad_output.device() == value().device(),
                "backward: output gradient {} does not match the output {}", grad_output.description(),
                value().description());
  if (is_leaf()) {
    accumulate_grad(data_->grad.defined() ? data_->grad : (data_->grad = Tensor::zeros(shape(), dtype(), value().device())), grad_output);
    return;
  }
  // Collect the nodes reachable from this output; replay them in reverse tape order.
  std::vector<Node*> nodes;
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack{data_->grad_fn.get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (!seen.insert(node).second) continue;
    STRIPES_CHECK(!node->released,
                  "backward: the graph through op '{}' was already freed by an earlier backward(); "
                  "pass retain_graph = true to the first call to run backward twice",
                  node->op);
    nodes.push_back(node);
    for (const Edge& edge : node->inputs) {
      if (edge.node) stack.push_back(edge.node.get());
    }
  }
  std::sort(nodes.begin(), nodes.end(), [](const Node* a, const Node* b) { return a->sequence > b->sequence; });

  Node& root = *data_->grad_fn;
  if (!root.grad_output.defined()) root.grad_output = Tensor::zeros(root.output_shape, root.output_dtype, root.output_device);
  root.grad_output.add_(grad_output);
  for (Node* node : nodes) {
    if (node->grad_output.defined()) {
      // Kept gradients are copied first: the backward may move grad_output on (take_grad_output).
      if (auto output = node->output.lock(); output && output->retains_grad) {
        if (!output->grad.defined()) output->grad = Tensor::zeros(node->output_shape, node->output_dtype, node->output_device);
        output->grad.add_(node->grad_output);
      }
      BackwardContext context(*node);
      profile::Scope scope(node->profile_label);
      node->backward(context);
    }
    node->grad_output = Tensor();  // gradients of intermediates are not kept (memory)
    if (!retain_graph) {
      node->backward = nullptr;  // frees the tensors it saved
      node->released = true;
    }
  }
}

// ---- saved tensors -------------------------------------------------------------------------------

SavedTensor::SavedTensor(Tensor tensor, std::string op, std::string name)
    : tensor_(std::move(tensor)), version_(tensor_.version()), name_(std::move(name)), op_(std::move(op)) {}

const Tensor& SavedTensor::get() const {
  STRIPES_CHECK(tensor_.version() == version_,
                "backward of '{}': the tensor '{}' it saved was modified in place after the forward "
                "(version {} at save, {} now); clone it before modifying",
                op_, name_, version_, tensor_.version());
  return tensor_;
}

// ---- backward plumbing ---------------------------------------------------------------------------

static Tensor* gradient_slot(const Edge& edge) {
  if (edge.node) return &edge.node->grad_output;
  if (edge.leaf) return &edge.leaf->grad;
  return nullptr;
}

GradTarget BackwardContext::grad_target(size_t input) {
  const Edge& edge = node_.inputs.at(input);
  Tensor* slot = gradient_slot(edge);
  return slot ? GradTarget(slot, &edge) : GradTarget();
}

void GradTarget::operator+=(Tensor contribution) {
  if (!defined()) return;
  Tensor& grad = *buffer_;
  if (contribution.shape() != edge_->shape) contribution = sum_to(contribution, edge_->shape);
  if (grad.defined()) {
    grad.add_(contribution);
  } else if (contribution.dtype() != edge_->dtype || contribution.device() != edge_->device) {
    grad = Tensor::zeros(edge_->shape, edge_->dtype, edge_->device);
    grad.add_(contribution);
  } else if (contribution.is_sole_owner_of_storage()) {
    grad = std::move(contribution);  // the buffer is this temporary: no fill, no add
  } else {
    grad = contribution.clone();     // shared (a saved tensor, another input's gradient): copy once
  }
}

Tensor& GradTarget::buffer() {
  STRIPES_CHECK(defined(), "GradTarget::buffer: this input needs no gradient");
  if (!buffer_->defined()) *buffer_ = Tensor::zeros(edge_->shape, edge_->dtype, edge_->device);
  return *buffer_;
}

Tensor& BackwardContext::grad_input(size_t input) {
  GradTarget target = grad_target(input);
  if (!target.defined()) {
    no_grad_ = Tensor();
    return no_grad_;
  }
  return target.buffer();
}

void accumulate_grad(Tensor& grad, const Tensor& contribution) {
  if (!grad.defined()) return;
  grad.add_(sum_to(contribution, grad.shape()));
}

Var make_result(std::string op, Tensor value, const std::vector<Var>& inputs,
                std::function<void(BackwardContext&)> backward) {
  bool any_requires_grad = false;
  for (const Var& input : inputs) any_requires_grad = any_requires_grad || input.requires_grad();
  if (!g_grad_enabled || !any_requires_grad) return Var(std::move(value));

  auto node = std::make_shared<Node>();
  node->op = std::move(op);
  node->sequence = g_tape_position.fetch_add(1);
  node->backward = std::move(backward);
  if (profile::enabled()) node->profile_label = profile::backward_label(profile::current_label());
  node->output_shape = value.shape();
  node->output_dtype = value.dtype();
  node->output_device = value.device();
  for (const Var& input : inputs) {
    Edge edge;
    edge.shape = input.shape();
    edge.dtype = input.dtype();
    edge.device = input.value().device();
    if (input.requires_grad()) {
      if (input.is_leaf()) edge.leaf = input.data();
      else edge.node = input.grad_fn();
    }
    node->inputs.push_back(std::move(edge));
  }
  Var result(std::move(value));
  result.data()->requires_grad = true;
  result.data()->grad_fn = node;
  node->output = result.data();
  return result;
}

}  // namespace stripes::ag
