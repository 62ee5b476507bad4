#include "experiments/toy/toy_study.hpp"

#include "tensor/math.hpp"

#include <algorithm>
#include <cmath>

namespace stripes::toy {

// ---- the points ------------------------------------------------------------------------------------

Tensor ToySet::content() const {
  std::vector<double> values;
  values.reserve(psi.size() * 2);
  for (const double angle : psi) {
    values.push_back(std::cos(angle));
    values.push_back(std::sin(angle));
  }
  return Tensor::from_vector(values, {points(), 2});
}

Tensor ToySet::positions() const { return Tensor::from_vector(xi, {1, points()}); }

ToySet draw_toy_set(const ToyOptions& options, Generator& generator) {
  STRIPES_CHECK(options.contexts >= 1 && options.points_per_context >= 1, "toy: need at least one context and one point per context, got {} and {}",
                options.contexts, options.points_per_context);
  STRIPES_CHECK(options.sigma >= 0 && std::isfinite(options.sigma), "toy: --sigma must be a finite non-negative angle, got {}",
                options.sigma);
  STRIPES_CHECK(options.query_slot >= 0 && options.query_slot < options.points_per_context,
                "toy: query slot {} is not one of the {} points of a context", options.query_slot, options.points_per_context);
  const int64_t n = options.contexts, per = options.points_per_context;
  ToySet set;
  for (int64_t i = 1; i <= n; ++i) set.context_angles.push_back(double(i) * M_PI / double(n + 1));
  const std::vector<double> noise = Tensor::randn({n * per}, generator, DType::Float64).to_vector<double>();
  for (int64_t k = 0; k < n; ++k) {
    for (int64_t s = 0; s < per; ++s) {
      set.context.push_back(k);
      set.xi.push_back(set.context_angles[size_t(k)]);
      set.psi.push_back(set.context_angles[size_t(k)] + options.sigma * noise[size_t(k * per + s)]);
    }
  }
  set.query = (n / 2) * per + options.query_slot;  // middle context (context 2 of 0..4)
  return set;
}

ToySet draw_toy_set(const ToyOptions& options) {
  Generator generator(options.seed);
  return draw_toy_set(options, generator);
}

std::vector<double> frequency_grid(int64_t count) {
  STRIPES_CHECK(count >= 2, "toy: the frequency grid needs at least 2 points, got {}", count);
  std::vector<double> f(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i) f[size_t(i)] = double(i) / double(count - 1);
  return f;
}

// ---- the PEs ---------------------------------------------------------------------------------------

std::string_view method_title(Method method) {
  switch (method) {
    case Method::Rope: return "RoPE";
    case Method::FStripe1: return "F-StrIPE\u2081";
    case Method::RopePool: return "RoPEPool";
  }
  return "?";
}

std::string_view method_key(Method method) {
  switch (method) {
    case Method::Rope: return "rope";
    case Method::FStripe1: return "fstripe1";
    case Method::RopePool: return "ropepool";
  }
  return "?";
}

std::string_view method_pe_name(Method method) {
  switch (method) {
    case Method::Rope: return "rope-c";  // RoPE with its frequency as a parameter (the value is what matters)
    case Method::FStripe1: return "fstripe1";
    case Method::RopePool: return "ropepool";
  }
  return "?";
}

std::shared_ptr<attention::PositionalEncoding> make_toy_encoding(Method method) {
  attention::PositionalEncodingConfig config;
  config.name = std::string(method_pe_name(method));
  config.heads = 1;
  config.head_dim = 2;
  config.position_dim = 1;
  config.dtype = DType::Float64;
  config.fstripe1_pooled = false;
  return attention::make_positional_encoding(config);
}

ag::Var toy_pe_scores(Method method, const ag::Var& queries, const ag::Var& keys, const Tensor& positions,
                      const ag::Var& frequency) {
  STRIPES_CHECK(queries.dim() == 4 && queries.size(1) == 1 && queries.size(-1) == 2 && keys.shape() == queries.shape(),
                "toy: queries {} and keys {} must both be [B, 1, T, 2]", queries.value().description(), keys.value().description());
  STRIPES_CHECK(frequency.numel() == 1, "toy: the frequency must be one value, got {}", frequency.value().description());
  const auto pe = make_toy_encoding(method);
  // Every frequency parameter of the PE ([1, J, 1]: J = 1 pair for the rotary PEs, J = 2 dims for
  // F-StrIPE₁) computes as the one given frequency.
  const ag::Var parameter = pe->parameter("frequencies");
  const ag::Var tied = ag::Var(Tensor::ones(parameter.shape(), DType::Float64)) * ag::reshape(frequency, {1, 1, 1});
  pe->bind_parameters({tied});
  const auto encoded = pe->encode(queries, keys, positions);
  return ag::matmul(encoded.query, ag::transpose(encoded.key, -1, -2));  // [B, 1, T, T]
}

Tensor score_map(Method method, const ToySet& set, const std::vector<double>& frequencies, double frequency_sign,
                 const Tensor& w_query, const Tensor& w_key) {
  ag::NoGradGuard no_grad;
  const int64_t points = set.points();
  const Tensor x = set.content();  // [P, 2]
  const Tensor q = w_query.defined() ? matmul(x, w_query.transpose(0, 1)) : x;
  const Tensor k = w_key.defined() ? matmul(x, w_key.transpose(0, 1)) : x;
  const ag::Var queries(q.reshape({1, 1, points, 2})), keys(k.reshape({1, 1, points, 2}));
  const Tensor positions = set.positions();
  Tensor out = Tensor::empty({int64_t(frequencies.size()), points}, DType::Float64);
  double* row = out.mutable_data<double>();
  for (const double f : frequencies) {
    const ag::Var frequency(Tensor::full({1}, frequency_sign * f, DType::Float64));
    const Tensor scores = toy_pe_scores(method, queries, keys, positions, frequency).value();  // [1, 1, P, P]
    const Tensor query_row = scores.select(0, 0).select(0, 0).select(0, set.query).contiguous();
    std::copy_n(query_row.data<double>(), points, row);
    row += points;
  }
  return out;
}

Tensor closed_form_map(Method method, const ToySet& set, const std::vector<double>& frequencies, double frequency_sign) {
  const int64_t points = set.points();
  Tensor out = Tensor::empty({int64_t(frequencies.size()), points}, DType::Float64);
  double* a = out.mutable_data<double>();
  const double psi_q = set.psi[size_t(set.query)], xi_q = set.xi[size_t(set.query)];
  for (const double unsigned_f : frequencies) {
    const double f = frequency_sign * unsigned_f;
    for (int64_t j = 0; j < points; ++j) {
      const double psi_j = set.psi[size_t(j)], xi_j = set.xi[size_t(j)];
      switch (method) {
        case Method::Rope: *a++ = std::cos((psi_q - psi_j) + f * (xi_q - xi_j)); break;            // eq. 24
        case Method::FStripe1: *a++ = std::cos(psi_q - psi_j) * std::cos(f * (xi_q - xi_j)); break;  // eq. 25
        case Method::RopePool:                                                                      // eq. 26
          *a++ = 2.0 * std::cos(psi_q + f * xi_q - M_PI / 4) * std::cos(psi_j + f * xi_j - M_PI / 4);
          break;
      }
    }
  }
  return out;
}

Tensor rescale_panel(const Tensor& map) {
  const double low = min(map).item(), high = max(map).item();
  if (high - low <= 0) return Tensor::full(map.shape(), 0.5, map.dtype());
  return affine(map, 1.0 / (high - low), -low / (high - low));
}

// ---- properties ------------------------------------------------------------------------------------

MapProperties measure_properties(const Tensor& rescaled_map, const ToySet& set) {
  STRIPES_CHECK(rescaled_map.dim() == 2 && rescaled_map.size(1) == set.points(), "toy: map {} must be [F, {}]",
                rescaled_map.description(), set.points());
  const Tensor map = rescaled_map.to(DType::Float64).contiguous();
  const int64_t rows = map.size(0), points = set.points();
  const double* a = map.data<double>();
  MapProperties out;
  const int64_t c = set.query_context();
  for (int64_t r = 0; r < rows; ++r) {
    const double* row = a + r * points;
    double same = 0, different = 0;
    int64_t n_same = 0, n_different = 0, best = 0;
    for (int64_t j = 0; j < points; ++j) {
      if (set.same_context(j)) same += row[j], ++n_same;
      else different += row[j], ++n_different;
      if (row[j] > row[best]) best = j;
    }
    same /= double(std::max<int64_t>(1, n_same));
    different /= double(std::max<int64_t>(1, n_different));
    out.same_mean.push_back(same);
    out.different_mean.push_back(different);
    out.separation.push_back(same - different);
    out.rows_same_above_different += same > different ? 1 : 0;
    out.rows_top_key_same += set.same_context(best) ? 1 : 0;

    // |mean(context c − d) − mean(context c + d)| for d = 1 .. while both sides exist
    double asymmetry = 0;
    int64_t pairs = 0;
    for (int64_t d = 1; c - d >= 0 && c + d < set.contexts(); ++d) {
      double left = 0, right = 0;
      int64_t n_left = 0, n_right = 0;
      for (int64_t j = 0; j < points; ++j) {
        if (set.context[size_t(j)] == c - d) left += row[j], ++n_left;
        if (set.context[size_t(j)] == c + d) right += row[j], ++n_right;
      }
      asymmetry += std::abs(left / double(n_left) - right / double(n_right));
      ++pairs;
    }
    out.mirror_asymmetry += pairs ? asymmetry / double(pairs) : 0.0;
  }
  out.mirror_asymmetry /= double(rows);
  for (int64_t j = 0; j < points; ++j) {
    if (!set.same_context(j)) continue;
    double low = a[j], high = a[j];
    for (int64_t r = 1; r < rows; ++r) low = std::min(low, a[r * points + j]), high = std::max(high, a[r * points + j]);
    out.same_variation = std::max(out.same_variation, high - low);
  }
  return out;
}

ToySet reflect_about_query(const ToySet& set) {
  ToySet out = set;
  const double psi_q = set.psi[size_t(set.query)], xi_q = set.xi[size_t(set.query)];
  for (size_t j = 0; j < set.psi.size(); ++j) {
    out.psi[j] = 2 * psi_q - set.psi[j];
    out.xi[j] = 2 * xi_q - set.xi[j];
  }
  return out;
}

double reflection_gap(Method method, const ToySet& set, const std::vector<double>& frequencies, double frequency_sign) {
  const Tensor map = score_map(method, set, frequencies, frequency_sign);
  const Tensor reflected = score_map(method, reflect_about_query(set), frequencies, frequency_sign);
  const double range = max(map).item() - min(map).item();
  return mean(abs(map - reflected)).item() / (range > 0 ? range : 1.0);
}

}  // namespace stripes::toy
