// Reverse-mode automatic differentiation: variables, the tape and backward().
//
// A Var is a tensor value plus, when it was computed by a differentiable op while gradients were
// enabled, the Node that computed it. Nodes are numbered in creation order: that numbering *is*
// the tape. backward() collects the nodes reachable from the output and runs their backward
// functions in reverse tape order, each one accumulating (+=) into the gradients of its inputs.
//
// Each op lives in autograd/ops/*.cpp as three adjacent pieces:
//   X_forward(...)   the math on tensors, outputs first then inputs,
//   X_backward(...)  the hand-written gradient, `grad_input += local derivative * grad_output`,
//   X(Var...)        records a Node whose backward calls X_backward with what X_forward saved.
#pragma once

#include "tensor/math.hpp"
#include "tensor/tensor.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stripes::ag {

class Node;

// What a Var points to. Leaves (parameters, inputs) have no grad_fn.
struct VariableData {
  Tensor value;
  Tensor grad;                     // accumulated gradient: leaves, and non-leaves that retain_grad()
  bool requires_grad = false;
  bool retains_grad = false;
  std::shared_ptr<Node> grad_fn;   // the op that computed this value, null for leaves
  std::string name;                // optional, for error messages and dumps
};

class Var {
 public:
  Var() = default;
  // A leaf. requires_grad = true makes backward() accumulate into grad().
  explicit Var(Tensor value, bool requires_grad = false, std::string name = {});

  bool defined() const { return data_ != nullptr; }
  const Tensor& value() const;
  // For in-place updates of a leaf (optimizer steps). Writes bump the storage version, so a graph
  // that saved this value refuses to run backward afterwards.
  Tensor& mutable_value();
  const Tensor& grad() const;   // undefined until a backward pass reached this variable
  bool requires_grad() const;
  bool is_leaf() const;
  const std::string& name() const;
  Var& set_name(std::string name);
  const std::shared_ptr<Node>& grad_fn() const;

  const Shape& shape() const { return value().shape(); }
  int64_t dim() const { return value().dim(); }
  int64_t size(int64_t axis) const { return value().size(axis); }
  int64_t numel() const { return value().numel(); }
  DType dtype() const { return value().dtype(); }
  double item() const { return value().item(); }

  // Backward from a scalar output (gradient 1), or with an explicit output gradient.
  // retain_graph = false frees every saved tensor on the way (a second backward then fails).
  void backward(bool retain_graph = false) const;
  void backward(const Tensor& grad_output, bool retain_graph = false) const;

  void retain_grad();         // keep the gradient of this non-leaf after backward
  void zero_grad();           // drop the accumulated gradient
  Var detach() const;         // same value, cut from the graph

  const std::shared_ptr<VariableData>& data() const { return data_; }

 private:
  std::shared_ptr<VariableData> data_;
};

// A tensor saved by a forward for use in its backward. It remembers the storage version at save
// time; reading it after an in-place modification throws, naming the op and the tensor.
class SavedTensor {
 public:
  SavedTensor() = default;
  SavedTensor(Tensor tensor, std::string op, std::string name);
  const Tensor& get() const;
  const std::string& name() const { return name_; }

 private:
  Tensor tensor_;
  uint64_t version_ = 0;
  std::string name_;
  std::string op_;
};

// One input of a Node: where its gradient goes (the producing node, or the leaf itself).
struct Edge {
  std::shared_ptr<Node> node;            // non-leaf input: accumulate into node->grad_output
  std::shared_ptr<VariableData> leaf;    // leaf input that requires grad: accumulate into leaf->grad
  Shape shape;
  DType dtype = DType::Float32;
  Device device = Device::CPU;
  bool needs_grad() const { return node != nullptr || leaf != nullptr; }
};

class BackwardContext;

class Node {
 public:
  std::string op;                       // "matmul", "layer_norm", ...
  uint64_t sequence = 0;                // position on the tape
  std::vector<Edge> inputs;
  std::function<void(BackwardContext&)> backward;
  Tensor grad_output;                   // gradient of this node's output, accumulated
  Shape output_shape;
  DType output_dtype = DType::Float32;
  Device output_device = Device::CPU;
  std::weak_ptr<VariableData> output;   // for retain_grad and names
  bool released = false;                // backward ran without retain_graph
  const char* profile_label = nullptr;  // "<component> (backward)" when profiling was on (tensor/profile.hpp)
};

// Where the gradient of one input goes: `grad_x += contribution`. The first contribution of the
// input's exact shape that nobody else holds (a fresh temporary such as `grad_y * b`) *becomes* the
// gradient buffer ("set on first contribution"): no zero-filled buffer, no extra pass to add into
// it. Later contributions are added in place. Broadcast contributions are summed down first.
class GradTarget {
 public:
  GradTarget() = default;  // an input that needs no gradient
  explicit GradTarget(Tensor* buffer, const Edge* edge) : buffer_(buffer), edge_(edge) {}
  bool defined() const { return buffer_ != nullptr; }
  void operator+=(Tensor contribution);
  // The accumulated gradient, created zero-filled if no contribution came yet, for kernels that
  // add into it in place.
  Tensor& buffer();

 private:
  Tensor* buffer_ = nullptr;
  const Edge* edge_ = nullptr;
};

// Handed to a Node's backward: the gradient of its output, and the gradient buffers of its inputs
// (zero-initialised on first use; an undefined tensor when that input needs no gradient, so a
// backward can skip work with `if (grad_x.defined())`).
class BackwardContext {
 public:
  explicit BackwardContext(Node& node) : node_(node) {}
  const Tensor& grad_output() const { return node_.grad_output; }
  // Moves the output gradient out of the node (it is dropped after this backward anyway), so that
  // an op whose local derivative is the identity (add, reshape) can hand it on without a copy.
  // grad_output() is undefined afterwards.
  Tensor take_grad_output() { return std::move(node_.grad_output); }
  bool needs_grad(size_t input) const { return node_.inputs.at(input).needs_grad(); }
  Tensor& grad_input(size_t input);   // the buffer, zero-filled on first use
  GradTarget grad_target(size_t input);  // the same gradient, accumulated with +=

 private:
  Node& node_;
  Tensor no_grad_;  // the undefined tensor handed out for inputs that need no gradient
};

// grad += contribution, summing `contribution` down to grad's shape first (the reverse of
// broadcasting). Does nothing when grad is undefined (that input needs no gradient).
void accumulate_grad(Tensor& grad, const Tensor& contribution);

// Record the result of an op: when gradients are enabled and some input requires them, a Node
// with `backward` is put on the tape; otherwise the result is a plain leaf without history.
Var make_result(std::string op, Tensor value, const std::vector<Var>& inputs,
                std::function<void(BackwardContext&)> backward);

// ---- gradient mode ------------------------------------------------------------------------------
bool grad_enabled();
class NoGradGuard {  // { NoGradGuard no_grad; ... } : ops inside record nothing
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace stripes::ag
