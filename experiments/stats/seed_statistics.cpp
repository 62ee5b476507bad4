// Statistics over seeds (method.md §4.7): summaries, Levene's test, Student's and Welch's t-tests,
// and the paper's ranking with `*` / `†` marks. Distribution tails from Boost.Math.
#include "experiments/stats/seed_statistics.hpp"

#include "tensor/error.hpp"

#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string_view>

namespace stripes::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

void check_sample(std::string_view what, const std::vector<double>& values, size_t minimum) {
  STRIPES_CHECK(values.size() >= minimum, "{}: needs at least {} values, got {}", what, minimum, values.size());
  for (double v : values) STRIPES_CHECK(std::isfinite(v), "{}: value {} is not finite", what, v);
}

// Two-sided p of Student's t with ν degrees of freedom: 2 · P(T_ν > |t|).
double two_sided_t_p_value(double t, double degrees_of_freedom) {
  if (std::isnan(t)) return kNaN;
  if (std::isinf(t)) return 0.0;
  const boost::math::students_t_distribution<double> distribution(degrees_of_freedom);
  return std::min(1.0, 2.0 * boost::math::cdf(boost::math::complement(distribution, std::abs(t))));
}

// t = difference / standard_error; a zero standard error gives t = 0 (equal means) or ±∞.
TestResult t_test_result(double mean_difference, double standard_error, double degrees_of_freedom) {
  TestResult result;
  result.degrees_of_freedom = degrees_of_freedom;
  if (standard_error == 0.0) {
    result.statistic = mean_difference == 0.0 ? 0.0 : std::copysign(kInfinity, mean_difference);
    result.p_value = mean_difference == 0.0 ? 1.0 : 0.0;
    return result;
  }
  result.statistic = mean_difference / standard_error;
  result.p_value = two_sided_t_p_value(result.statistic, degrees_of_freedom);
  return result;
}

void check_summary(std::string_view what, const Summary& s) {
  STRIPES_CHECK(s.count >= 2, "{}: each sample needs at least 2 values, got {}", what, s.count);
  STRIPES_CHECK(std::isfinite(s.mean) && std::isfinite(s.std) && s.std >= 0.0,
                "{}: mean {} and std {} must be finite, std >= 0", what, s.mean, s.std);
}

}  // namespace

// ---- summaries ---------------------------------------------------------------------------------------

double mean(const std::vector<double>& values) {
  STRIPES_CHECK(!values.empty(), "mean: no values");
  // Identical values have exactly that mean (a sum then a division could be off by an ulp, and a
  // constant sample would then get a variance of 1e-30 instead of 0).
  if (std::all_of(values.begin(), values.end(), [&](double v) { return v == values[0]; })) return values[0];
  return std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

double variance(const std::vector<double>& values, int ddof) {
  STRIPES_CHECK(ddof >= 0 && values.size() > size_t(ddof), "variance: needs more than ddof = {} values, got {}", ddof,
                values.size());
  const double m = mean(values);
  double squares = 0.0;
  for (double v : values) squares += (v - m) * (v - m);
  return squares / double(values.size() - size_t(ddof));
}

double standard_deviation(const std::vector<double>& values, int ddof) { return std::sqrt(variance(values, ddof)); }

double median(const std::vector<double>& values) {
  STRIPES_CHECK(!values.empty(), "median: no values");
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
}

Summary summarize(const std::vector<double>& values, int ddof) {
  STRIPES_CHECK(!values.empty(), "summarize: no values");
  Summary s;
  s.mean = mean(values);
  s.std = values.size() > size_t(ddof) ? standard_deviation(values, ddof) : 0.0;
  s.count = values.size();
  return s;
}

// ---- Levene ------------------------------------------------------------------------------------------

const char* levene_center_name(LeveneCenter center) { return center == LeveneCenter::kMedian ? "median" : "mean"; }

TestResult levene_test(const std::vector<std::vector<double>>& groups, LeveneCenter center) {
  STRIPES_CHECK(groups.size() >= 2, "levene_test: needs at least 2 groups, got {}", groups.size());
  for (const auto& group : groups) check_sample("levene_test", group, 2);
  const size_t k = groups.size();
  // Z_ij = |Y_ij − c_i|
  std::vector<std::vector<double>> deviations(k);
  size_t total_count = 0;
  for (size_t i = 0; i < k; ++i) {
    const double c = center == LeveneCenter::kMedian ? median(groups[i]) : mean(groups[i]);
    for (double y : groups[i]) deviations[i].push_back(std::abs(y - c));
    total_count += groups[i].size();
  }
  std::vector<double> group_means(k);
  double grand_mean = 0.0;  // Z̄ = Σ_i n_i Z̄_i / N
  for (size_t i = 0; i < k; ++i) {
    group_means[i] = mean(deviations[i]);
    grand_mean += double(deviations[i].size()) * group_means[i];
  }
  grand_mean /= double(total_count);
  double between = 0.0, within = 0.0;  // Σ_i n_i (Z̄_i − Z̄)²,  Σ_i Σ_j (Z_ij − Z̄_i)²
  for (size_t i = 0; i < k; ++i) {
    between += double(deviations[i].size()) * (group_means[i] - grand_mean) * (group_means[i] - grand_mean);
    for (double z : deviations[i]) within += (z - group_means[i]) * (z - group_means[i]);
  }
  TestResult result;
  result.degrees_of_freedom = double(k - 1);
  result.degrees_of_freedom_2 = double(total_count - k);
  if (within == 0.0) {  // W = x / 0: undefined as scipy's (nan), no evidence of unequal variances
    result.statistic = kNaN;
    result.p_value = kNaN;
    return result;
  }
  result.statistic = result.degrees_of_freedom_2 / result.degrees_of_freedom * between / within;
  const boost::math::fisher_f_distribution<double> distribution(result.degrees_of_freedom, result.degrees_of_freedom_2);
  result.p_value = boost::math::cdf(boost::math::complement(distribution, result.statistic));
  return result;
}

// ---- t-tests -----------------------------------------------------------------------------------------

TestResult student_t_test_from_summary(const Summary& a, const Summary& b) {
  check_summary("student_t_test", a);
  check_summary("student_t_test", b);
  const double na = double(a.count), nb = double(b.count);
  const double pooled_variance = ((na - 1.0) * a.std * a.std + (nb - 1.0) * b.std * b.std) / (na + nb - 2.0);
  return t_test_result(a.mean - b.mean, std::sqrt(pooled_variance * (1.0 / na + 1.0 / nb)), na + nb - 2.0);
}

TestResult welch_t_test_from_summary(const Summary& a, const Summary& b) {
  check_summary("welch_t_test", a);
  check_summary("welch_t_test", b);
  const double na = double(a.count), nb = double(b.count);
  const double va = a.std * a.std / na, vb = b.std * b.std / nb;  // squared standard errors
  const double standard_error = std::sqrt(va + vb);
  const double degrees_of_freedom =
      standard_error == 0.0 ? na + nb - 2.0 : (va + vb) * (va + vb) / (va * va / (na - 1.0) + vb * vb / (nb - 1.0));
  return t_test_result(a.mean - b.mean, standard_error, degrees_of_freedom);
}

TestResult student_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  check_sample("student_t_test", a, 2);
  check_sample("student_t_test", b, 2);
  return student_t_test_from_summary(summarize(a, 1), summarize(b, 1));
}

