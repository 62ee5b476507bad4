// The module tree: named parameters, named children, train/eval mode.
//
// A Module owns parameters (leaf ag::Vars that require grad) and child modules, both registered
// under a short name. Each module knows its dotted path from the root of its tree, `full_name()`
// ("" for the root, "layers.0.attn" for the attention of the first layer); a parameter's full
// name is that path plus its own name ("layers.0.attn.q_proj.weight"). The recorder
// (autograd/recorder.hpp) and the checkpoints use these names, so a dump, a checkpoint and an
// error message all name the same tensor the same way.
//
//   class Linear : public Module {
//     Linear(...) { weight_ = register_parameter("weight", init); }
//     ag::Var forward(const ag::Var& x);   // each module declares its own forward signature
//   };
//   auto layer = register_module("q_proj", std::make_shared<Linear>(...));
//
// There is no virtual forward in the base: modules differ in what they take (features, tokens,
// attention inputs). Modules are held by shared_ptr and are not copyable (a copy would share the
// parameters' storage without anyone noticing).
#pragma once

#include "autograd/recorder.hpp"
#include "autograd/variable.hpp"
#include "tensor/tensor.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stripes::nn {

using NamedParameters = std::vector<std::pair<std::string, ag::Var>>;

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // ---- building the tree -----------------------------------------------------------------------
  // Stores `init` as a leaf that requires grad and returns it (keep the returned handle as a
  // member: it shares its data with the stored one). `name` is a short name without dots, unique
  // among this module's parameters and children. `init` must be a float tensor.
  ag::Var register_parameter(const std::string& name, Tensor init);
  // Adopts `module` as the child `name`; its full name (and its whole subtree's) becomes
  // full_name() + "." + name. A module can have only one parent.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    adopt_child(name, module);
    return module;
  }

  // ---- parameters ------------------------------------------------------------------------------
  // Every parameter of this subtree in registration order (a child's parameters where the child
  // was registered), named relative to this module: for the root these are the full names.
  NamedParameters named_parameters() const;
  std::vector<ag::Var> parameters() const;
  int64_t parameter_count() const;  // total number of scalar parameters
  // The parameter named `name` relative to this module; throws naming the module if absent.
  ag::Var parameter(const std::string& name) const;
  void zero_grad();                 // drops every parameter's gradient

  // ---- device ----------------------------------------------------------------------------------
  // Moves every parameter of this subtree to `device` (values copied unchanged, gradients dropped).
  // A parameter keeps its identity: every ag::Var handle to it (a module's member, an optimizer's
  // list) shares its VariableData and so sees the moved value. Tensors a module makes inside a
  // forward (positions, noise, random features, masks) follow the device of that forward's inputs.
  void to(Device device);
  // The device of the parameters (CPU for a module without any); throws naming the first two
  // parameters that disagree, which only a half-finished move can cause.
  Device device() const;

  // ---- children --------------------------------------------------------------------------------
  // Direct children in registration order.
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children() const;
  // This module (name "") and every descendant, depth first, named relative to this module.
  std::vector<std::pair<std::string, const Module*>> named_modules() const;

  // ---- mode ------------------------------------------------------------------------------------
  // Training mode (the default) enables dropout; eval() disables it. Applies to the whole subtree.
  void train(bool on = true);
  void eval() { train(false); }
  bool training() const { return training_; }

  // ---- names -----------------------------------------------------------------------------------
  // The dotted path of this module from the root of its tree ("" for the root).
  const std::string& full_name() const { return full_name_; }
  // full_name() + "." + leaf, or just `leaf` at the root: the name a module records a tensor under.
  std::string scoped_name(std::string_view leaf) const;
  // A one-line description of this module alone, e.g. "Linear(32 -> 64, bias)".
  virtual std::string describe() const { return "Module"; }
  // The tree, one module per line with its parameter count (for printing models).
  std::string summary() const;

  // ---- functional use (gradient checks) --------------------------------------------------------
  // Makes parameter i (in named_parameters() order) compute as `values[i]`: its value becomes
  // values[i]'s and its gradient flows into values[i] (through an identity op). This is how the
  // generic finite-difference checker treats parameters as inputs (nn/module_gradcheck.hpp).
  // Afterwards the parameters are no longer leaves: use it on throwaway modules only.
  void bind_parameters(const std::vector<ag::Var>& values);

 protected:
  Module() = default;

  // Hands `value` to the recorder under scoped_name(leaf) when a recording is active; one branch
  // otherwise. See autograd/recorder.hpp.
  void record(std::string_view leaf, const ag::Var& value, std::string_view op, std::string_view description) const {
    if (ag::recorder_active()) ag::record(full_name_, leaf, value, op, description);
  }
  void record(std::string_view leaf, const Tensor& value, std::string_view op, std::string_view description) const {
    if (ag::recorder_active()) ag::record(full_name_, leaf, value, op, description);
  }
  // Throws stripes::Error "<full name> (<describe()>): <message>" — for shape errors in forwards.
  [[noreturn]] void fail(const std::string& message) const;
  // Display name for messages: full_name(), or "<root>" for the root.
  std::string display_name() const;

 private:
  struct Entry {                      // one registered parameter or child, in registration order
    std::string name;
    ag::Var parameter;                // defined for a parameter
    std::shared_ptr<Module> module;   // non-null for a child
  };
  void adopt_child(const std::string& name, std::shared_ptr<Module> child);
  void check_new_name(const std::string& name, const char* what) const;
  void set_full_name(std::string full_name);  // renames this subtree (and its parameters' Var names)
  void collect_parameters(const std::string& prefix, NamedParameters& out) const;
  void collect_modules(const std::string& prefix, std::vector<std::pair<std::string, const Module*>>& out) const;

  std::vector<Entry> entries_;
  std::string full_name_;
  bool training_ = true;
  bool has_parent_ = false;
};

// "a.b" for non-empty a, else "b".
std::string join_name(std::string_view prefix, std::string_view name);

}  // namespace stripes::nn
