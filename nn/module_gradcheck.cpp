#include "nn/module_gradcheck.hpp"

#include <fmt/format.h>

namespace stripes::nn {

ag::GradcheckCase module_gradcheck_case(std::string op, std::string label, std::shared_ptr<Module> module,
                                        std::vector<ag::InputSpec> inputs,
                                        std::function<ag::Var(Module&, const std::vector<ag::Var>&)> forward,
                                        double tolerance) {
  const size_t input_count = inputs.size();
  std::string parameter_names;
  for (const auto& [name, parameter] : module->named_parameters()) {
    STRIPES_CHECK(parameter.dtype() == DType::Float64, "module_gradcheck {}: parameter '{}' is {}; build the module in float64",
                  op, name, parameter.value().description());
    inputs.push_back(ag::normal(parameter.shape()));
    parameter_names += (parameter_names.empty() ? "" : ", ") + name;
  }
  ag::GradcheckCase check;
  check.op = std::move(op);
  check.label = fmt::format("{}; inputs {}..{} = {}", label, input_count, inputs.size() - 1, parameter_names);
  if (parameter_names.empty()) check.label = label;
  check.inputs = std::move(inputs);
  check.tolerance = tolerance;
  check.function = [module, input_count, forward](const std::vector<ag::Var>& values) {
    module->bind_parameters(std::vector<ag::Var>(values.begin() + long(input_count), values.end()));
    return forward(*module, std::vector<ag::Var>(values.begin(), values.begin() + long(input_count)));
  };
  return check;
}

const ag::GradcheckRegistry& module_gradchecks() {
  static const ag::GradcheckRegistry registry = [] {
    ag::GradcheckRegistry r;
    register_linear_gradchecks(r);
    register_embedding_gradchecks(r);
    register_layer_norm_module_gradchecks(r);
    register_dropout_module_gradchecks(r);
    register_feed_forward_gradchecks(r);
    register_softmax_attention_gradchecks(r);
    register_transformer_gradchecks(r);
    return r;
  }();
  return registry;
}

}  // namespace stripes::nn