TestResult welch_t_test(const std::vector<double>& a, const std::vector<double>& b) {
  check_sample("welch_t_test", a, 2);
  check_sample("welch_t_test", b, 2);
  return welch_t_test_from_summary(summarize(a, 1), summarize(b, 1));
}

Comparison compare_samples(const std::vector<double>& a, const std::vector<double>& b, const ComparisonOptions& options) {
  STRIPES_CHECK(options.alpha > 0.0 && options.alpha < 1.0 && options.levene_alpha > 0.0 && options.levene_alpha < 1.0,
                "compare_samples: significance levels must be in (0, 1), got alpha {} and levene_alpha {}",
                options.alpha, options.levene_alpha);
  Comparison comparison;
  comparison.levene = levene_test({a, b}, options.levene_center);
  // NaN p (W = 0/0) compares false: equal variances.
  comparison.equal_variances = !(comparison.levene.p_value < options.levene_alpha);
  comparison.t_test = comparison.equal_variances ? student_t_test(a, b) : welch_t_test(a, b);
  comparison.significant = comparison.t_test.p_value < options.alpha;
  return comparison;
}

// ---- ranking -----------------------------------------------------------------------------------------

const char* mark_symbol(SignificanceMark mark) {
  switch (mark) {
    case SignificanceMark::kNone: return "";
    case SignificanceMark::kBeatsSecond: return "*";
    case SignificanceMark::kBeatsThird: return "\u2020";
  }
  return "";
}

MethodRanking rank_methods(const std::vector<std::vector<double>>& per_method_values, Direction direction,
                           const ComparisonOptions& options, int ddof) {
  STRIPES_CHECK(!per_method_values.empty(), "rank_methods: no methods");
  MethodRanking ranking;
  for (size_t m = 0; m < per_method_values.size(); ++m) {
    check_sample(fmt::format("rank_methods (method {})", m), per_method_values[m], 2);
    ranking.summaries.push_back(summarize(per_method_values[m], ddof));
  }
  ranking.order.resize(per_method_values.size());
  std::iota(ranking.order.begin(), ranking.order.end(), size_t(0));
  std::stable_sort(ranking.order.begin(), ranking.order.end(), [&](size_t a, size_t b) {
    return direction == Direction::kHigherIsBetter ? ranking.summaries[a].mean > ranking.summaries[b].mean
                                                   : ranking.summaries[a].mean < ranking.summaries[b].mean;
  });
  ranking.best = ranking.order[0];
  const std::vector<double>& best = per_method_values[ranking.best];
  if (ranking.order.size() >= 2) {
    ranking.best_vs_second = compare_samples(best, per_method_values[ranking.order[1]], options);
    if (ranking.best_vs_second->significant) {
      ranking.mark = SignificanceMark::kBeatsSecond;
    } else if (ranking.order.size() >= 3) {
      ranking.best_vs_third = compare_samples(best, per_method_values[ranking.order[2]], options);
      if (ranking.best_vs_third->significant) ranking.mark = SignificanceMark::kBeatsThird;
    }
  }
  return ranking;
}

std::string format_summary(const Summary& summary, SignificanceMark mark, int decimals) {
  STRIPES_CHECK(decimals >= 0 && decimals <= 12, "format_summary: decimals must be in [0, 12], got {}", decimals);
  return fmt::format("{:.{}f} {:.{}f}{}", summary.mean, decimals, summary.std, decimals, mark_symbol(mark));
}

}  // namespace stripes::stats
