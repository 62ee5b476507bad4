#include "tensor/tensor.hpp"

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"
#include "tensor/strided_loop.hpp"

#include <algorithm>
#include <cmath>

namespace stripes {

// ---- factories -----------------------------------------------------------------------------------

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
  for (int64_t s : shape) STRIPES_CHECK(s >= 0, "empty: negative size in shape {}", shape_str(shape));
  Tensor t;
  t.storage_ = std::make_shared<Storage>(size_t(shape_numel(shape)) * dtype_size(dtype), device);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0.0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1.0, dtype, device); }

Tensor Tensor::full(const Shape& shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, device);
  t.fill_(value);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::arange(int64_t count, DType dtype) {
  Tensor t = empty({count}, dtype);
  dispatch_any(dtype, [&]<typename T>() {
    T* out = t.mutable_data<T>();
    for (int64_t i = 0; i < count; ++i) out[i] = T(i);
  });
  return t;
}

// Fill a fresh contiguous tensor with value(counter) for counters first, first+1, ...
template <typename Draw>
static Tensor random_fill(const Shape& shape, Generator& generator, DType dtype, Device device, const char* op,
                          cuda::Distribution distribution, double a, double b, Draw&& draw) {
  Tensor t = Tensor::empty(shape, dtype, device);
  const int64_t n = t.numel();
  const uint64_t first = generator.reserve(uint64_t(n));
  if (device == Device::CUDA) {
    dispatch_floating(dtype, op, [&]<typename T>() {});  // the same dtype check as on the CPU
    cuda::random_into(t, distribution, generator.seed(), first, a, b);
    return t;
  }
  dispatch_floating(dtype, op, [&]<typename T>() {
    T* out = t.mutable_data<T>();
    parallel_for(n, 4096, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = T(draw(first + uint64_t(i)));
    });
  });
  return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& generator, DType dtype, Device device) {
  return random_fill(shape, generator, dtype, device, "randn", cuda::Distribution::Normal, 0.0, 0.0,
                     [&](uint64_t c) { return generator.normal(c); });
}

Tensor Tensor::rand(const Shape& shape, Generator& generator, DType dtype, double low, double high, Device device) {
  STRIPES_CHECK(low < high, "rand: empty interval [{}, {})", low, high);
  return random_fill(shape, generator, dtype, device, "rand", cuda::Distribution::Uniform, low, high,
                     [&](uint64_t c) { return low + (high - low) * generator.uniform(c); });
}

Tensor Tensor::bernoulli(const Shape& shape, double p, Generator& generator, DType dtype, Device device) {
  STRIPES_CHECK(p >= 0.0 && p <= 1.0, "bernoulli: probability {} is outside [0, 1]", p);
  // uniform(c) < p, compared as integers (philox::bernoulli): the same mask, no conversion
  const uint64_t threshold = philox::bernoulli_threshold(p), seed = generator.seed();
  return random_fill(shape, generator, dtype, device, "bernoulli", cuda::Distribution::Bernoulli, p, 0.0,
                     [seed, threshold](uint64_t c) { return philox::bernoulli(c, seed, threshold) ? 1.0 : 0.0; });
}

// ---- metadata ------------------------------------------------------------------------------------

int64_t Tensor::size(int64_t axis) const { return shape_[normalize_axis("size", axis, dim())]; }

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

std::string Tensor::description() const {
  if (!defined()) return "undefined tensor";
  return fmt::format("{}{} ({})", dtype_name(dtype_), shape_str(shape_), device_name(device()));
}

void Tensor::check_access(DType requested, const char* what, bool host_only) const {
  STRIPES_CHECK(defined(), "cannot {} an undefined tensor", what);
  STRIPES_CHECK(requested == dtype_, "cannot {} a {} tensor as {}", what, dtype_name(dtype_), dtype_name(requested));
  STRIPES_CHECK(!host_only || device() == Device::CPU, "cannot {} a {} tensor from the host; copy it with .to(Device::CPU)",
                what, device_name(device()));
}

double Tensor::item() const {
  STRIPES_CHECK(numel() == 1, "item: tensor {} has {} elements, expected 1", description(), numel());
  return at(Shape(shape_.size(), 0));
}

