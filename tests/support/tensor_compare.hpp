// Random test inputs from a fixed seed, and the two relative errors the tests compare a kernel
// with its reference by.
#pragma once

#include "tensor/math.hpp"
#include "tensor/tensor.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

namespace stripes::test {

// N(0, 1) of `shape` from Generator(seed): the same tensor in every run.
inline Tensor randn(const Shape& shape, uint64_t seed, DType dtype = DType::Float64) {
  Generator generator(seed);
  return Tensor::randn(shape, generator, dtype);
}

// max |value − reference| / max |reference|
inline double max_relative_error(const Tensor& value, const Tensor& reference) {
  return max_abs(value - reference) / max_abs(reference);
}

// ‖value − reference‖₂ / ‖reference‖₂ in float64, either tensor on any device (the error itself
// when the reference is all zeros). The shapes must agree.
inline double norm_relative_error(const Tensor& value, const Tensor& reference) {
  const Tensor v = value.to(Device::CPU).to(DType::Float64), r = reference.to(Device::CPU).to(DType::Float64);
  EXPECT_EQ(v.shape(), r.shape());
  const Tensor d = v - r;
  const double error = std::sqrt(sum(d * d).item()), scale = std::sqrt(sum(r * r).item());
  return scale == 0 ? error : error / scale;
}

}  // namespace stripes::test
