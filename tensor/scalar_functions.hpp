// The scalar math of every elementwise op, written once as functors that compile for the CPU and,
// under nvcc, for the GPU (STRIPES_HOST_DEVICE). The CPU kernels (tensor/elementwise.cpp) and the
// CUDA kernels (tensor/cuda/elementwise.cu) both instantiate these, so the two backends cannot
// disagree on the formula — only on rounding.
//
// Ops are named by an enum so that a backend can be chosen at run time without templates crossing
// the .cpp/.cu boundary; visit_unary / visit_binary map an enum value to its functor.
#pragma once

#include <cmath>
#include <cstdint>

#ifdef __CUDACC__
#define STRIPES_HOST_DEVICE __host__ __device__
#else
#define STRIPES_HOST_DEVICE
#endif

namespace stripes::scalar {

using std::abs;
using std::cos;
using std::erf;
using std::exp;
using std::expm1;
using std::log;
using std::log1p;
using std::pow;
using std::sin;
using std::sqrt;
using std::tanh;

// ---- one input ---------------------------------------------------------------------------------
struct Identity { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return v; } };
struct Neg { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return -v; } };
struct Exp { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return exp(v); } };
struct Log { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return log(v); } };
struct Sqrt { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return sqrt(v); } };
struct Sin { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return sin(v); } };
struct Cos { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return cos(v); } };
struct Tanh { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return tanh(v); } };
struct Abs { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return v < T(0) ? -v : v; } };
struct Sign { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return T((v > T(0)) - (v < T(0))); } };
struct Relu { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return v > T(0) ? v : T(0); } };
// relu's derivative
struct Step { template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return v > T(0) ? T(1) : T(0); } };
// 1 / (1 + e^-x), branching on the sign so that exp never overflows
struct Sigmoid {
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const {
    if (v >= T(0)) return T(1) / (T(1) + exp(-v));
    const T e = exp(v);
    return e / (T(1) + e);
  }
};
// log(1 + e^x) = max(x, 0) + log1p(e^-|x|)
struct Softplus {
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const {
    return (v > T(0) ? v : T(0)) + log1p(exp(v < T(0) ? v : -v));
  }
};
// x Φ(x), Φ(x) = (1 + erf(x/√2)) / 2
struct Gelu {
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const {
    return T(0.5) * v * (T(1) + erf(v * T(0.70710678118654752440)));
  }
};
// d/dx x Φ(x) = Φ(x) + x φ(x), φ(x) = e^{-x²/2} / √(2π)
struct GeluDerivative {
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const {
    const T cdf = T(0.5) * (T(1) + erf(v * T(0.70710678118654752440)));
    const T pdf = exp(T(-0.5) * v * v) * T(0.39894228040143267794);
    return cdf + v * pdf;
  }
};
// x if x > 0 else α (e^x − 1)
struct Elu {
  double alpha;
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return v > T(0) ? v : T(alpha) * expm1(v); }
};
// x^p (x² exactly as x·x)
struct PowScalar {
  double exponent;
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return exponent == 2.0 ? v * v : pow(v, T(exponent)); }
};
// scale·x + shift
struct Affine {
  double scale, shift;
  template <class T> STRIPES_HOST_DEVICE T operator()(T v) const { return T(scale) * v + T(shift); }
};

enum class UnaryOp { Identity, Neg, Exp, Log, Sqrt, Sin, Cos, Tanh, Abs, Sign, Relu, Step, Sigmoid, Softplus, Gelu,
                     GeluDerivative, Elu, PowScalar, Affine };
struct UnaryParams {
  double a = 0.0, b = 0.0;  // Elu: alpha = a; PowScalar: exponent = a; Affine: scale = a, shift = b
};

template <class Visitor>
decltype(auto) visit_unary(UnaryOp op, const UnaryParams& p, Visitor&& visit) {
  switch (op) {
    case UnaryOp::Identity: return visit(Identity{});
    case UnaryOp::Neg: return visit(Neg{});
    case UnaryOp::Exp: return visit(Exp{});
    case UnaryOp::Log: return visit(Log{});
    case UnaryOp::Sqrt: return visit(Sqrt{});
    case UnaryOp::Sin: return visit(Sin{});
    case UnaryOp::Cos: return visit(Cos{});
    case UnaryOp::Tanh: return visit(Tanh{});
    case UnaryOp::Abs: return visit(Abs{});
    case UnaryOp::Sign: return visit(Sign{});
    case UnaryOp::Relu: return visit(Relu{});
    case UnaryOp::Step: return visit(Step{});
    case UnaryOp::Sigmoid: return visit(Sigmoid{});
    case UnaryOp::Softplus: return visit(Softplus{});
    case UnaryOp::Gelu: return visit(Gelu{});
    case UnaryOp::GeluDerivative: return visit(GeluDerivative{});
    case UnaryOp::Elu: return visit(Elu{p.a});
    case UnaryOp::PowScalar: return visit(PowScalar{p.a});
    case UnaryOp::Affine: return visit(Affine{p.a, p.b});
  }
  return visit(Identity{});
}

// ---- two inputs ----------------------------------------------------------------------------------
struct Add { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return x + y; } };
struct Sub { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return x - y; } };
struct Mul { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return x * y; } };
struct Div { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return x / y; } };
struct Pow { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return pow(x, y); } };
struct Maximum { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return x > y ? x : y; } };
struct Minimum { template <class T> STRIPES_HOST_DEVICE T operator()(T x, T y) const { return x < y ? x : y; } };

enum class BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum };

template <class Visitor>
decltype(auto) visit_binary(BinaryOp op, Visitor&& visit) {
  switch (op) {
    case BinaryOp::Add: return visit(Add{});
    case BinaryOp::Sub: return visit(Sub{});
    case BinaryOp::Mul: return visit(Mul{});
    case BinaryOp::Div: return visit(Div{});
    case BinaryOp::Pow: return visit(Pow{});
    case BinaryOp::Maximum: return visit(Maximum{});
    case BinaryOp::Minimum: return visit(Minimum{});
  }
  return visit(Add{});
}

// ---- comparisons (any dtype in, uint8 out) ----------------------------------------------------------
struct Greater { template <class T> STRIPES_HOST_DEVICE uint8_t operator()(T x, T y) const { return x > y; } };
struct Less { template <class T> STRIPES_HOST_DEVICE uint8_t operator()(T x, T y) const { return x < y; } };
struct Equal { template <class T> STRIPES_HOST_DEVICE uint8_t operator()(T x, T y) const { return x == y; } };

enum class CompareOp { Greater, Less, Equal };

template <class Visitor>
decltype(auto) visit_compare(CompareOp op, Visitor&& visit) {
  switch (op) {
    case CompareOp::Greater: return visit(Greater{});
    case CompareOp::Less: return visit(Less{});
    case CompareOp::Equal: return visit(Equal{});
  }
  return visit(Equal{});
}

}  // namespace stripes::scalar
