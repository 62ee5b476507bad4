// Tensor-level HDF5 save/load; see tensor_io.hpp for the layout.
#include "tensor/io/tensor_io.hpp"

namespace stripes::io {

namespace {

ElementType element_type_of_dtype(DType dtype) {
  switch (dtype) {
    case DType::Float32: return ElementType::kFloat32;
    case DType::Float64: return ElementType::kFloat64;
    case DType::Int64: return ElementType::kInt64;
    case DType::UInt8: return ElementType::kUInt8;
  }
  throw_error("tensor_io: unknown dtype");
}

// The dtype a stored element type is read as: its own when we have it, else the widest of its kind.
DType dtype_of_element_type(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return DType::Float32;
    case ElementType::kFloat64: return DType::Float64;
    case ElementType::kUInt8: return DType::UInt8;
    case ElementType::kInt8:
    case ElementType::kInt16:
    case ElementType::kUInt16:
    case ElementType::kInt32:
    case ElementType::kUInt32:
    case ElementType::kInt64:
    case ElementType::kUInt64: return DType::Int64;
  }
  throw_error("tensor_io: unknown element type");
}

}  // namespace

void save_tensor(Hdf5File& file, const std::string& dataset_path, const Tensor& tensor,
                 const StringAttributes& attributes) {
  STRIPES_CHECK(tensor.defined(), "save_tensor: {}: cannot save an undefined tensor to '{}'", file.path(),
                dataset_path);
  const Tensor contiguous = tensor.to(Device::CPU).contiguous();  // a GPU tensor is saved from a host copy
  const std::vector<int64_t> shape(contiguous.shape().begin(), contiguous.shape().end());
  dispatch_any(contiguous.dtype(), [&]<typename T>() {
    file.write_dataset_raw(dataset_path, element_type_of_dtype(contiguous.dtype()), shape, contiguous.data<T>());
  });
  // A 0-d tensor has no shape attribute: the wrapper cannot write an empty attribute (HDF5 refuses
  // the null buffer of an empty vector); its dataset is a scalar, which says the same.
  if (!shape.empty()) file.write_attribute(dataset_path, "shape", shape);
  file.write_attribute(dataset_path, "dtype", std::string(dtype_name(contiguous.dtype())));
  for (const auto& [name, value] : attributes) file.write_attribute(dataset_path, name, value);
}

Tensor load_tensor(const Hdf5File& file, const std::string& dataset_path) {
  const DatasetInfo info = file.dataset_info(dataset_path);  // throws naming file and path
  const DType dtype = dtype_of_element_type(info.element_type);
  const Shape shape(info.shape.begin(), info.shape.end());
  Tensor out = Tensor::empty(shape, dtype);
  dispatch_any(dtype, [&]<typename T>() {
    file.read_dataset_raw(dataset_path, element_type_of_dtype(dtype), out.mutable_data<T>(), out.numel());
  });
  return out;
}

Tensor load_tensor_expecting(const Hdf5File& file, const std::string& dataset_path, const Shape& shape, DType dtype,
                             const std::string& what) {
  STRIPES_CHECK(file.exists(dataset_path), "{}: missing from {} (no dataset '{}')", what, file.path(), dataset_path);
  STRIPES_CHECK(file.is_dataset(dataset_path), "{}: '{}' in {} is a group, not a dataset", what, dataset_path,
                file.path());
  const DatasetInfo info = file.dataset_info(dataset_path);
  const Shape stored(info.shape.begin(), info.shape.end());
  STRIPES_CHECK(stored == shape, "{}: shape mismatch: {} stores {} at '{}', expected {}", what, file.path(),
                shape_str(stored), dataset_path, shape_str(shape));
  const DType stored_dtype = dtype_of_element_type(info.element_type);
  STRIPES_CHECK(stored_dtype == dtype, "{}: dtype mismatch: {} stores {} at '{}', expected {}", what, file.path(),
                element_type_name(info.element_type), dataset_path, dtype_name(dtype));
  return load_tensor(file, dataset_path);
}

}  // namespace stripes::io
