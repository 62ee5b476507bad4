// Tensor: an N-d view (shape, strides, offset, dtype) into a shared Storage on a device.
//
// Views (reshape of a contiguous tensor, permute/transpose, slice, select, expand, unsqueeze) are
// O(1) and share storage; contiguous() copies only when the layout is not row-major contiguous.
// Math on tensors lives in tensor/math.hpp (no autograd); differentiable ops live in autograd/.
#pragma once

#include "tensor/dtype.hpp"
#include "tensor/random.hpp"
#include "tensor/shape.hpp"
#include "tensor/storage.hpp"

#include <memory>
#include <string>
#include <vector>

namespace stripes {

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor (defined() == false)

  // ---- factories -------------------------------------------------------------------------------
  static Tensor empty(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor zeros(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor ones(const Shape& shape, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor scalar(double value, DType dtype = DType::Float32);  // 0-d tensor
  static Tensor arange(int64_t count, DType dtype = DType::Int64);   // 0, 1, ..., count-1
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // N(0,1) and U[low, high) from the seeded generator (advances it by numel counters).
  // The numbers are the same on every device (counter-based, see tensor/random.hpp).
  static Tensor randn(const Shape& shape, Generator& generator, DType dtype = DType::Float32, Device device = Device::CPU);
  static Tensor rand(const Shape& shape, Generator& generator, DType dtype = DType::Float32,
                     double low = 0.0, double high = 1.0, Device device = Device::CPU);
  // 1 with probability p, else 0 (dtype float for masks).
  static Tensor bernoulli(const Shape& shape, double p, Generator& generator, DType dtype = DType::Float32,
                          Device device = Device::CPU);

  // ---- metadata --------------------------------------------------------------------------------
  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t dim() const { return int64_t(shape_.size()); }
  int64_t size(int64_t axis) const;  // negative axes count from the end
  int64_t numel() const { return shape_numel(shape_); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device() : Device::CPU; }
  bool is_contiguous() const;
  // The storage's version counter: increases on every in-place write (see Storage).
  uint64_t version() const { return storage_ ? storage_->version() : 0; }
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }
  // True when this tensor is the only holder of its storage and spans all of it, row-major from
  // element 0: it can be handed over (moved) as a buffer that will be written in place.
  bool is_sole_owner_of_storage() const {
    return storage_ && storage_.use_count() == 1 && offset_ == 0 && is_contiguous() &&
           size_t(numel()) * dtype_size(dtype_) == storage_->nbytes();
  }
  std::string description() const;  // "float32[2, 3] (cpu)"

  // ---- element access ---------------------------------------------------------------------------
  // Pointer to element 0 of this view (offset applied), for host code. Checks dtype and that the
  // tensor is on the CPU.
  template <typename T> const T* data() const;
  // Same, for writing: increments the version counter.
  template <typename T> T* mutable_data();
  // The same pointers on any device (for backends launching kernels): check dtype only.
  template <typename T> const T* raw_data() const;
  template <typename T> T* raw_mutable_data();
  // Value of a 1-element tensor, converted to double (copied to the host if needed).
  double item() const;
  // Element at a full index, converted to double (for tests and printing; not for hot loops).
  double at(const std::vector<int64_t>& index) const;
  // All elements in row-major order, on the host.
  template <typename T> std::vector<T> to_vector() const;

  // ---- views (share storage) -------------------------------------------------------------------
  Tensor view(const Shape& shape) const;      // requires a contiguous tensor; one size may be -1
  Tensor reshape(const Shape& shape) const;   // a view when contiguous, else a contiguous copy
  Tensor permute(const std::vector<int64_t>& order) const;
  Tensor transpose(int64_t axis_a, int64_t axis_b) const;
  Tensor slice(int64_t axis, int64_t start, int64_t end, int64_t step = 1) const;  // [start, end)
  Tensor select(int64_t axis, int64_t index) const;  // drops the axis
  Tensor expand(const Shape& shape) const;           // broadcast view (stride 0)
  Tensor unsqueeze(int64_t axis) const;
  Tensor squeeze(int64_t axis) const;
  Tensor flatten() const { return reshape({numel()}); }

  // ---- copies ----------------------------------------------------------------------------------
  Tensor contiguous() const;  // *this when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  // ---- in-place (increment the version counter) ------------------------------------------------
  Tensor& fill_(double value);
  Tensor& zero_() { return fill_(0.0); }
  Tensor& copy_(const Tensor& source);  // source broadcast to this shape; same dtype
  Tensor& add_(const Tensor& other, double alpha = 1.0);  // this += alpha * other (other broadcast)

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::Float32;

  void check_access(DType requested, const char* what, bool host_only = true) const;
};

// Printing with fmt: fmt::print("{}", tensor) shows values (summarized past 1000 elements),
// shape and dtype.
std::string format_tensor(const Tensor& tensor, int max_elements = 1000);

}  // namespace stripes

template <>
struct fmt::formatter<stripes::Tensor> : fmt::formatter<std::string> {
  auto format(const stripes::Tensor& t, fmt::format_context& ctx) const {
    return fmt::formatter<std::string>::format(stripes::format_tensor(t), ctx);
  }
};

// ---- template definitions ------------------------------------------------------------------------
namespace stripes {

template <typename T>
const T* Tensor::data() const {
  check_access(dtype_of<T>(), "read");
  return static_cast<const T*>(storage_->data()) + offset_;
}

template <typename T>
T* Tensor::mutable_data() {
  check_access(dtype_of<T>(), "write");
  storage_->bump_version();
  return static_cast<T*>(storage_->data()) + offset_;
}

template <typename T>
const T* Tensor::raw_data() const {
  check_access(dtype_of<T>(), "read", false);
  return static_cast<const T*>(storage_->data()) + offset_;
}

template <typename T>
T* Tensor::raw_mutable_data() {
  check_access(dtype_of<T>(), "write", false);
  storage_->bump_version();
  return static_cast<T*>(storage_->data()) + offset_;
}

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  STRIPES_CHECK(int64_t(values.size()) == shape_numel(shape),
                "from_vector: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor out = empty(shape, dtype_of<T>());
  T* dst = out.mutable_data<T>();
  for (size_t i = 0; i < values.size(); ++i) dst[i] = values[i];
  return out;
}

template <typename T>
std::vector<T> Tensor::to_vector() const {
  Tensor c = to(Device::CPU).contiguous();
  const T* src = c.data<T>();
  return std::vector<T>(src, src + c.numel());
}

}  // namespace stripes
