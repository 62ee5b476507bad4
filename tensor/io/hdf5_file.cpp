// Implementation of the HDF5 wrapper; see hdf5_file.hpp for the conventions.
#include "tensor/io/hdf5_file.hpp"

#include <hdf5.h>

#include <type_traits>
#include <utility>

namespace stripes::io {

static_assert(std::is_same_v<hid_t, int64_t>, "hdf5_file.hpp stores hid_t as int64_t (HDF5 >= 1.10)");

namespace {

// Switch off HDF5's automatic printing of its error stack; we turn errors into exceptions. In a
// thread-safe HDF5 build the default error stack is per thread, so this is done on every open
// (it is cheap) rather than once per process.
void silence_hdf5_error_printing() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The description of the innermost (lowest-level, most specific) entry of HDF5's current error
// stack ("" when it is empty).
std::string hdf5_error_description() {
  std::string description;
  auto walk = [](unsigned /*n*/, const H5E_error2_t* error, void* client) -> herr_t {
    auto* out = static_cast<std::string*>(client);
    if (out->empty() && error != nullptr && error->desc != nullptr) *out = error->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk, &description);
  H5Eclear2(H5E_DEFAULT);
  return description;
}

[[noreturn]] void throw_hdf5_error(const std::string& file, const std::string& action, const std::string& object_path) {
  const std::string detail = hdf5_error_description();
  if (detail.empty()) throw_error("hdf5: {}: {} '{}' failed", file, action, object_path);
  throw_error("hdf5: {}: {} '{}' failed: {}", file, action, object_path, detail);
}

// An owned HDF5 identifier, closed with the function that matches its kind.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(std::exchange(other.id_, -1)), closer_(other.closer_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
      closer_ = other.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset() {
    if (id_ >= 0 && closer_ != nullptr) closer_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

hid_t native_type(ElementType type) {
  switch (type) {
    case ElementType::kInt8: return H5T_NATIVE_INT8;
    case ElementType::kUInt8: return H5T_NATIVE_UINT8;
    case ElementType::kInt16: return H5T_NATIVE_INT16;
    case ElementType::kUInt16: return H5T_NATIVE_UINT16;
    case ElementType::kInt32: return H5T_NATIVE_INT32;
    case ElementType::kUInt32: return H5T_NATIVE_UINT32;
    case ElementType::kInt64: return H5T_NATIVE_INT64;
    case ElementType::kUInt64: return H5T_NATIVE_UINT64;
    case ElementType::kFloat32: return H5T_NATIVE_FLOAT;
    case ElementType::kFloat64: return H5T_NATIVE_DOUBLE;
  }
  throw_error("hdf5: unknown element type {}", static_cast<int>(type));
}

// Maps a stored HDF5 datatype to our ElementType; throws for strings, compounds, etc.
ElementType element_type_from_hdf5(hid_t datatype, const std::string& file, const std::string& dataset_path) {
  const H5T_class_t type_class = H5Tget_class(datatype);
  const size_t size = H5Tget_size(datatype);
  if (type_class == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(datatype) == H5T_SGN_2;
    switch (size) {
      case 1: return is_signed ? ElementType::kInt8 : ElementType::kUInt8;
      case 2: return is_signed ? ElementType::kInt16 : ElementType::kUInt16;
      case 4: return is_signed ? ElementType::kInt32 : ElementType::kUInt32;
      case 8: return is_signed ? ElementType::kInt64 : ElementType::kUInt64;
      default: break;
    }
  } else if (type_class == H5T_FLOAT) {
    if (size == 4) return ElementType::kFloat32;
    if (size == 8) return ElementType::kFloat64;
  }
  throw_error("hdf5: {}: dataset '{}' has a non-numeric or unsupported element type (HDF5 class {}, {} bytes)", file,
              dataset_path, static_cast<int>(type_class), size);
}

// HDF5 paths: a relative path is taken from the root.
std::string absolute(const std::string& object_path) {
  if (object_path.empty()) return "/";
  if (object_path.front() == '/') return object_path;
  return "/" + object_path;
}

std::string parent_of(const std::string& absolute_path) {
  const size_t slash = absolute_path.find_last_of('/');
  if (slash == 0 || slash == std::string::npos) return "/";
  return absolute_path.substr(0, slash);
}

std::vector<hsize_t> to_hsize(const std::vector<int64_t>& shape) {
  std::vector<hsize_t> dims;
  dims.reserve(shape.size());
  for (int64_t extent : shape) dims.push_back(static_cast<hsize_t>(extent));
  return dims;
}

Handle create_dataspace(const std::vector<int64_t>& shape) {
  if (shape.empty()) return Handle(H5Screate(H5S_SCALAR), H5Sclose);
  const std::vector<hsize_t> dims = to_hsize(shape);
  return Handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
}

Handle variable_length_utf8_string_type() {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  return type;
}

}  // namespace

// ---- element types -----------------------------------------------------------------------------

const char* element_type_name(ElementType type) {
  switch (type) {
    case ElementType::kInt8: return "int8";
    case ElementType::kUInt8: return "uint8";
    case ElementType::kInt16: return "int16";
    case ElementType::kUInt16: return "uint16";
    case ElementType::kInt32: return "int32";
    case ElementType::kUInt32: return "uint32";
    case ElementType::kInt64: return "int64";
    case ElementType::kUInt64: return "uint64";
    case ElementType::kFloat32: return "float32";
    case ElementType::kFloat64: return "float64";
  }
  return "unknown";
}

size_t element_type_size(ElementType type) {
  switch (type) {
    case ElementType::kInt8:
    case ElementType::kUInt8: return 1;
    case ElementType::kInt16:
    case ElementType::kUInt16: return 2;
    case ElementType::kInt32:
    case ElementType::kUInt32:
    case ElementType::kFloat32: return 4;
    case ElementType::kInt64:
    case ElementType::kUInt64:
    case ElementType::kFloat64: return 8;
  }
  return 0;
}

int64_t DatasetInfo::element_count() const { return Hdf5File::shape_element_count(shape); }

int64_t Hdf5File::shape_element_count(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t extent : shape) count *= extent;
  return count;
}

std::string Hdf5File::shape_to_string(const std::vector<int64_t>& shape) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + ")";
}