double Tensor::at(const std::vector<int64_t>& index) const {
  if (device() != Device::CPU) return to(Device::CPU).at(index);
  STRIPES_CHECK(int64_t(index.size()) == dim(), "at: index with {} entries for a tensor {}", index.size(),
                description());
  int64_t element = 0;
  for (size_t i = 0; i < index.size(); ++i) {
    STRIPES_CHECK(index[i] >= 0 && index[i] < shape_[i], "at: index {} is out of range for axis {} of size {}",
                  index[i], i, shape_[i]);
    element += index[i] * strides_[i];
  }
  return dispatch_any(dtype_, [&]<typename T>() { return double(data<T>()[element]); });
}

// ---- views ---------------------------------------------------------------------------------------

static Shape infer_view_shape(const char* op, const Shape& requested, int64_t numel, const Shape& from) {
  Shape shape = requested;
  int64_t known = 1, unknown_axis = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      STRIPES_CHECK(unknown_axis < 0, "{}: more than one -1 in shape {}", op, shape_str(requested));
      unknown_axis = int64_t(i);
    } else {
      STRIPES_CHECK(shape[i] >= 0, "{}: negative size in shape {}", op, shape_str(requested));
      known *= shape[i];
    }
  }
  if (unknown_axis >= 0) {
    STRIPES_CHECK(known != 0 && numel % known == 0, "{}: cannot infer -1 in {} for {} elements of {}", op,
                  shape_str(requested), numel, shape_str(from));
    shape[size_t(unknown_axis)] = numel / known;
  }
  STRIPES_CHECK(shape_numel(shape) == numel, "{}: shape {} ({} elements) does not match {} ({} elements)", op,
                shape_str(requested), shape_numel(shape), shape_str(from), numel);
  return shape;
}

Tensor Tensor::view(const Shape& shape) const {
  STRIPES_CHECK(is_contiguous(), "view: tensor {} with strides {} is not contiguous; use reshape or contiguous()",
                description(), shape_str(strides_));
  Tensor t = *this;
  t.shape_ = infer_view_shape("view", shape, numel(), shape_);
  t.strides_ = contiguous_strides(t.shape_);
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (is_contiguous()) return view(shape);
  return contiguous().view(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& order) const {
  STRIPES_CHECK(int64_t(order.size()) == dim(), "permute: order [{}] has {} axes, tensor {} has {}",
                fmt::join(order, ", "), order.size(), description(), dim());
  std::vector<bool> seen(order.size(), false);
  Tensor t = *this;
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t axis = normalize_axis("permute", order[i], dim());
    STRIPES_CHECK(!seen[size_t(axis)], "permute: order [{}] names axis {} twice", fmt::join(order, ", "), axis);
    seen[size_t(axis)] = true;
    t.shape_[i] = shape_[size_t(axis)];
    t.strides_[i] = strides_[size_t(axis)];
  }
  return t;
}

Tensor Tensor::transpose(int64_t axis_a, int64_t axis_b) const {
  const int64_t a = normalize_axis("transpose", axis_a, dim());
  const int64_t b = normalize_axis("transpose", axis_b, dim());
  Tensor t = *this;
  std::swap(t.shape_[size_t(a)], t.shape_[size_t(b)]);
  std::swap(t.strides_[size_t(a)], t.strides_[size_t(b)]);
  return t;
}

Tensor Tensor::slice(int64_t axis, int64_t start, int64_t end, int64_t step) const {
  const int64_t a = normalize_axis("slice", axis, dim());
  const int64_t n = shape_[size_t(a)];
  STRIPES_CHECK(step >= 1, "slice: step must be positive, got {}", step);
  if (start < 0) start += n;
  if (end < 0) end += n;
  end = std::min(end, n);
  STRIPES_CHECK(start >= 0 && start <= end, "slice: range [{}, {}) is invalid for axis {} of size {} in {}", start,
                end, a, n, description());
  Tensor t = *this;
  t.offset_ += start * strides_[size_t(a)];
  t.shape_[size_t(a)] = (end - start + step - 1) / step;
  t.strides_[size_t(a)] *= step;
  return t;
}

