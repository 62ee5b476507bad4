// A small RAII wrapper over the HDF5 C API (libhdf5 1.10), for reading and writing checkpoints and
// golden reference files. It knows nothing about tensors: it moves raw typed arrays (a pointer, an
// element type and a shape vector) in and out of datasets, and a Tensor-level save/load is layered
// on top of it elsewhere.
//
// Paths are HDF5 paths: "/forward/layers.0/attn/weight". Relative paths are taken from the root.
//
// Conventions, and why:
// - Every failure (missing file, missing path, wrong kind of object, shape/size mismatch, any HDF5
//   error) throws stripes::Error naming the file and the group/dataset path, plus HDF5's own
//   innermost error description. HDF5's automatic error printing to stderr is switched off, so a
//   caught error prints nothing behind the caller's back.
// - Reading converts: the memory type is the caller's element type, and HDF5 converts from the
//   stored type (int64 -> float, uint8 -> int32, double -> float ...). The StrIPE golden windows
//   store structure rows as int64 and pianorolls as uint8; a caller can read both as float or int64.
// - Writing a dataset that already exists replaces it (unlink, then create), so that a checkpoint
//   can be rewritten in place; writing creates any missing parent groups.
// - Strings (attributes) are written like h5py writes them: variable-length UTF-8 scalars. Reading
//   accepts variable-length and fixed-length strings.
// - Children of a group are listed in HDF5's name order (byte-wise lexicographic: "10" < "2");
//   callers that name children by numbers sort them themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/error.hpp"

namespace stripes::io {

// Numeric element types a dataset can hold or be read as.
enum class ElementType { kInt8, kUInt8, kInt16, kUInt16, kInt32, kUInt32, kInt64, kUInt64, kFloat32, kFloat64 };

// "int64", "float32", ... (numpy's names, which is what h5dump users compare against).
const char* element_type_name(ElementType type);
size_t element_type_size(ElementType type);

template <typename T>
constexpr ElementType element_type_of();
template <> constexpr ElementType element_type_of<int8_t>() { return ElementType::kInt8; }
template <> constexpr ElementType element_type_of<uint8_t>() { return ElementType::kUInt8; }
template <> constexpr ElementType element_type_of<int16_t>() { return ElementType::kInt16; }
template <> constexpr ElementType element_type_of<uint16_t>() { return ElementType::kUInt16; }
template <> constexpr ElementType element_type_of<int32_t>() { return ElementType::kInt32; }
template <> constexpr ElementType element_type_of<uint32_t>() { return ElementType::kUInt32; }
template <> constexpr ElementType element_type_of<int64_t>() { return ElementType::kInt64; }
template <> constexpr ElementType element_type_of<uint64_t>() { return ElementType::kUInt64; }
template <> constexpr ElementType element_type_of<float>() { return ElementType::kFloat32; }
template <> constexpr ElementType element_type_of<double>() { return ElementType::kFloat64; }

// What a dataset holds. A scalar dataset (HDF5 SCALAR dataspace) has an empty shape and 1 element.
struct DatasetInfo {
  std::vector<int64_t> shape;
  ElementType element_type = ElementType::kFloat32;
  int64_t element_count() const;
  bool is_scalar() const { return shape.empty(); }
};

enum class OpenMode {
  kRead,       // existing file, read only
  kReadWrite,  // existing file, read and write
  kTruncate,   // create the file, or empty an existing one
};

class Hdf5File {
 public:
  Hdf5File(const std::string& path, OpenMode mode);
  ~Hdf5File();
  Hdf5File(Hdf5File&& other) noexcept;
  Hdf5File& operator=(Hdf5File&& other) noexcept;
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  const std::string& path() const { return path_; }
  // Writes buffered data to disk (also done by the destructor).
  void flush();

  // ---- structure -----------------------------------------------------------------------------
  // Creates the group and any missing parents ("/a/b/c"). Nothing happens if it exists already.
  void create_group(const std::string& group_path);
  // True if every component of the path exists (false for a missing intermediate, no error).
  bool exists(const std::string& object_path) const;
  bool is_group(const std::string& object_path) const;
  bool is_dataset(const std::string& object_path) const;
  // Names (not paths) of the links in a group, in HDF5 name order.
  std::vector<std::string> list_children(const std::string& group_path) const;