// ---- file --------------------------------------------------------------------------------------

Hdf5File::Hdf5File(const std::string& path, OpenMode mode) : path_(path), mode_(mode) {
  silence_hdf5_error_printing();
  hid_t id = -1;
  switch (mode) {
    case OpenMode::kRead: id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT); break;
    case OpenMode::kReadWrite: id = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT); break;
    case OpenMode::kTruncate: id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT); break;
  }
  if (id < 0) {
    const std::string detail = hdf5_error_description();
    const char* verb = mode == OpenMode::kTruncate ? "cannot create" : "cannot open";
    throw_error("hdf5: {}: {} file ({}): {}", path, verb, mode == OpenMode::kRead ? "read" : "write",
                detail.empty() ? "unknown HDF5 error" : detail);
  }
  file_id_ = id;
}

Hdf5File::~Hdf5File() {
  if (file_id_ >= 0) H5Fclose(file_id_);
}

Hdf5File::Hdf5File(Hdf5File&& other) noexcept
    : path_(std::move(other.path_)), mode_(other.mode_), file_id_(std::exchange(other.file_id_, -1)) {}

Hdf5File& Hdf5File::operator=(Hdf5File&& other) noexcept {
  if (this != &other) {
    if (file_id_ >= 0) H5Fclose(file_id_);
    path_ = std::move(other.path_);
    mode_ = other.mode_;
    file_id_ = std::exchange(other.file_id_, -1);
  }
  return *this;
}

void Hdf5File::flush() {
  STRIPES_CHECK(file_id_ >= 0, "hdf5: {}: flush on a moved-from file", path_);
  if (mode_ == OpenMode::kRead) return;
  if (H5Fflush(file_id_, H5F_SCOPE_LOCAL) < 0) throw_hdf5_error(path_, "flushing", "/");
}

