#include "attention/feature_maps.hpp"

#include "tensor/eigen.hpp"

#include <cmath>

namespace stripes::attention {

FeatureMapKind parse_feature_map(std::string_view name) {
  if (name == "favor") return FeatureMapKind::Favor;
  if (name == "trig") return FeatureMapKind::Trig;
  if (name == "elu") return FeatureMapKind::Elu;
  throw_error("unknown feature map '{}' (expected favor, trig or elu)", name);
}

std::string_view feature_map_name(FeatureMapKind kind) {
  switch (kind) {
    case FeatureMapKind::Favor: return "favor";
    case FeatureMapKind::Trig: return "trig";
    case FeatureMapKind::Elu: return "elu";
  }
  return "?";
}

Tensor draw_random_projection(int64_t d, int64_t columns, Generator& generator, DType dtype, bool orthogonal) {
  STRIPES_CHECK(d > 0 && columns > 0, "draw_random_projection: need d > 0 and columns > 0, got {} and {}", d, columns);
  if (!orthogonal) return Tensor::randn({d, columns}, generator, dtype);
  Tensor out = Tensor::empty({d, columns}, DType::Float64);
  double* w = out.mutable_data<double>();
  for (int64_t start = 0; start < columns; start += d) {
    const int64_t block = std::min(d, columns - start);
    const Tensor gaussian = Tensor::randn({d, d}, generator, DType::Float64);
    Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> g(gaussian.data<double>(), d, d);
    Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
    Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(d, d);
    const Eigen::MatrixXd r = qr.matrixQR().triangularView<Eigen::Upper>();
    for (int64_t j = 0; j < d; ++j) {
      if (r(j, j) < 0) q.col(j) *= -1.0;  // makes Q Haar-distributed
    }
    const Tensor norms_source = Tensor::randn({block, d}, generator, DType::Float64);
    for (int64_t j = 0; j < block; ++j) {
      double norm = 0;
      for (int64_t i = 0; i < d; ++i) norm += norms_source.at({j, i}) * norms_source.at({j, i});
      norm = std::sqrt(norm);
      for (int64_t i = 0; i < d; ++i) w[i * columns + start + j] = q(i, j) * norm;
    }
  }
  return out.to(dtype);
}

// φ(x) = [exp(u − ‖x'‖²/2 − ½ln M − c), exp(−u − ‖x'‖²/2 − ½ln M − c)],  x' = x d^{-1/4}, u = x'W
// The readable composition of primitive ops; favor_features (attention/favor_features.cpp) is the
// same function as one op, tested against this one.
ag::Var favor_features_reference(const ag::Var& x, const Tensor& projection, bool stabilize_query) {
  const int64_t d = x.size(-1);
  STRIPES_CHECK(projection.dim() == 2 && projection.size(0) == d,
                "favor_features: projection {} does not match inputs of dimension {}", projection.description(), d);
  const int64_t m = 2 * projection.size(1);
  const ag::Var scaled = x * std::pow(double(d), -0.25);                                  // x'   [..., d]
  const ag::Var u = ag::matmul(scaled, ag::Var(projection.to(x.value().device())));      // u    [..., M/2]
  const ag::Var half_norm = ag::sum(scaled * scaled, {-1}, true) * 0.5 + 0.5 * std::log(double(m));  // [..., 1]
  ag::Var positive = u - half_norm, negative = -u - half_norm;
  if (stabilize_query) {
    // c_m = max over both halves of the exponent at this position. It is differentiated like the
    // rest: it cancels exactly only when ε = 0, so with ε > 0 its gradient is part of the function.
    const ag::Var shift = ag::max(ag::concat({positive, negative}, -1), {-1}, true);
    positive = positive - shift;
    negative = negative - shift;
  }
  return ag::concat({ag::exp(positive), ag::exp(negative)}, -1);
}

// φ(x) = √(2/M) [cos(x'W), sin(x'W)]
ag::Var trig_features(const ag::Var& x, const Tensor& projection) {
  const int64_t d = x.size(-1);
  STRIPES_CHECK(projection.dim() == 2 && projection.size(0) == d,
                "trig_features: projection {} does not match inputs of dimension {}", projection.description(), d);
  const int64_t m = 2 * projection.size(1);
  const ag::Var u = ag::matmul(x * std::pow(double(d), -0.25), ag::Var(projection.to(x.value().device())));
  return ag::concat({ag::cos(u), ag::sin(u)}, -1) * std::sqrt(2.0 / double(m));
}

// φ(x) = elu(x) + 1
ag::Var elu_features(const ag::Var& x) { return ag::elu(x, 1.0) + 1.0; }

Tensor exact_kernel(FeatureMapKind kind, const Tensor& x, const Tensor& y) {
  const int64_t d = x.size(-1);
  switch (kind) {
    case FeatureMapKind::Favor: return exp(matmul(x, y.transpose(0, 1)) * (1.0 / std::sqrt(double(d))));
    case FeatureMapKind::Trig: {
      const Tensor xx = sum(x * x, {-1}, true), yy = sum(y * y, {-1}, true).transpose(0, 1);
      const Tensor squared_distance = xx + yy - matmul(x, y.transpose(0, 1)) * 2.0;
      return exp(squared_distance * (-0.5 / std::sqrt(double(d))));
    }
    case FeatureMapKind::Elu: return matmul(elu(x, 1.0) + 1.0, (elu(y, 1.0) + 1.0).transpose(0, 1));
  }
  throw_error("exact_kernel: unknown feature map");
}

}  // namespace stripes::attention
