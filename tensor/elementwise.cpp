// Named elementwise kernels. The math of each is a functor in tensor/scalar_functions.hpp, shared
// with the CUDA backend; here each op picks the backend of its operands.
#include "tensor/elementwise.hpp"

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"
#include "tensor/scalar_functions.hpp"

namespace stripes {

namespace {

using scalar::BinaryOp;
using scalar::CompareOp;
using scalar::UnaryOp;
using scalar::UnaryParams;

Tensor unary(std::string_view name, UnaryOp op, const Tensor& x, UnaryParams params = {}) {
  STRIPES_CHECK(x.defined(), "{}: input tensor is undefined", name);
  if (x.device() == Device::CUDA) {
    dispatch_floating(x.dtype(), name, []<typename T>() {});  // the CPU's dtype check and message
    return cuda::unary(op, x, params);
  }
  return scalar::visit_unary(op, params, [&](auto functor) { return unary_map(name, x, functor); });
}

// A CPU constant — a 0-d scalar or a uint8 mask (causal masks are built on the host) — may meet a
// device tensor: it is copied to that device. Any other mix of devices is an error.
void align_devices(std::string_view name, Tensor& a, Tensor& b) {
  if (a.device() == b.device()) return;
  auto movable = [](const Tensor& t) { return t.device() == Device::CPU && (t.dim() == 0 || t.dtype() == DType::UInt8); };
  if (movable(a)) a = a.to(b.device());
  else if (movable(b)) b = b.to(a.device());
  else throw_error("{}: device mismatch between {} and {}", name, a.description(), b.description());
}

Tensor binary(std::string_view name, BinaryOp op, const Tensor& a_in, const Tensor& b_in) {
  STRIPES_CHECK(a_in.defined() && b_in.defined(), "{}: input tensor is undefined", name);
  Tensor a = a_in, b = b_in;
  align_devices(name, a, b);
  if (a.device() == Device::CUDA) {
    require_same_dtype(name, a, b);
    dispatch_floating(a.dtype(), name, []<typename T>() {});
    return cuda::binary(op, a, b, broadcast_shapes(name, a.shape(), b.shape()));
  }
  return scalar::visit_binary(op, [&](auto functor) { return binary_map(name, a, b, functor); });
}

Tensor compare(std::string_view name, CompareOp op, const Tensor& a_in, const Tensor& b_in) {
  Tensor a = a_in, b = b_in;
  align_devices(name, a, b);
  require_same_dtype(name, a, b);
  if (a.device() == Device::CUDA) return cuda::compare(op, a, b, broadcast_shapes(name, a.shape(), b.shape()));
  require_cpu(name, a);
  require_cpu(name, b);
  return scalar::visit_compare(op, [&](auto functor) {
    return dispatch_any(a.dtype(), [&]<typename T>() {
      return binary_map_typed<T, uint8_t>(name, a, b, DType::UInt8, [&](T x, T y) { return functor(x, y); });
    });
  });
}

}  // namespace

Tensor neg(const Tensor& x) { return unary("neg", UnaryOp::Neg, x); }
Tensor exp(const Tensor& x) { return unary("exp", UnaryOp::Exp, x); }
Tensor log(const Tensor& x) { return unary("log", UnaryOp::Log, x); }
Tensor sqrt(const Tensor& x) { return unary("sqrt", UnaryOp::Sqrt, x); }
Tensor sin(const Tensor& x) { return unary("sin", UnaryOp::Sin, x); }
Tensor cos(const Tensor& x) { return unary("cos", UnaryOp::Cos, x); }
Tensor tanh(const Tensor& x) { return unary("tanh", UnaryOp::Tanh, x); }
Tensor abs(const Tensor& x) { return unary("abs", UnaryOp::Abs, x); }
Tensor sign(const Tensor& x) { return unary("sign", UnaryOp::Sign, x); }
Tensor relu(const Tensor& x) { return unary("relu", UnaryOp::Relu, x); }
Tensor step(const Tensor& x) { return unary("step", UnaryOp::Step, x); }
Tensor sigmoid(const Tensor& x) { return unary("sigmoid", UnaryOp::Sigmoid, x); }
Tensor softplus(const Tensor& x) { return unary("softplus", UnaryOp::Softplus, x); }
Tensor gelu(const Tensor& x) { return unary("gelu", UnaryOp::Gelu, x); }
Tensor gelu_derivative(const Tensor& x) { return unary("gelu_derivative", UnaryOp::GeluDerivative, x); }
Tensor elu(const Tensor& x, double alpha) { return unary("elu", UnaryOp::Elu, x, {alpha, 0.0}); }
Tensor pow(const Tensor& x, double exponent) { return unary("pow", UnaryOp::PowScalar, x, {exponent, 0.0}); }
Tensor affine(const Tensor& x, double scale, double shift) { return unary("affine", UnaryOp::Affine, x, {scale, shift}); }

Tensor add(const Tensor& a, const Tensor& b) { return binary("add", BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary("sub", BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary("mul", BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary("div", BinaryOp::Div, a, b); }
Tensor pow(const Tensor& base, const Tensor& exponent) { return binary("pow", BinaryOp::Pow, base, exponent); }
Tensor maximum(const Tensor& a, const Tensor& b) { return binary("maximum", BinaryOp::Maximum, a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary("minimum", BinaryOp::Minimum, a, b); }

Tensor greater(const Tensor& a, const Tensor& b) { return compare("greater", CompareOp::Greater, a, b); }
Tensor less(const Tensor& a, const Tensor& b) { return compare("less", CompareOp::Less, a, b); }
Tensor equal(const Tensor& a, const Tensor& b) { return compare("equal", CompareOp::Equal, a, b); }

Tensor where(const Tensor& condition_in, const Tensor& a_in, const Tensor& b_in) {
  STRIPES_CHECK(condition_in.defined() && a_in.defined() && b_in.defined(), "where: input tensor is undefined");
  Tensor condition = condition_in, a = a_in, b = b_in;
  align_devices("where", a, b);
  align_devices("where", condition, a);
  align_devices("where", condition, b);
  require_same_dtype("where", a, b);
  STRIPES_CHECK(condition.dtype() == DType::UInt8, "where: condition must be a uint8 mask, got {}",
                condition.description());
  const Shape shape = broadcast_shapes("where", broadcast_shapes("where", condition.shape(), a.shape()), b.shape());
  if (a.device() == Device::CUDA) return cuda::where(condition, a, b, shape);
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