Tensor Tensor::select(int64_t axis, int64_t index) const {
  const int64_t a = normalize_axis("select", axis, dim());
  const int64_t n = shape_[size_t(a)];
  if (index < 0) index += n;
  STRIPES_CHECK(index >= 0 && index < n, "select: index {} is out of range for axis {} of size {}", index, a, n);
  Tensor t = *this;
  t.offset_ += index * strides_[size_t(a)];
  t.shape_.erase(t.shape_.begin() + a);
  t.strides_.erase(t.strides_.begin() + a);
  return t;
}

Tensor Tensor::expand(const Shape& shape) const {
  STRIPES_CHECK(shape.size() >= shape_.size(), "expand: cannot expand {} to fewer dimensions {}", description(),
                shape_str(shape));
  const size_t lead = shape.size() - shape_.size();
  for (size_t i = 0; i < shape_.size(); ++i) {
    STRIPES_CHECK(shape_[i] == 1 || shape_[i] == shape[lead + i], "expand: cannot expand {} to {}", description(),
                  shape_str(shape));
  }
  Tensor t = *this;
  t.shape_ = shape;
  t.strides_ = broadcast_strides(shape_, strides_, shape);
  return t;
}

Tensor Tensor::unsqueeze(int64_t axis) const {
  const int64_t a = normalize_axis("unsqueeze", axis, dim() + 1);
  Tensor t = *this;
  const int64_t stride = a < dim() ? strides_[size_t(a)] * shape_[size_t(a)] : 1;
  t.shape_.insert(t.shape_.begin() + a, 1);
  t.strides_.insert(t.strides_.begin() + a, stride);
  return t;
}

Tensor Tensor::squeeze(int64_t axis) const {
  const int64_t a = normalize_axis("squeeze", axis, dim());
  STRIPES_CHECK(shape_[size_t(a)] == 1, "squeeze: axis {} of {} has size {}, not 1", a, description(),
                shape_[size_t(a)]);
  Tensor t = *this;
  t.shape_.erase(t.shape_.begin() + a);
  t.strides_.erase(t.strides_.begin() + a);
  return t;
}

// ---- copies --------------------------------------------------------------------------------------

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_, device());
  out.copy_(*this);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype, device());
  if (device() == Device::CUDA) {
    cuda::copy_into(out, *this, strides_);
    return out;
  }
  dispatch_any(dtype_, [&]<typename From>() {
    dispatch_any(dtype, [&]<typename To>() {
      const From* src = data<From>();
      To* dst = out.mutable_data<To>();
      strided_loop<2>(shape_, {out.strides_, strides_},
                      [&](const std::array<int64_t, 2>& o, int64_t count, const std::array<int64_t, 2>& s) {
                        for (int64_t i = 0; i < count; ++i) dst[o[0] + i * s[0]] = To(src[o[1] + i * s[1]]);
                      });
    });
  });
  return out;
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  const Tensor source = contiguous();
  Tensor out = empty(shape_, dtype_, device);
  cuda::copy_bytes(out.storage_->data(), device, static_cast<const char*>(source.storage_->data()) +
                   source.offset_ * int64_t(dtype_size(dtype_)), source.device(), size_t(numel()) * dtype_size(dtype_));
  return out;
}

// ---- in-place ------------------------------------------------------------------------------------

Tensor& Tensor::fill_(double value) {
  if (device() == Device::CUDA) {
    cuda::fill_into(*this, value);
    return *this;
  }
  dispatch_any(dtype_, [&]<typename T>() {
    T* dst = mutable_data<T>();
    const T v = T(value);
    strided_loop<1>(shape_, {strides_}, [&](const std::array<int64_t, 1>& o, int64_t count, const std::array<int64_t, 1>& s) {
      for (int64_t i = 0; i < count; ++i) dst[o[0] + i * s[0]] = v;
    });
  });
  return *this;
}