  // ---- datasets ------------------------------------------------------------------------------
  // Writes `element_count(shape)` elements of `type` from `data` (row-major, C order). An empty
  // shape writes a scalar dataset.
  void write_dataset_raw(const std::string& dataset_path, ElementType type, const std::vector<int64_t>& shape,
                         const void* data);
  DatasetInfo dataset_info(const std::string& dataset_path) const;
  std::vector<int64_t> dataset_shape(const std::string& dataset_path) const { return dataset_info(dataset_path).shape; }
  ElementType dataset_element_type(const std::string& dataset_path) const {
    return dataset_info(dataset_path).element_type;
  }
  // Reads the whole dataset into `out`, converted to `type`; `out_capacity` is the number of
  // elements `out` can hold and must equal the dataset's element count.
  void read_dataset_raw(const std::string& dataset_path, ElementType type, void* out, int64_t out_capacity) const;

  template <typename T>
  void write_dataset(const std::string& dataset_path, const std::vector<int64_t>& shape, const T* data) {
    write_dataset_raw(dataset_path, element_type_of<T>(), shape, data);
  }
  template <typename T>
  void write_dataset(const std::string& dataset_path, const std::vector<int64_t>& shape, const std::vector<T>& data) {
    STRIPES_CHECK(static_cast<int64_t>(data.size()) == shape_element_count(shape),
                  "hdf5: {}: writing dataset '{}': {} elements given for shape {}", path_, dataset_path, data.size(),
                  shape_to_string(shape));
    write_dataset_raw(dataset_path, element_type_of<T>(), shape, data.data());
  }
  template <typename T>
  void write_scalar(const std::string& dataset_path, T value) {
    write_dataset_raw(dataset_path, element_type_of<T>(), {}, &value);
  }
  // The whole dataset, converted to T, row-major.
  template <typename T>
  std::vector<T> read_dataset(const std::string& dataset_path) const {
    const DatasetInfo info = dataset_info(dataset_path);
    std::vector<T> values(static_cast<size_t>(info.element_count()));
    read_dataset_raw(dataset_path, element_type_of<T>(), values.data(), info.element_count());
    return values;
  }
  // A dataset holding exactly one element (scalar, or any shape of size 1), converted to T.
  template <typename T>
  T read_scalar(const std::string& dataset_path) const {
    T value{};
    read_dataset_raw(dataset_path, element_type_of<T>(), &value, 1);
    return value;
  }

  // ---- attributes (on the root "/", a group or a dataset) -----------------------------------
  // Writing an attribute that exists replaces it.
  void write_attribute(const std::string& object_path, const std::string& name, const std::string& value);
  void write_attribute(const std::string& object_path, const std::string& name, const char* value) {
    write_attribute(object_path, name, std::string(value));
  }
  void write_attribute(const std::string& object_path, const std::string& name, int64_t value);
  void write_attribute(const std::string& object_path, const std::string& name, double value);
  void write_attribute(const std::string& object_path, const std::string& name, const std::vector<int64_t>& values);

  bool has_attribute(const std::string& object_path, const std::string& name) const;
  std::vector<std::string> list_attributes(const std::string& object_path) const;
  std::string read_string_attribute(const std::string& object_path, const std::string& name) const;
  // Numeric attributes are converted like datasets (an int attribute reads as double and back).
  int64_t read_int_attribute(const std::string& object_path, const std::string& name) const;
  double read_double_attribute(const std::string& object_path, const std::string& name) const;
  std::vector<int64_t> read_int_vector_attribute(const std::string& object_path, const std::string& name) const;

  static int64_t shape_element_count(const std::vector<int64_t>& shape);
  static std::string shape_to_string(const std::vector<int64_t>& shape);

 private:
  void require_writable(const char* action, const std::string& object_path) const;
  void remove_link_if_exists(const std::string& object_path);

  std::string path_;
  OpenMode mode_ = OpenMode::kRead;
  int64_t file_id_ = -1;  // hid_t; kept as int64_t so this header does not include <hdf5.h>
};

}  // namespace stripes::io
