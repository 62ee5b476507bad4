// Statistics over training seeds, as the paper reports them (method.md §4.7, paper §V):
// mean and standard deviation over 5 seeds; within a context, the best mean is underlined and
// marked `*` when it differs significantly (two-sided, p < 0.05) from the second best, `†` when it
// does not differ from the second but does from the third best. Each comparison is a two-sided
// t-test chosen by Levene's test: Student's t (equal variances) when Levene's p ≥ 0.05, Welch's t
// otherwise. docs/metrics.md gives the formulas and the reasons for each default.
//
// Distribution tails (Student t, Fisher F) come from Boost.Math; everything else is written out here.
// The numbers agree with scipy.stats (levene, ttest_ind, ttest_ind_from_stats) — see
// tests/experiments/test_stats.cpp for the reference values.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace stripes::stats {

// ---- summaries ---------------------------------------------------------------------------------------

double mean(const std::vector<double>& values);  // non-empty; identical values give exactly that value
// Σ (x − mean)² / (n − ddof); n > ddof. ddof = 1: the unbiased sample variance (default).
double variance(const std::vector<double>& values, int ddof = 1);
double standard_deviation(const std::vector<double>& values, int ddof = 1);
double median(const std::vector<double>& values);  // non-empty; mean of the two middle values when n is even

struct Summary {
  double mean = 0.0;
  double std = 0.0;  // standard deviation with the ddof it was computed with
  size_t count = 0;
};
// The paper's "mean std" over seeds. ddof = 1 (sample std, pandas' default) by default; the paper's
// significance marks do not settle ddof 0 vs 1 (docs/metrics.md).
Summary summarize(const std::vector<double>& values, int ddof = 1);

// ---- tests -------------------------------------------------------------------------------------------

struct TestResult {
  double statistic = 0.0;  // t for t-tests, W for Levene
  double p_value = 1.0;    // two-sided for t-tests; upper tail of F for Levene
  double degrees_of_freedom = 0.0;    // t: ν (Welch: Welch–Satterthwaite); Levene: k − 1
  double degrees_of_freedom_2 = 0.0;  // Levene: N − k; t-tests: 0
};

// Levene's test for equal variances of k ≥ 2 groups (each with ≥ 2 values):
//   Z_ij = |Y_ij − c_i|,  c_i = mean (Levene 1960) or median (Brown–Forsythe 1974) of group i
//   W = (N − k) / (k − 1) · Σ_i n_i (Z̄_i − Z̄)² / Σ_i Σ_j (Z_ij − Z̄_i)²,  p = P(F(k−1, N−k) > W)
// When every Z_ij equals its group mean (e.g. every group constant) W is 0/0: the result is
// W = NaN, p = NaN — nothing says the variances differ (scipy returns the same).
enum class LeveneCenter {
  kMedian,  // scipy.stats.levene's default (center='median'), the Brown–Forsythe variant: the default
  kMean,    // Levene's original test
};
const char* levene_center_name(LeveneCenter center);  // "median", "mean"
TestResult levene_test(const std::vector<std::vector<double>>& groups, LeveneCenter center = LeveneCenter::kMedian);

// Two-sided two-sample t-tests (each sample ≥ 2 values), as scipy.stats.ttest_ind:
//   Student (equal variances): s_p² = ((n_a−1)s_a² + (n_b−1)s_b²) / (n_a+n_b−2),
//                              t = (m_a − m_b) / (s_p √(1/n_a + 1/n_b)),  ν = n_a + n_b − 2
//   Welch:                     t = (m_a − m_b) / √(s_a²/n_a + s_b²/n_b),
//                              ν = (s_a²/n_a + s_b²/n_b)² / ((s_a²/n_a)²/(n_a−1) + (s_b²/n_b)²/(n_b−1))
//   p = 2 · P(T_ν > |t|), s² with ddof = 1.
// A zero standard error (both samples constant): equal means → t = 0, p = 1; different means →
// t = ±∞, p = 0 (scipy returns NaN / ±inf with p = 0 for these).
TestResult student_t_test(const std::vector<double>& a, const std::vector<double>& b);
TestResult welch_t_test(const std::vector<double>& a, const std::vector<double>& b);
// The same from summaries (scipy.stats.ttest_ind_from_stats); std with ddof = 1.
TestResult student_t_test_from_summary(const Summary& a, const Summary& b);
TestResult welch_t_test_from_summary(const Summary& a, const Summary& b);

struct ComparisonOptions {
  double alpha = 0.05;         // significance level of the t-test (paper: p < 0.05)
  double levene_alpha = 0.05;  // Levene p < levene_alpha → unequal variances → Welch
  LeveneCenter levene_center = LeveneCenter::kMedian;
};

// The paper's two-sample procedure: Levene → Student's t if the variances look equal, Welch's t if
// not. A NaN Levene p (W = 0/0) counts as "equal variances".
struct Comparison {
  TestResult levene;
  bool equal_variances = true;  // which t-test was used: Student (true) or Welch (false)
  TestResult t_test;
  bool significant = false;     // t_test.p_value < alpha
};
Comparison compare_samples(const std::vector<double>& a, const std::vector<double>& b,
                           const ComparisonOptions& options = {});

// ---- ranking methods within a context ---------------------------------------------------------------

enum class Direction { kHigherIsBetter, kLowerIsBetter };  // CS, GS ↑; SSMD, NDD ↓

enum class SignificanceMark {
  kNone,
  kBeatsSecond,  // `*`: the best differs significantly from the second best
  kBeatsThird,   // `†`: not from the second best, but from the third best
};
const char* mark_symbol(SignificanceMark mark);  // "*", "†" (UTF-8), ""

struct MethodRanking {
  std::vector<Summary> summaries;  // per method, in input order (std with rank_methods' ddof)
  std::vector<size_t> order;       // method indices, best mean first (ties keep input order)
  size_t best = 0;                 // order[0]
  SignificanceMark mark = SignificanceMark::kNone;
  std::optional<Comparison> best_vs_second;  // when there are ≥ 2 methods
  std::optional<Comparison> best_vs_third;   // when there are ≥ 3 methods and the second was not significant
};

// Rank methods (per_method_values[m] = one value per seed, ≥ 2 each) by mean in `direction`, and mark
// the best as the paper does: `*` if compare_samples(best, second) is significant, else `†` if
// compare_samples(best, third) is, else nothing. summaries use `ddof` (the reported std).
MethodRanking rank_methods(const std::vector<std::vector<double>>& per_method_values, Direction direction,
                           const ComparisonOptions& options = {}, int ddof = 1);

// "22.14 0.56*": mean and std with `decimals` decimals, then the mark.
std::string format_summary(const Summary& summary, SignificanceMark mark = SignificanceMark::kNone, int decimals = 2);

}  // namespace stripes::stats
