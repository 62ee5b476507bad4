// Eigen, included in one place. GCC 12 reports false "(may be) used uninitialized" warnings inside
// Eigen's AVX-512 kernels (the GEMM kernels; the range reduction of its vectorized sin and cos);
// they are silenced here and nowhere else.
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <Eigen/Core>
#include <Eigen/Dense>
#pragma GCC diagnostic pop

namespace stripes {

// Row-major views of tensor data, the tensors' own layout: whole rows (Rows, ConstRows) or rows
// `OuterStride` elements apart (StridedRows, ConstStridedRows: a slice of a wider matrix).
template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using Rows = Eigen::Map<RowMatrix<T>>;
template <typename T>
using ConstRows = Eigen::Map<const RowMatrix<T>>;
template <typename T>
using StridedRows = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using ConstStridedRows = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;

}  // namespace stripes
