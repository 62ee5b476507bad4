// Math on tensors, without autograd. These are the kernels that differentiable ops (autograd/)
// compose; each checks shapes and dtypes and names itself in its errors. Every result is a fresh
// contiguous tensor unless the name ends in '_' (in place).
//
// Broadcasting follows NumPy. Mixed dtypes are an error (no silent promotion).
// Device: these are the CPU kernels; the CUDA backend dispatches here on Device::CUDA.
#pragma once

#include "tensor/tensor.hpp"

#include <vector>

namespace stripes {

// ---- elementwise, one input (float32/float64) ------------------------------------------------------
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);   // 1 / (1 + e^-x), computed without overflow
Tensor softplus(const Tensor& x);  // log(1 + e^x), computed without overflow
Tensor relu(const Tensor& x);
Tensor gelu(const Tensor& x);      // x Φ(x) with the exact Gaussian CDF (erf)
Tensor gelu_derivative(const Tensor& x);  // Φ(x) + x φ(x)
Tensor elu(const Tensor& x, double alpha);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);      // -1, 0, +1
Tensor pow(const Tensor& x, double exponent);
Tensor step(const Tensor& x);      // 1 where x > 0, else 0 (same dtype): relu's derivative

// ---- elementwise, two inputs with broadcasting -----------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor pow(const Tensor& base, const Tensor& exponent);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// a*scale + shift without temporaries (scalar affine map).
Tensor affine(const Tensor& x, double scale, double shift);

// Comparisons return uint8 masks (1 = true).
Tensor greater(const Tensor& a, const Tensor& b);
Tensor less(const Tensor& a, const Tensor& b);
Tensor equal(const Tensor& a, const Tensor& b);
// where(condition, a, b): a where condition != 0 else b; all three broadcast together.
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b);

inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double s) { return affine(a, 1.0, s); }
inline Tensor operator-(const Tensor& a, double s) { return affine(a, 1.0, -s); }
inline Tensor operator*(const Tensor& a, double s) { return affine(a, s, 0.0); }
inline Tensor operator/(const Tensor& a, double s) { return affine(a, 1.0 / s, 0.0); }
inline Tensor operator+(double s, const Tensor& a) { return affine(a, 1.0, s); }
inline Tensor operator-(double s, const Tensor& a) { return affine(a, -1.0, s); }
inline Tensor operator*(double s, const Tensor& a) { return affine(a, s, 0.0); }

// ---- reductions ------------------------------------------------------------------------------------
// Over `axes` (empty = all). keepdim keeps reduced axes with size 1.
Tensor sum(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor mean(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor max(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
Tensor min(const Tensor& x, const std::vector<int64_t>& axes = {}, bool keepdim = false);
// The reverse of broadcasting: sum `x` down to `shape` (which must broadcast to x's shape).
// This is how every broadcasting op's backward reduces its gradient.
Tensor sum_to(const Tensor& x, const Shape& shape);
bool all_finite(const Tensor& x);
double max_abs(const Tensor& x);

// ---- linear algebra --------------------------------------------------------------------------------
// Batched matrix product: a [..., m, k] @ b [..., k, n] -> [..., m, n]; batch dims broadcast.
// Runs on Eigen's GEMM; transposed views are read in place (no copy).
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- scans -----------------------------------------------------------------------------------------
// Inclusive prefix sum along `axis`; reverse = suffix sum (y_t = Σ_{s ≥ t} x_s).
Tensor cumsum(const Tensor& x, int64_t axis, bool reverse = false);

// ---- indexing --------------------------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis);
// index_select(x, axis, index): out = x with axis replaced by index's shape (index int64, any shape).
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);
// target.index_select(axis, index) += source, accumulating over repeated indices (in place).
void index_add_(Tensor& target, int64_t axis, const Tensor& index, const Tensor& source);
// gather(x, axis, index): out[i][j][k] = x[i][index[i][j][k]][k] (axis = 1); index has x's rank.
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);
// target[i][index[i][j][k]][k] += source[i][j][k] (axis = 1), in place.
void scatter_add_(Tensor& target, int64_t axis, const Tensor& index, const Tensor& source);

}  // namespace stripes
