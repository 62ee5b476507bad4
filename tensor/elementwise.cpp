// Named elementwise kernels. Each is one line of math over the engines in elementwise.hpp.
#include "tensor/elementwise.hpp"

#include "tensor/math.hpp"

#include <cmath>
#include <numbers>

namespace stripes {

Tensor neg(const Tensor& x) { return unary_map("neg", x, [](auto v) { return -v; }); }
Tensor exp(const Tensor& x) { return unary_map("exp", x, [](auto v) { return std::exp(v); }); }
Tensor log(const Tensor& x) { return unary_map("log", x, [](auto v) { return std::log(v); }); }
Tensor sqrt(const Tensor& x) { return unary_map("sqrt", x, [](auto v) { return std::sqrt(v); }); }
Tensor sin(const Tensor& x) { return unary_map("sin", x, [](auto v) { return std::sin(v); }); }
Tensor cos(const Tensor& x) { return unary_map("cos", x, [](auto v) { return std::cos(v); }); }
Tensor tanh(const Tensor& x) { return unary_map("tanh", x, [](auto v) { return std::tanh(v); }); }
Tensor abs(const Tensor& x) { return unary_map("abs", x, [](auto v) { return std::abs(v); }); }

Tensor sigmoid(const Tensor& x) {
  // Branch on the sign so that exp never overflows.
  return unary_map("sigmoid", x, [](auto v) {
    using T = decltype(v);
    if (v >= T(0)) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  });
}

Tensor softplus(const Tensor& x) {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
  return unary_map("softplus", x, [](auto v) {
    using T = decltype(v);
    return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v)));
  });
}

Tensor relu(const Tensor& x) {
  return unary_map("relu", x, [](auto v) { return v > decltype(v)(0) ? v : decltype(v)(0); });
}

Tensor step(const Tensor& x) {
  return unary_map("step", x, [](auto v) { return v > decltype(v)(0) ? decltype(v)(1) : decltype(v)(0); });
}

Tensor gelu(const Tensor& x) {
  // x Φ(x), Φ(x) = (1 + erf(x/√2)) / 2
  return unary_map("gelu", x, [](auto v) {
    using T = decltype(v);
    return T(0.5) * v * (T(1) + std::erf(v * T(std::numbers::sqrt2 / 2)));
  });
}

Tensor gelu_derivative(const Tensor& x) {
  // d/dx x Φ(x) = Φ(x) + x φ(x), φ(x) = e^{-x²/2} / √(2π)
  return unary_map("gelu_derivative", x, [](auto v) {
    using T = decltype(v);
    const T cdf = T(0.5) * (T(1) + std::erf(v * T(std::numbers::sqrt2 / 2)));
    const T pdf = std::exp(T(-0.5) * v * v) * T(std::numbers::inv_sqrtpi / std::numbers::sqrt2);
    return cdf + v * pdf;
  });
}

Tensor elu(const Tensor& x, double alpha) {
  return unary_map("elu", x, [alpha](auto v) {
    using T = decltype(v);
    return v > T(0) ? v : T(alpha) * std::expm1(v);
  });
}

Tensor sign(const Tensor& x) {
  return unary_map("sign", x, [](auto v) {
    using T = decltype(v);
    return T((v > T(0)) - (v < T(0)));
  });
}

Tensor pow(const Tensor& x, double exponent) {
  if (exponent == 2.0) return unary_map("pow", x, [](auto v) { return v * v; });
  return unary_map("pow", x, [exponent](auto v) { return std::pow(v, decltype(v)(exponent)); });
}

Tensor affine(const Tensor& x, double scale, double shift) {
  return unary_map("affine", x, [scale, shift](auto v) {
    using T = decltype(v);
    return T(scale) * v + T(shift);
  });
}

Tensor add(const Tensor& a, const Tensor& b) { return binary_map("add", a, b, [](auto x, auto y) { return x + y; }); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary_map("sub", a, b, [](auto x, auto y) { return x - y; }); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary_map("mul", a, b, [](auto x, auto y) { return x * y; }); }
Tensor div(const Tensor& a, const Tensor& b) { return binary_map("div", a, b, [](auto x, auto y) { return x / y; }); }
Tensor pow(const Tensor& base, const Tensor& exponent) {
  return binary_map("pow", base, exponent, [](auto x, auto y) { return std::pow(x, y); });
}
Tensor maximum(const Tensor& a, const Tensor& b) {
  return binary_map("maximum", a, b, [](auto x, auto y) { return x > y ? x : y; });
}
Tensor minimum(const Tensor& a, const Tensor& b) {
  return binary_map("minimum", a, b, [](auto x, auto y) { return x < y ? x : y; });
}

// Comparisons accept any (matching) dtype and produce uint8.
template <typename F>
static Tensor compare(std::string_view op, const Tensor& a, const Tensor& b, F&& f) {
  require_cpu(op, a);
  require_cpu(op, b);
  require_same_dtype(op, a, b);
  return dispatch_any(a.dtype(), [&]<typename T>() {
    return binary_map_typed<T, uint8_t>(op, a, b, DType::UInt8, [&](T x, T y) { return uint8_t(f(x, y)); });
  });
}

Tensor greater(const Tensor& a, const Tensor& b) { return compare("greater", a, b, [](auto x, auto y) { return x > y; }); }
Tensor less(const Tensor& a, const Tensor& b) { return compare("less", a, b, [](auto x, auto y) { return x < y; }); }
Tensor equal(const Tensor& a, const Tensor& b) { return compare("equal", a, b, [](auto x, auto y) { return x == y; }); }

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b) {
  require_cpu("where", condition);
  require_cpu("where", a);
  require_cpu("where", b);
  require_same_dtype("where", a, b);
  STRIPES_CHECK(condition.dtype() == DType::UInt8, "where: condition must be a uint8 mask, got {}",
                condition.description());
  const Shape shape = broadcast_shapes("where", broadcast_shapes("where", condition.shape(), a.shape()), b.shape());
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch_any(a.dtype(), [&]<typename T>() {
    const uint8_t* pc = condition.data<uint8_t>();
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* dst = out.mutable_data<T>();
    strided_loop<4>(shape,
                    {out.strides(), broadcast_strides(condition.shape(), condition.strides(), shape),
                     broadcast_strides(a.shape(), a.strides(), shape), broadcast_strides(b.shape(), b.strides(), shape)},
                    [&](const std::array<int64_t, 4>& o, int64_t count, const std::array<int64_t, 4>& s) {
                      for (int64_t i = 0; i < count; ++i) {
                        dst[o[0] + i * s[0]] = pc[o[1] + i * s[1]] ? pa[o[2] + i * s[2]] : pb[o[3] + i * s[3]];
                      }
                    });
  });
  return out;
}

}  // namespace stripes
