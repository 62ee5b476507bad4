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
