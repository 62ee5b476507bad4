#include "nn/optim/optimizer.hpp"

#include "autograd/recorder.hpp"
#include "nn/optim/adam_update.hpp"
#include "tensor/io/tensor_io.hpp"
#include "tensor/parallel.hpp"

#include <cmath>

namespace stripes::nn {

Optimizer::Optimizer(NamedParameters parameters) : parameters_(std::move(parameters)) {
  for (const auto& [name, parameter] : parameters_) {
    STRIPES_CHECK(parameter.defined() && parameter.is_leaf() && parameter.requires_grad(),
                  "optimizer: '{}' is not a leaf that requires grad", name);
    STRIPES_CHECK(parameter.value().is_contiguous(), "optimizer: parameter '{}' is not contiguous", name);
  }
}

void Optimizer::zero_grad() {
  for (auto& [name, parameter] : parameters_) parameter.zero_grad();
}

// ---- Adam / AdamW --------------------------------------------------------------------------------

Adam::Adam(NamedParameters parameters, AdamOptions options) : Adam(std::move(parameters), options, false) {}

Adam::Adam(NamedParameters parameters, AdamOptions options, bool decoupled_weight_decay)
    : Optimizer(std::move(parameters)), options_(options), decoupled_weight_decay_(decoupled_weight_decay) {
  STRIPES_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
                "{}: betas ({}, {}) must be in [0, 1)", type(), options.beta1, options.beta2);
  STRIPES_CHECK(options.eps > 0 && options.weight_decay >= 0 && options.learning_rate >= 0,
                "{}: eps {} must be positive, weight_decay {} and learning rate {} non-negative", type(), options.eps,
                options.weight_decay, options.learning_rate);
  learning_rate_ = options.learning_rate;
  for (const auto& [name, parameter] : parameters_) {
    m_.push_back(Tensor::zeros(parameter.shape(), parameter.dtype(), parameter.value().device()));
    v_.push_back(Tensor::zeros(parameter.shape(), parameter.dtype(), parameter.value().device()));
  }
}

namespace {
// One parameter's update on the CPU, elementwise. param, m, v, grad: [n] (contiguous, one dtype T)
template <typename T>
void adam_update(T* param, T* m, T* v, const T* grad, int64_t n, const AdamStep& s) {
  for (int64_t i = 0; i < n; ++i) adam_update_element<T>(param[i], m[i], v[i], grad[i], s);
}
}  // namespace

void Adam::step() {
  ++step_count_;
  const AdamStep s{learning_rate_,
                   options_.beta1,
                   options_.beta2,
                   options_.eps,
                   options_.weight_decay,
                   1.0 - std::pow(options_.beta1, double(step_count_)),
                   1.0 - std::pow(options_.beta2, double(step_count_)),
                   decoupled_weight_decay_};
  for (size_t i = 0; i < parameters_.size(); ++i) {
    ag::Var& parameter = parameters_[i].second;
    const Tensor grad = parameter.grad().defined() ? parameter.grad().contiguous() : Tensor();
    if (!grad.defined()) continue;
    STRIPES_CHECK(grad.shape() == parameter.shape() && grad.dtype() == parameter.dtype() &&
                      grad.device() == parameter.value().device(),
                  "{}: gradient {} of '{}' does not match the parameter {}", type(), grad.description(),
                  parameters_[i].first, parameter.value().description());
    // The moments follow their parameter (a model moved with Module::to after this optimizer was made).
    const Device device = parameter.value().device();
    m_[i] = m_[i].to(device);  // the same tensor when it is already there
    v_[i] = v_[i].to(device);
    if (device == Device::CUDA) {
#ifdef STRIPES_HAVE_CUDA
      adam_update_cuda(parameter.mutable_value(), m_[i], v_[i], grad, s);
      continue;
#endif
    }
    dispatch_floating(parameter.dtype(), type(), [&]<typename T>() {
      T* param = parameter.mutable_value().mutable_data<T>();
      T* m = m_[i].mutable_data<T>();
      T* v = v_[i].mutable_data<T>();
      const T* g = grad.data<T>();
      // elementwise: any split over the threads gives the same numbers
      parallel_for(parameter.numel(), kParallelGrain / 8, [&](int64_t begin, int64_t end) {
        adam_update<T>(param + begin, m + begin, v + begin, g + begin, end - begin, s);
      });
    });
  }
}

void Adam::save_state(io::Hdf5File& file, const std::string& group) const {
  file.create_group(group);
  file.write_attribute(group, "type", type());
  file.write_attribute(group, "learning_rate", learning_rate_);
  file.write_attribute(group, "beta1", options_.beta1);
  file.write_attribute(group, "beta2", options_.beta2);
  file.write_attribute(group, "eps", options_.eps);
  file.write_attribute(group, "weight_decay", options_.weight_decay);
  file.write_attribute(group, "step_count", step_count_);
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const std::string& name = parameters_[i].first;
    const std::string path = ag::dump_group_path(name);
    io::save_tensor(file, group + "/m/" + path, m_[i], {{"name", name}, {"description", "Adam first moment"}});
    io::save_tensor(file, group + "/v/" + path, v_[i], {{"name", name}, {"description", "Adam second moment"}});
  }
}

void Adam::load_state(const io::Hdf5File& file, const std::string& group) {
  STRIPES_CHECK(file.is_group(group), "checkpoint {}: no optimizer state (group '{}' is missing)", file.path(), group);
  const std::string stored_type = file.read_string_attribute(group, "type");
  STRIPES_CHECK(stored_type == type(), "checkpoint {}: the optimizer state is for '{}', this optimizer is '{}'",
                file.path(), stored_type, type());
  std::vector<Tensor> m, v;
  for (size_t i = 0; i < parameters_.size(); ++i) {
    const std::string& name = parameters_[i].first;
    const ag::Var& parameter = parameters_[i].second;
    const std::string path = ag::dump_group_path(name);
    m.push_back(io::load_tensor_expecting(file, group + "/m/" + path, parameter.shape(), parameter.dtype(),
                                          fmt::format("checkpoint {}: optimizer first moment of parameter '{}'", file.path(), name))
                    .to(parameter.value().device()));
    v.push_back(io::load_tensor_expecting(file, group + "/v/" + path, parameter.shape(), parameter.dtype(),
                                          fmt::format("checkpoint {}: optimizer second moment of parameter '{}'", file.path(), name))
                    .to(parameter.value().device()));
  }
  m_ = std::move(m);
  v_ = std::move(v);
  learning_rate_ = file.read_double_attribute(group, "learning_rate");
  options_.beta1 = file.read_double_attribute(group, "beta1");
  options_.beta2 = file.read_double_attribute(group, "beta2");
  options_.eps = file.read_double_attribute(group, "eps");
  options_.weight_decay = file.read_double_attribute(group, "weight_decay");
  step_count_ = file.read_int_attribute(group, "step_count");
}

}  // namespace stripes::nn