Tensor& Tensor::copy_(const Tensor& source) {
  STRIPES_CHECK(source.dtype_ == dtype_, "copy_: dtype mismatch, destination {} and source {}", description(),
                source.description());
  broadcast_shapes("copy_", source.shape_, shape_);  // validates
  STRIPES_CHECK(source.dim() <= dim(), "copy_: cannot copy {} into {}", source.description(), description());
  const Strides source_strides = broadcast_strides(source.shape_, source.strides_, shape_);
  for (size_t i = 0; i < source.shape_.size(); ++i) {
    const size_t j = shape_.size() - source.shape_.size() + i;
    STRIPES_CHECK(source.shape_[i] == 1 || source.shape_[i] == shape_[j], "copy_: cannot copy {} into {}",
                  source.description(), description());
  }
  STRIPES_CHECK(source.device() == device(), "copy_: device mismatch, destination {} and source {}", description(),
                source.description());
  if (device() == Device::CUDA) {
    cuda::copy_into(*this, source, source_strides);
    return *this;
  }
  dispatch_any(dtype_, [&]<typename T>() {
    const T* src = source.data<T>();
    T* dst = mutable_data<T>();
    strided_loop<2>(shape_, {strides_, source_strides},
                    [&](const std::array<int64_t, 2>& o, int64_t count, const std::array<int64_t, 2>& s) {
                      for (int64_t i = 0; i < count; ++i) dst[o[0] + i * s[0]] = src[o[1] + i * s[1]];
                    });
  });
  return *this;
}

Tensor& Tensor::add_(const Tensor& other, double alpha) {
  STRIPES_CHECK(other.dtype_ == dtype_, "add_: dtype mismatch, {} += {}", description(), other.description());
  const Shape combined = broadcast_shapes("add_", shape_, other.shape_);
  STRIPES_CHECK(combined == shape_, "add_: {} cannot be broadcast to the destination {}", other.description(),
                description());
  const Strides other_strides = broadcast_strides(other.shape_, other.strides_, shape_);
  STRIPES_CHECK(other.device() == device(), "add_: device mismatch, {} += {}", description(), other.description());
  if (device() == Device::CUDA) {
    dispatch_floating(dtype_, "add_", [&]<typename T>() {});
    cuda::add_into(*this, other, other_strides, alpha);
    return *this;
  }
  dispatch_floating(dtype_, "add_", [&]<typename T>() {
    const T* src = other.data<T>();
    T* dst = mutable_data<T>();
    const T a = T(alpha);
    strided_loop<2>(shape_, {strides_, other_strides},
                    [&](const std::array<int64_t, 2>& o, int64_t count, const std::array<int64_t, 2>& s) {
                      for (int64_t i = 0; i < count; ++i) dst[o[0] + i * s[0]] += a * src[o[1] + i * s[1]];
                    });
  });
  return *this;
}

// ---- printing ------------------------------------------------------------------------------------

std::string format_tensor(const Tensor& tensor, int max_elements) {
  if (!tensor.defined()) return "tensor(undefined)";
  std::string out = "tensor(";
  const Tensor t = tensor.device() == Device::CPU ? tensor : tensor.to(Device::CPU);
  const bool summarize = t.numel() > max_elements;
  const int64_t edge = 3;  // elements shown at each end of a summarized axis
  std::vector<int64_t> index;
  auto format_value = [&](double v) {
    if (!is_floating(t.dtype())) return fmt::format("{}", int64_t(v));
    return fmt::format("{:.6g}", v);
  };
  // Recursive printer over axes.
  auto print_axis = [&](auto&& self, int64_t axis) -> void {
    if (axis == t.dim()) {
      out += format_value(t.at(index));
      return;
    }
    out += "[";
    const int64_t n = t.shape()[size_t(axis)];
    for (int64_t i = 0; i < n; ++i) {
      if (summarize && n > 2 * edge && i == edge) {
        out += "..., ";
        i = n - edge;
      }
      index.push_back(i);
      self(self, axis + 1);
      index.pop_back();
      if (i + 1 < n) out += axis + 1 == t.dim() ? ", " : ",\n" + std::string(size_t(axis + 8), ' ');
    }
    out += "]";
  };
  print_axis(print_axis, 0);
  out += fmt::format(", shape={}, dtype={})", shape_str(t.shape()), dtype_name(t.dtype()));
  return out;
}

DType parse_dtype(std::string_view name) {
  if (name == "float32") return DType::Float32;
  if (name == "float64") return DType::Float64;
  if (name == "int64") return DType::Int64;
  if (name == "uint8") return DType::UInt8;
  throw_error("unknown dtype '{}' (expected float32, float64, int64 or uint8)", name);
}

Device parse_device(std::string_view name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") return Device::CUDA;
  throw_error("unknown device '{}' (expected cpu or cuda)", name);
}

}  // namespace stripes
