// Generic elementwise engines the named kernels of math.hpp are built from (CPU).
// unary_map:  out[i] = f(x[i])
// binary_map: out[i] = f(a[i], b[i]) with NumPy broadcasting
// The inner loop has a unit-stride branch so the compiler can vectorize it.
#pragma once

#include "tensor/strided_loop.hpp"
#include "tensor/tensor.hpp"

#include <string_view>

namespace stripes {

inline void require_cpu(std::string_view op, const Tensor& x) {
  STRIPES_CHECK(x.defined(), "{}: input tensor is undefined", op);
  STRIPES_CHECK(x.device() == Device::CPU, "{}: no {} kernel in this build for {}", op, device_name(x.device()),
                x.description());
}

inline void require_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  STRIPES_CHECK(a.dtype() == b.dtype(), "{}: dtype mismatch between {} and {}", op, a.description(), b.description());
}

template <typename T, typename OutT = T, typename F>
Tensor unary_map_typed(const Tensor& x, DType out_dtype, F&& f) {
  Tensor out = Tensor::empty(x.shape(), out_dtype);
  const T* src = x.data<T>();
  OutT* dst = out.mutable_data<OutT>();
  strided_loop<2>(x.shape(), {out.strides(), x.strides()},
                  [&](const std::array<int64_t, 2>& o, int64_t count, const std::array<int64_t, 2>& s) {
                    OutT* d = dst + o[0];
                    const T* a = src + o[1];
                    if (s[0] == 1 && s[1] == 1) {
                      for (int64_t i = 0; i < count; ++i) d[i] = f(a[i]);
                    } else {
                      for (int64_t i = 0; i < count; ++i) d[i * s[0]] = f(a[i * s[1]]);
                    }
                  });
  return out;
}

// f is a generic lambda called with T = float or double.
template <typename F>
Tensor unary_map(std::string_view op, const Tensor& x, F&& f) {
  require_cpu(op, x);
  return dispatch_floating(x.dtype(), op, [&]<typename T>() { return unary_map_typed<T>(x, x.dtype(), f); });
}

template <typename T, typename OutT = T, typename F>
Tensor binary_map_typed(std::string_view op, const Tensor& a, const Tensor& b, DType out_dtype, F&& f) {
  const Shape shape = broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = Tensor::empty(shape, out_dtype);
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  OutT* dst = out.mutable_data<OutT>();
  strided_loop<3>(shape,
                  {out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                   broadcast_strides(b.shape(), b.strides(), shape)},
                  [&](const std::array<int64_t, 3>& o, int64_t count, const std::array<int64_t, 3>& s) {
                    OutT* d = dst + o[0];
                    const T* x = pa + o[1];
                    const T* y = pb + o[2];
                    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
                      for (int64_t i = 0; i < count; ++i) d[i] = f(x[i], y[i]);
                    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
                      const T yv = *y;
                      for (int64_t i = 0; i < count; ++i) d[i] = f(x[i], yv);
                    } else {
                      for (int64_t i = 0; i < count; ++i) d[i * s[0]] = f(x[i * s[1]], y[i * s[2]]);
                    }
                  });
  return out;
}

template <typename F>
Tensor binary_map(std::string_view op, const Tensor& a, const Tensor& b, F&& f) {
  require_cpu(op, a);
  require_cpu(op, b);
  require_same_dtype(op, a, b);
  return dispatch_floating(a.dtype(), op, [&]<typename T>() { return binary_map_typed<T>(op, a, b, a.dtype(), f); });
}

}  // namespace stripes
