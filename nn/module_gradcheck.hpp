// Modules through the generic finite-difference checker (autograd/gradcheck.hpp).
//
// The checker differentiates with respect to the Vars it draws, so a module's parameters are
// made inputs of the case: the case's inputs are the forward inputs followed by one N(0,1) input
// per parameter (in named_parameters() order), and the case's function binds the module's
// parameters to those inputs (Module::bind_parameters routes each parameter's gradient to its
// input through an identity op) before calling the forward. One check thus compares the
// gradients of the inputs and of every parameter with central differences, and any module —
// ours or the attention variants — gets checked with one line:
//
//   registry.add(module_gradcheck("nn.Linear", "x [2, 3, 4]",
//       [] { Generator init(1); return std::make_shared<Linear>(4, 5, init, true, DType::Float64); },
//       {ag::normal({2, 3, 4})},
//       [](Linear& m, const std::vector<ag::Var>& in) { return m.forward(in[0]); }));
//
// Build modules in float64 with tiny sizes. A module that draws random numbers in its forward
// (dropout) must re-seed its generator inside `forward`, so every evaluation sees the same mask.
#pragma once

#include "autograd/gradcheck.hpp"
#include "nn/module.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stripes::nn {

ag::GradcheckCase module_gradcheck_case(std::string op, std::string label, std::shared_ptr<Module> module,
                                        std::vector<ag::InputSpec> inputs,
                                        std::function<ag::Var(Module&, const std::vector<ag::Var>&)> forward,
                                        double tolerance = 1e-6);

// `build()` returns a std::shared_ptr<M>; `forward(M&, inputs)` returns the output Var.
template <typename Build, typename Forward>
ag::GradcheckCase module_gradcheck(std::string op, std::string label, Build build, std::vector<ag::InputSpec> inputs,
                                   Forward forward, double tolerance = 1e-6) {
  auto module = build();
  using M = typename decltype(module)::element_type;
  return module_gradcheck_case(
      std::move(op), std::move(label), module, std::move(inputs),
      [forward](Module& m, const std::vector<ag::Var>& in) { return forward(static_cast<M&>(m), in); }, tolerance);
}

// Every module case of nn/, each family registering its own at the bottom of its file.
const ag::GradcheckRegistry& module_gradchecks();
void register_linear_gradchecks(ag::GradcheckRegistry& registry);
void register_embedding_gradchecks(ag::GradcheckRegistry& registry);
void register_layer_norm_module_gradchecks(ag::GradcheckRegistry& registry);
void register_dropout_module_gradchecks(ag::GradcheckRegistry& registry);
void register_feed_forward_gradchecks(ag::GradcheckRegistry& registry);
void register_softmax_attention_gradchecks(ag::GradcheckRegistry& registry);
void register_transformer_gradchecks(ag::GradcheckRegistry& registry);

}  // namespace stripes::nn