void Hdf5File::require_writable(const char* action, const std::string& object_path) const {
  STRIPES_CHECK(file_id_ >= 0, "hdf5: {}: {} '{}' on a moved-from file", path_, action, object_path);
  STRIPES_CHECK(mode_ != OpenMode::kRead, "hdf5: {}: {} '{}': the file is open read-only", path_, action,
                object_path);
}

// ---- structure ---------------------------------------------------------------------------------

bool Hdf5File::exists(const std::string& object_path) const {
  const std::string path = absolute(object_path);
  if (path == "/") return true;
  // H5Lexists fails (rather than answering false) when an intermediate group is missing, so walk
  // the path one component at a time.
  size_t position = 0;
  while (position != std::string::npos) {
    position = path.find('/', position + 1);
    const std::string prefix = path.substr(0, position);
    if (prefix.size() <= 1) continue;
    const htri_t present = H5Lexists(file_id_, prefix.c_str(), H5P_DEFAULT);
    if (present <= 0) {
      H5Eclear2(H5E_DEFAULT);
      return false;
    }
  }
  return true;
}

namespace {
H5I_type_t object_kind(hid_t file_id, const std::string& path) {
  Handle object(H5Oopen(file_id, path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return H5I_BADID;
  }
  return H5Iget_type(object.get());
}
}  // namespace

bool Hdf5File::is_group(const std::string& object_path) const {
  return exists(object_path) && object_kind(file_id_, absolute(object_path)) == H5I_GROUP;
}

bool Hdf5File::is_dataset(const std::string& object_path) const {
  return exists(object_path) && object_kind(file_id_, absolute(object_path)) == H5I_DATASET;
}

void Hdf5File::create_group(const std::string& group_path) {
  const std::string path = absolute(group_path);
  require_writable("creating group", path);
  if (exists(path)) {
    STRIPES_CHECK(is_group(path), "hdf5: {}: cannot create group '{}': a dataset of that name exists", path_, path);
    return;
  }
  Handle link_properties(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(link_properties.get(), 1);
  Handle group(H5Gcreate2(file_id_, path.c_str(), link_properties.get(), H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
  if (!group.valid()) throw_hdf5_error(path_, "creating group", path);
}

std::vector<std::string> Hdf5File::list_children(const std::string& group_path) const {
  const std::string path = absolute(group_path);
  STRIPES_CHECK(exists(path), "hdf5: {}: no group '{}'", path_, path);
  STRIPES_CHECK(is_group(path), "hdf5: {}: '{}' is a dataset, not a group", path_, path);
  Handle group(H5Gopen2(file_id_, path.c_str(), H5P_DEFAULT), H5Gclose);
  if (!group.valid()) throw_hdf5_error(path_, "opening group", path);
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5L_info_t*, void* client) -> herr_t {
    static_cast<std::vector<std::string>*>(client)->emplace_back(name);
    return 0;
  };
  if (H5Literate(group.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0) {
    throw_hdf5_error(path_, "listing group", path);
  }
  return names;
}

void Hdf5File::remove_link_if_exists(const std::string& object_path) {
  if (!exists(object_path)) return;
  if (H5Ldelete(file_id_, object_path.c_str(), H5P_DEFAULT) < 0) throw_hdf5_error(path_, "replacing", object_path);
}

// ---- datasets ----------------------------------------------------------------------------------

void Hdf5File::write_dataset_raw(const std::string& dataset_path, ElementType type, const std::vector<int64_t>& shape,
                                 const void* data) {
  const std::string path = absolute(dataset_path);
  require_writable("writing dataset", path);
  for (int64_t extent : shape) {
    STRIPES_CHECK(extent >= 0, "hdf5: {}: writing dataset '{}': negative extent in shape {}", path_, path,
                  shape_to_string(shape));
  }
  STRIPES_CHECK(data != nullptr || shape_element_count(shape) == 0, "hdf5: {}: writing dataset '{}': null data",
                path_, path);
  STRIPES_CHECK(!is_group(path), "hdf5: {}: cannot write dataset '{}': a group of that name exists", path_, path);
  create_group(parent_of(path));
  remove_link_if_exists(path);

  Handle space = create_dataspace(shape);
  if (!space.valid()) throw_hdf5_error(path_, "creating dataspace for", path);
  // Stored with the same type as in memory, little-endian as numpy/h5py store it on x86.
  Handle dataset(H5Dcreate2(file_id_, path.c_str(), native_type(type), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT),
                 H5Dclose);
  if (!dataset.valid()) throw_hdf5_error(path_, "creating dataset", path);
  if (shape_element_count(shape) == 0) return;
  if (H5Dwrite(dataset.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw_hdf5_error(path_, "writing dataset", path);
  }
}

namespace {
Handle open_dataset(hid_t file_id, const Hdf5File& file, const std::string& path) {
  STRIPES_CHECK(file.exists(path), "hdf5: {}: no dataset '{}'", file.path(), path);
  STRIPES_CHECK(file.is_dataset(path), "hdf5: {}: '{}' is a group, not a dataset", file.path(), path);
  Handle dataset(H5Dopen2(file_id, path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.valid()) throw_hdf5_error(file.path(), "opening dataset", path);
  return dataset;
}
}  // namespace

DatasetInfo Hdf5File::dataset_info(const std::string& dataset_path) const {
  const std::string path = absolute(dataset_path);
  Handle dataset = open_dataset(file_id_, *this, path);
  Handle space(H5Dget_space(dataset.get()), H5Sclose);
  Handle type(H5Dget_type(dataset.get()), H5Tclose);
  if (!space.valid() || !type.valid()) throw_hdf5_error(path_, "reading the shape of dataset", path);
  DatasetInfo info;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw_hdf5_error(path_, "reading the rank of dataset", path);
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) {
    throw_hdf5_error(path_, "reading the extents of dataset", path);
  }
  for (hsize_t extent : dims) info.shape.push_back(static_cast<int64_t>(extent));
  info.element_type = element_type_from_hdf5(type.get(), path_, path);
  return info;
}

void Hdf5File::read_dataset_raw(const std::string& dataset_path, ElementType type, void* out,
                                int64_t out_capacity) const {
  const std::string path = absolute(dataset_path);
  const DatasetInfo info = dataset_info(path);
  STRIPES_CHECK(info.element_count() == out_capacity,
                "hdf5: {}: reading dataset '{}': it holds {} elements (shape {}), the destination holds {}", path_,
                path, info.element_count(), shape_to_string(info.shape), out_capacity);
  if (out_capacity == 0) return;
  Handle dataset = open_dataset(file_id_, *this, path);
  // The memory type is the caller's: HDF5 converts from the stored type.
  if (H5Dread(dataset.get(), native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
    throw_hdf5_error(path_, fmt::format("reading (as {}) dataset", element_type_name(type)), path);
  }
}

// ---- attributes --------------------------------------------------------------------------------

namespace {

Handle open_object(hid_t file_id, const Hdf5File& file, const std::string& path, const std::string& attribute) {
  STRIPES_CHECK(file.exists(path), "hdf5: {}: attribute '{}' of '{}': no such group or dataset", file.path(),
                attribute, path);
  Handle object(H5Oopen(file_id, path.c_str(), H5P_DEFAULT), H5Oclose);
  if (!object.valid()) throw_hdf5_error(file.path(), "opening object", path);
  return object;
}

std::string attribute_label(const std::string& path, const std::string& name) {
  return path == "/" ? "/@" + name : path + "@" + name;
}

}  // namespace

namespace {
// Creates (replacing) attribute `name` on `object` with `type` and `space`, and writes `data`.
void write_attribute_raw(const std::string& file, hid_t object, const std::string& path, const std::string& name,
                         hid_t stored_type, hid_t memory_type, const Handle& space, const void* data) {
  const std::string label = attribute_label(path, name);
  const htri_t present = H5Aexists(object, name.c_str());
  if (present < 0) throw_hdf5_error(file, "checking attribute", label);
  if (present > 0 && H5Adelete(object, name.c_str()) < 0) throw_hdf5_error(file, "replacing attribute", label);
  Handle attribute(H5Acreate2(object, name.c_str(), stored_type, space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) throw_hdf5_error(file, "creating attribute", label);
  // An empty vector attribute (the shape of a 0-d tensor) has nothing to write; HDF5 refuses a
  // null buffer even for zero elements.
  if (H5Sget_simple_extent_npoints(space.get()) == 0) return;
  if (H5Awrite(attribute.get(), memory_type, data) < 0) throw_hdf5_error(file, "writing attribute", label);
}
}  // namespace

void Hdf5File::write_attribute(const std::string& object_path, const std::string& name, const std::string& value) {
  const std::string path = absolute(object_path);
  require_writable("writing an attribute of", path);
  Handle object = open_object(file_id_, *this, path, name);
  Handle type = variable_length_utf8_string_type();
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  const char* text = value.c_str();
  write_attribute_raw(path_, object.get(), path, name, type.get(), type.get(), space, &text);
}

void Hdf5File::write_attribute(const std::string& object_path, const std::string& name, int64_t value) {
  const std::string path = absolute(object_path);
  require_writable("writing an attribute of", path);
  Handle object = open_object(file_id_, *this, path, name);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  write_attribute_raw(path_, object.get(), path, name, H5T_NATIVE_INT64, H5T_NATIVE_INT64, space, &value);
}

void Hdf5File::write_attribute(const std::string& object_path, const std::string& name, double value) {
  const std::string path = absolute(object_path);
  require_writable("writing an attribute of", path);
  Handle object = open_object(file_id_, *this, path, name);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  write_attribute_raw(path_, object.get(), path, name, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE, space, &value);
}

void Hdf5File::write_attribute(const std::string& object_path, const std::string& name,
                               const std::vector<int64_t>& values) {
  const std::string path = absolute(object_path);
  require_writable("writing an attribute of", path);
  Handle object = open_object(file_id_, *this, path, name);
  Handle space = create_dataspace({static_cast<int64_t>(values.size())});
  write_attribute_raw(path_, object.get(), path, name, H5T_NATIVE_INT64, H5T_NATIVE_INT64, space, values.data());
}

bool Hdf5File::has_attribute(const std::string& object_path, const std::string& name) const {
  const std::string path = absolute(object_path);
  if (!exists(path)) return false;
  const htri_t present = H5Aexists_by_name(file_id_, path.c_str(), name.c_str(), H5P_DEFAULT);
  if (present < 0) throw_hdf5_error(path_, "checking attribute", attribute_label(path, name));
  return present > 0;
}

std::vector<std::string> Hdf5File::list_attributes(const std::string& object_path) const {
  const std::string path = absolute(object_path);
  Handle object = open_object(file_id_, *this, path, "*");
  std::vector<std::string> names;
  auto collect = [](hid_t, const char* name, const H5A_info_t*, void* client) -> herr_t {
    static_cast<std::vector<std::string>*>(client)->emplace_back(name);
    return 0;
  };
  if (H5Aiterate2(object.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names) < 0) {
    throw_hdf5_error(path_, "listing attributes of", path);
  }
  return names;
}

namespace {
Handle open_attribute(hid_t file_id, const Hdf5File& file, const std::string& path, const std::string& name) {
  STRIPES_CHECK(file.has_attribute(path, name), "hdf5: {}: no attribute '{}' on '{}'", file.path(), name, path);
  Handle attribute(H5Aopen_by_name(file_id, path.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (!attribute.valid()) throw_hdf5_error(file.path(), "opening attribute", attribute_label(path, name));
  return attribute;
}

int64_t attribute_element_count(const std::string& file, hid_t attribute, const std::string& label) {
  Handle space(H5Aget_space(attribute), H5Sclose);
  const hssize_t count = H5Sget_simple_extent_npoints(space.get());
  if (count < 0) throw_hdf5_error(file, "reading the size of attribute", label);
  return static_cast<int64_t>(count);
}

void require_numeric_attribute(const std::string& file, hid_t attribute, const std::string& label) {
  Handle type(H5Aget_type(attribute), H5Tclose);
  const H5T_class_t type_class = H5Tget_class(type.get());
  STRIPES_CHECK(type_class == H5T_INTEGER || type_class == H5T_FLOAT,
                "hdf5: {}: attribute '{}' is not numeric (HDF5 class {})", file, label, static_cast<int>(type_class));
}
}  // namespace

std::string Hdf5File::read_string_attribute(const std::string& object_path, const std::string& name) const {
  const std::string path = absolute(object_path);
  const std::string label = attribute_label(path, name);
  Handle attribute = open_attribute(file_id_, *this, path, name);
  Handle stored_type(H5Aget_type(attribute.get()), H5Tclose);
  STRIPES_CHECK(H5Tget_class(stored_type.get()) == H5T_STRING, "hdf5: {}: attribute '{}' is not a string", path_,
                label);
  STRIPES_CHECK(attribute_element_count(path_, attribute.get(), label) == 1,
                "hdf5: {}: attribute '{}' holds several strings; expected one", path_, label);
  const htri_t is_variable = H5Tis_variable_str(stored_type.get());
  if (is_variable > 0) {
    Handle memory_type = variable_length_utf8_string_type();
    char* text = nullptr;
    if (H5Aread(attribute.get(), memory_type.get(), &text) < 0) throw_hdf5_error(path_, "reading attribute", label);
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const size_t size = H5Tget_size(stored_type.get());
  Handle memory_type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(memory_type.get(), size + 1);  // room for the terminating null
  H5Tset_cset(memory_type.get(), H5Tget_cset(stored_type.get()));
  std::string buffer(size + 1, '\0');
  if (H5Aread(attribute.get(), memory_type.get(), buffer.data()) < 0) {
    throw_hdf5_error(path_, "reading attribute", label);
  }
  buffer.resize(buffer.find('\0') == std::string::npos ? buffer.size() : buffer.find('\0'));
  return buffer;
}

int64_t Hdf5File::read_int_attribute(const std::string& object_path, const std::string& name) const {
  const std::vector<int64_t> values = read_int_vector_attribute(object_path, name);
  STRIPES_CHECK(values.size() == 1, "hdf5: {}: attribute '{}' holds {} values; expected one", path_,
                attribute_label(absolute(object_path), name), values.size());
  return values[0];
}

double Hdf5File::read_double_attribute(const std::string& object_path, const std::string& name) const {
  const std::string path = absolute(object_path);
  const std::string label = attribute_label(path, name);
  Handle attribute = open_attribute(file_id_, *this, path, name);
  require_numeric_attribute(path_, attribute.get(), label);
  STRIPES_CHECK(attribute_element_count(path_, attribute.get(), label) == 1,
                "hdf5: {}: attribute '{}' holds several values; expected one", path_, label);
  double value = 0;
  if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value) < 0) throw_hdf5_error(path_, "reading attribute", label);
  return value;
}

std::vector<int64_t> Hdf5File::read_int_vector_attribute(const std::string& object_path,
                                                         const std::string& name) const {
  const std::string path = absolute(object_path);
  const std::string label = attribute_label(path, name);
  Handle attribute = open_attribute(file_id_, *this, path, name);
  require_numeric_attribute(path_, attribute.get(), label);
  std::vector<int64_t> values(static_cast<size_t>(attribute_element_count(path_, attribute.get(), label)));
  if (!values.empty() && H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()) < 0) {
    throw_hdf5_error(path_, "reading attribute", label);
  }
  return values;
}

}  // namespace stripes::io
