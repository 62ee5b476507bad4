// Tensor-level HDF5 save/load, on top of the raw wrapper (tensor/io/hdf5_file.hpp).
//
// A tensor is stored as one dataset with its own element type (float32, float64, int64, uint8),
// its shape as the dataset's shape (a 0-d tensor as a scalar dataset), in row-major order (a
// non-contiguous view is made contiguous first). Two attributes are always written, so a reader
// never has to guess:
//   shape  int64 vector   the tensor's shape (absent for a 0-d tensor, stored as a scalar dataset)
//   dtype  string         "float32" | "float64" | "int64" | "uint8"
// plus any string attributes the caller adds (the recorder adds op and description).
//
// load_tensor reads the dataset back with the dtype it was stored with; datasets written by
// other tools (h5py) with other integer widths are read as int64, other float widths as float64.
#pragma once

#include "tensor/io/hdf5_file.hpp"
#include "tensor/tensor.hpp"

#include <string>
#include <utility>
#include <vector>

namespace stripes::io {

using StringAttributes = std::vector<std::pair<std::string, std::string>>;

// Writes `tensor` to `dataset_path` (a GPU tensor through a host copy), replacing an existing
// dataset, creating parent groups.
void save_tensor(Hdf5File& file, const std::string& dataset_path, const Tensor& tensor,
                 const StringAttributes& attributes = {});

// Reads the dataset at `dataset_path` as a fresh contiguous CPU tensor. Throws stripes::Error
// naming the file and the path when it is missing, is a group, or has a non-numeric type.
Tensor load_tensor(const Hdf5File& file, const std::string& dataset_path);

// Same, and checks the stored shape and dtype; a mismatch throws naming `what` (e.g. the
// parameter name), the file, the path, and both shapes/dtypes.
Tensor load_tensor_expecting(const Hdf5File& file, const std::string& dataset_path, const Shape& shape, DType dtype,
                             const std::string& what);

}  // namespace stripes::io
