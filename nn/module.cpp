// The module tree; see module.hpp.
#include "nn/module.hpp"

#include "autograd/ops.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace stripes::nn {

std::string join_name(std::string_view prefix, std::string_view name) {
  std::string out(prefix);
  if (!out.empty()) out.push_back('.');
  out.append(name);
  return out;
}

std::string Module::scoped_name(std::string_view leaf) const { return join_name(full_name_, leaf); }

std::string Module::display_name() const { return full_name_.empty() ? std::string("<root>") : full_name_; }

void Module::fail(const std::string& message) const {
  throw_error("{} ({}): {}", display_name(), describe(), message);
}

void Module::check_new_name(const std::string& name, const char* what) const {
  STRIPES_CHECK(!name.empty(), "{}: cannot register a {} with an empty name", display_name(), what);
  STRIPES_CHECK(name.find('.') == std::string::npos && name.find('/') == std::string::npos &&
                    name.find('#') == std::string::npos,
                "{}: {} name '{}' must not contain '.', '/' or '#'", display_name(), what, name);
  for (const Entry& entry : entries_) {
    STRIPES_CHECK(entry.name != name, "{}: a {} named '{}' is already registered", display_name(),
                  entry.module ? "module" : "parameter", name);
  }
}

ag::Var Module::register_parameter(const std::string& name, Tensor init) {
  check_new_name(name, "parameter");
  STRIPES_CHECK(init.defined() && is_floating(init.dtype()),
                "{}: parameter '{}' must be a float tensor, got {}", display_name(), name,
                init.defined() ? init.description() : std::string("an undefined tensor"));
  ag::Var parameter(init.contiguous(), /*requires_grad=*/true, scoped_name(name));
  entries_.push_back({name, parameter, nullptr});
  return parameter;
}

void Module::adopt_child(const std::string& name, std::shared_ptr<Module> child) {
  check_new_name(name, "module");
  STRIPES_CHECK(child != nullptr, "{}: cannot register a null module as '{}'", display_name(), name);
  STRIPES_CHECK(child.get() != this, "{}: a module cannot be its own child", display_name());
  STRIPES_CHECK(!child->has_parent_, "{}: cannot register '{}': that module already belongs to a tree as '{}'",
                display_name(), name, child->full_name_);
  child->has_parent_ = true;
  child->set_full_name(scoped_name(name));
  child->train(training_);
  entries_.push_back({name, ag::Var(), std::move(child)});
}

void Module::set_full_name(std::string full_name) {
  full_name_ = std::move(full_name);
  for (Entry& entry : entries_) {
    if (entry.module) entry.module->set_full_name(scoped_name(entry.name));
    else entry.parameter.set_name(scoped_name(entry.name));
  }
}

void Module::collect_parameters(const std::string& prefix, NamedParameters& out) const {
  for (const Entry& entry : entries_) {
    if (entry.module) entry.module->collect_parameters(join_name(prefix, entry.name), out);
    else out.emplace_back(join_name(prefix, entry.name), entry.parameter);
  }
}

NamedParameters Module::named_parameters() const {
  NamedParameters out;
  collect_parameters("", out);
  return out;
}

std::vector<ag::Var> Module::parameters() const {
  std::vector<ag::Var> out;
  for (auto& [name, parameter] : named_parameters()) out.push_back(parameter);
  return out;
}

int64_t Module::parameter_count() const {
  int64_t count = 0;
  for (auto& [name, parameter] : named_parameters()) count += parameter.numel();
  return count;
}

ag::Var Module::parameter(const std::string& name) const {
  for (auto& [candidate, parameter] : named_parameters()) {
    if (candidate == name) return parameter;
  }
  throw_error("{}: no parameter named '{}'", display_name(), name);
}

void Module::zero_grad() {
  for (auto& [name, parameter] : named_parameters()) parameter.zero_grad();
}

void Module::to(Device device) {
  // All copies first, then the swap: a failed copy (no GPU, out of memory) leaves every parameter
  // where it was.
  const NamedParameters parameters = named_parameters();
  std::vector<Tensor> moved;
  moved.reserve(parameters.size());
  for (const auto& [name, parameter] : parameters) {
    try {
      moved.push_back(parameter.value().to(device));
    } catch (const Error& error) {
      throw_error("{}: cannot move parameter '{}' {} to {}: {}", display_name(), name, parameter.value().description(),
                  device_name(device), error.what());
    }
  }
  for (size_t i = 0; i < parameters.size(); ++i) {
    const std::shared_ptr<ag::VariableData>& data = parameters[i].second.data();
    if (data->value.device() == device) continue;
    data->value = std::move(moved[i]);
    data->grad = Tensor();  // a gradient on the old device would not add to the next one
  }
}

Device Module::device() const {
  const NamedParameters parameters = named_parameters();
  if (parameters.empty()) return Device::CPU;
  const Device device = parameters.front().second.value().device();
  for (const auto& [name, parameter] : parameters) {
    STRIPES_CHECK(parameter.value().device() == device, "{}: parameter '{}' is on {} but '{}' is on {}", display_name(),
                  parameters.front().first, device_name(device), name, device_name(parameter.value().device()));
  }
  return device;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::children() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  for (const Entry& entry : entries_) {
    if (entry.module) out.emplace_back(entry.name, entry.module);
  }
  return out;
}

void Module::collect_modules(const std::string& prefix, std::vector<std::pair<std::string, const Module*>>& out) const {
  out.emplace_back(prefix, this);
  for (const Entry& entry : entries_) {
    if (entry.module) entry.module->collect_modules(join_name(prefix, entry.name), out);
  }
}

std::vector<std::pair<std::string, const Module*>> Module::named_modules() const {
  std::vector<std::pair<std::string, const Module*>> out;
  collect_modules("", out);
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (Entry& entry : entries_) {
    if (entry.module) entry.module->train(on);
  }
}

std::string Module::summary() const {
  std::string out;
  for (const auto& [name, module] : named_modules()) {
    const int64_t depth = name.empty() ? 0 : 1 + int64_t(std::count(name.begin(), name.end(), '.'));
    int64_t own = 0;
    for (const Entry& entry : module->entries_) {
      if (!entry.module) own += entry.parameter.numel();
    }
    const int64_t total = module->parameter_count();
    out += fmt::format("{:{}}{}{}  ({} parameters{})\n", "", 2 * depth, name.empty() ? "" : name + ": ",
                       module->describe(), total, own > 0 && own != total ? fmt::format(", {} own", own) : "");
  }
  return out;
}

void Module::bind_parameters(const std::vector<ag::Var>& values) {
  const NamedParameters parameters = named_parameters();
  STRIPES_CHECK(values.size() == parameters.size(), "{}: bind_parameters: {} values for {} parameters",
                display_name(), values.size(), parameters.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const auto& [name, parameter] = parameters[i];
    STRIPES_CHECK(values[i].shape() == parameter.shape() && values[i].dtype() == parameter.dtype(),
                  "{}: bind_parameters: parameter '{}' is {}, the value given is {}", display_name(), name,
                  parameter.value().description(), values[i].value().description());
    // reshape to the same shape is an identity op: its backward hands the gradient to values[i].
    const ag::Var through = ag::reshape(values[i], values[i].shape());
    ag::VariableData& data = *parameter.data();
    const std::string keep_name = data.name;
    data = *through.data();
    data.name = keep_name;
  }
}

}  // namespace stripes::nn
