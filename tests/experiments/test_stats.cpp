// Statistics over seeds (experiments/stats): summaries, Levene, Student / Welch t-tests and the
// paper's `*` / `†` marks. Reference numbers come from scipy 1.17.1 / numpy 2.4.6, computed
// independently of this code with:
//   from scipy import stats; import numpy as np
//   stats.ttest_ind(x, y, equal_var=True/False); stats.levene(x, y[, center='mean'])
//   stats.ttest_ind_from_stats(m1, s1, n1, m2, s2, n2, equal_var=...); np.std(x, ddof=0/1)
// (each call is quoted next to its numbers).
#include "experiments/stats/seed_statistics.hpp"

#include "tensor/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

using namespace stripes::stats;

// Five "seeds" of three methods (hand-made).
const std::vector<double> kA = {22.1, 21.5, 22.9, 21.8, 22.4};  // mean 22.14
const std::vector<double> kB = {24.9, 25.3, 24.6, 25.1, 24.7};  // mean 24.92
const std::vector<double> kC = {21.0, 26.0, 23.5, 20.0, 27.5};  // mean 23.6, large spread

void expect_close(double actual, double expected, double relative = 1e-9) {
  EXPECT_NEAR(actual, expected, relative * std::max(1.0, std::abs(expected))) << "expected " << expected;
}

TEST(Stats, MeanVarianceMedian) {
  // mean(kA) = 110.7 / 5 = 22.14; squared deviations 0.0016 0.4096 0.5776 0.1156 0.0676 → Σ = 1.172
  expect_close(mean(kA), 22.14);
  expect_close(variance(kA, 1), 1.172 / 4);
  expect_close(variance(kA, 0), 1.172 / 5);
  // np.std(kA, ddof=1) = 0.5412947441089735, np.std(kA) = 0.4841487374764074
  expect_close(standard_deviation(kA), 0.5412947441089735);
  expect_close(standard_deviation(kA, 0), 0.4841487374764074);
  expect_close(median(kA), 22.1);
  expect_close(median({4.0, 1.0, 3.0, 2.0}), 2.5);
  const Summary s = summarize(kA);
  expect_close(s.mean, 22.14);
  expect_close(s.std, 0.5412947441089735);
  EXPECT_EQ(s.count, 5u);
  EXPECT_THROW(mean({}), stripes::Error);
  EXPECT_THROW(variance({1.0}, 1), stripes::Error);
}

TEST(Stats, StudentAndWelchMatchScipy) {
  // stats.ttest_ind(kA, kB): t = -10.151124732429107, p = 7.588083685257799e-06, df = 8
  const TestResult student = student_t_test(kA, kB);
  expect_close(student.statistic, -10.151124732429107);
  expect_close(student.p_value, 7.588083685257799e-06, 1e-7);
  expect_close(student.degrees_of_freedom, 8.0);
  // stats.ttest_ind(kA, kB, equal_var=False): p = 4.908907269152128e-05, df = 6.076285742063028
  const TestResult welch = welch_t_test(kA, kB);
  expect_close(welch.statistic, -10.151124732429107);
  expect_close(welch.p_value, 4.908907269152128e-05, 1e-7);
  expect_close(welch.degrees_of_freedom, 6.076285742063028);
  // stats.ttest_ind(kA, kC[, equal_var=False]): p = 0.34249944610614846 / 0.3671405236179615 (df 4.230177683907677)
  expect_close(student_t_test(kA, kC).p_value, 0.34249944610614846, 1e-8);
  expect_close(welch_t_test(kA, kC).p_value, 0.3671405236179615, 1e-8);
  expect_close(welch_t_test(kA, kC).degrees_of_freedom, 4.230177683907677);
  // unequal sizes: d = [1, 2, 4], e = [3, 5, 6, 9, 10, 11]
  //   ttest_ind(d, e): t = -2.545875386086578, p = 0.03833372883603092, df 7
  //   equal_var=False: t = -3.2126470265858953, p = 0.014927345702169387, df = 6.957311003103587
  const std::vector<double> d = {1.0, 2.0, 4.0}, e = {3.0, 5.0, 6.0, 9.0, 10.0, 11.0};
  expect_close(student_t_test(d, e).statistic, -2.545875386086578);
  expect_close(student_t_test(d, e).p_value, 0.03833372883603092, 1e-8);
  expect_close(welch_t_test(d, e).statistic, -3.2126470265858953);
  expect_close(welch_t_test(d, e).p_value, 0.014927345702169387, 1e-8);
  expect_close(welch_t_test(d, e).degrees_of_freedom, 6.957311003103587);
  // swapping the samples flips t, keeps p
  expect_close(student_t_test(kB, kA).statistic, 10.151124732429107);
  expect_close(student_t_test(kB, kA).p_value, student.p_value);
}

TEST(Stats, TTestFromSummaryMatchesScipy) {
  // stats.ttest_ind_from_stats(93.2, 0.76, 5, 94.28, 0.68, 5, equal_var=True):
  //   t = -2.368056652128975, p = 0.04538387550418734; equal_var=False: p = 0.04575583965090529
  const Summary f_stripe{93.2, 0.76, 5}, rope_pool{94.28, 0.68, 5};
  expect_close(student_t_test_from_summary(f_stripe, rope_pool).statistic, -2.368056652128975);
  expect_close(student_t_test_from_summary(f_stripe, rope_pool).p_value, 0.04538387550418734, 1e-8);
  expect_close(welch_t_test_from_summary(f_stripe, rope_pool).p_value, 0.04575583965090529, 1e-8);
}

TEST(Stats, ZeroSpreadGivesDefinedResults) {
  // both samples constant: equal means → t = 0, p = 1; different means → t = ±inf, p = 0
  const TestResult same = student_t_test({13.8, 13.8, 13.8}, {13.8, 13.8, 13.8});
  EXPECT_EQ(same.statistic, 0.0);
  EXPECT_EQ(same.p_value, 1.0);
  const TestResult apart = welch_t_test({13.79, 13.79, 13.79}, {13.8, 13.8, 13.8});
  EXPECT_TRUE(std::isinf(apart.statistic) && apart.statistic < 0);
  EXPECT_EQ(apart.p_value, 0.0);
  // Levene of two constant groups: W = 0/0 → NaN, and compare_samples then uses Student
  const TestResult levene = levene_test({{1.0, 1.0, 1.0}, {2.0, 2.0, 2.0}});
  EXPECT_TRUE(std::isnan(levene.statistic));
  EXPECT_TRUE(std::isnan(levene.p_value));
  const Comparison comparison = compare_samples({1.0, 1.0, 1.0}, {2.0, 2.0, 2.0});
  EXPECT_TRUE(comparison.equal_variances);
  EXPECT_TRUE(comparison.significant);
  EXPECT_THROW(student_t_test({1.0}, {1.0, 2.0}), stripes::Error);
  EXPECT_THROW(student_t_test({1.0, NAN}, {1.0, 2.0}), stripes::Error);
}

TEST(Stats, LeveneMatchesScipyForBothCenters) {
  // stats.levene(kA, kB) (center='median'): W = 1.3846153846153728, p = 0.27313922259144235
  // stats.levene(kA, kB, center='mean'):    W = 1.6245681381957273, p = 0.23822891356596299
  const TestResult median_ab = levene_test({kA, kB});
  expect_close(median_ab.statistic, 1.3846153846153728);
  expect_close(median_ab.p_value, 0.27313922259144235, 1e-8);
  EXPECT_EQ(median_ab.degrees_of_freedom, 1.0);
  EXPECT_EQ(median_ab.degrees_of_freedom_2, 8.0);
  const TestResult mean_ab = levene_test({kA, kB}, LeveneCenter::kMean);
  expect_close(mean_ab.statistic, 1.6245681381957273);
  expect_close(mean_ab.p_value, 0.23822891356596299, 1e-8);
  // stats.levene(kA, kC): W = 8.927125506072882, p = 0.017391422306084543
  expect_close(levene_test({kA, kC}).statistic, 8.927125506072882);
  expect_close(levene_test({kA, kC}).p_value, 0.017391422306084543, 1e-8);
  // three groups: stats.levene(kA, kB, kC): W = 9.671749598715895, p = 0.0031492170833972567;
  //               center='mean': W = 10.428429865026496, p = 0.0023731825921478275
  expect_close(levene_test({kA, kB, kC}).statistic, 9.671749598715895);
  expect_close(levene_test({kA, kB, kC}).p_value, 0.0031492170833972567, 1e-8);
  expect_close(levene_test({kA, kB, kC}, LeveneCenter::kMean).statistic, 10.428429865026496);
  expect_close(levene_test({kA, kB, kC}, LeveneCenter::kMean).p_value, 0.0023731825921478275, 1e-8);
  // unequal sizes: stats.levene([1,2,4], [3,5,6,9,10,11]): W = 4.402515723270439, p = 0.07406590504955514
  expect_close(levene_test({{1.0, 2.0, 4.0}, {3.0, 5.0, 6.0, 9.0, 10.0, 11.0}}).statistic, 4.402515723270439);
  expect_close(levene_test({{1.0, 2.0, 4.0}, {3.0, 5.0, 6.0, 9.0, 10.0, 11.0}}).p_value, 0.07406590504955514, 1e-8);
  EXPECT_THROW(levene_test({kA}), stripes::Error);
}

TEST(Stats, LeveneCenterDecidesBetweenStudentAndWelch) {
  // x, y: stats.levene(x, y) p = 0.15461030789120286 (median: equal variances → Student,
  //   ttest_ind p = 0.08197289918485812); stats.levene(x, y, center='mean') p = 0.0030487346566430845
  //   (unequal → Welch, p = 0.11148090015496517)
  const std::vector<double> x = {9.6, 9.7, 9.3, 8.9, 9.6}, y = {9.6, 11.8, 9.6, 10.0, 12.9};
  const Comparison by_median = compare_samples(x, y);
  expect_close(by_median.levene.p_value, 0.15461030789120286, 1e-8);
  EXPECT_TRUE(by_median.equal_variances);
  expect_close(by_median.t_test.p_value, 0.08197289918485812, 1e-8);
  EXPECT_FALSE(by_median.significant);
  ComparisonOptions by_mean_options;
  by_mean_options.levene_center = LeveneCenter::kMean;
  const Comparison by_mean = compare_samples(x, y, by_mean_options);
  expect_close(by_mean.levene.p_value, 0.0030487346566430845, 1e-8);
  EXPECT_FALSE(by_mean.equal_variances);
  expect_close(by_mean.t_test.p_value, 0.11148090015496517, 1e-8);
}

TEST(Stats, RankingMarksBestAgainstSecondAndThird) {
  // ↑: kB (24.92) > kC (23.6) > kA (22.14).
  //   kB vs kC: levene p = 0.01097 < 0.05 → Welch p = 0.4081 (stats.ttest_ind(kB, kC, equal_var=False)) → n.s.
  //   kB vs kA: levene p = 0.2731 → Student p = 7.59e-06 → significant → `†`
  const MethodRanking up = rank_methods({kA, kB, kC}, Direction::kHigherIsBetter);
  EXPECT_EQ(up.order, (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ(up.best, 1u);
  ASSERT_TRUE(up.best_vs_second.has_value());
  EXPECT_FALSE(up.best_vs_second->equal_variances);
  expect_close(up.best_vs_second->t_test.p_value, 0.4081137080143, 1e-8);
  ASSERT_TRUE(up.best_vs_third.has_value());
  EXPECT_TRUE(up.best_vs_third->equal_variances);
  EXPECT_EQ(up.mark, SignificanceMark::kBeatsThird);
  EXPECT_STREQ(mark_symbol(up.mark), "\u2020");
  // two methods, ↑: kB vs kA significant → `*`, no third comparison
  const MethodRanking two = rank_methods({kA, kB}, Direction::kHigherIsBetter);
  EXPECT_EQ(two.best, 1u);
  EXPECT_EQ(two.mark, SignificanceMark::kBeatsSecond);
  EXPECT_FALSE(two.best_vs_third.has_value());
  // ↓ on kA, kC only: best kA (22.14) vs kC: Welch p = 0.3671 → no mark, and no third
  const MethodRanking down = rank_methods({kC, kA}, Direction::kLowerIsBetter);
  EXPECT_EQ(down.best, 1u);
  EXPECT_EQ(down.mark, SignificanceMark::kNone);
  // one method: best, no comparison
  const MethodRanking one = rank_methods({kA}, Direction::kLowerIsBetter);
  EXPECT_EQ(one.best, 0u);
  EXPECT_FALSE(one.best_vs_second.has_value());
  EXPECT_EQ(one.mark, SignificanceMark::kNone);
  // summaries in input order with the reported ddof
  expect_close(up.summaries[0].std, 0.5412947441089735);
  expect_close(rank_methods({kA, kB}, Direction::kHigherIsBetter, {}, 0).summaries[0].std, 0.4841487374764074);
  EXPECT_EQ(format_summary(up.summaries[1], up.mark), "24.92 0.29\u2020");
  EXPECT_THROW(rank_methods({kA, {1.0}}, Direction::kHigherIsBetter), stripes::Error);
}

// What the paper's tables say about ddof: t-tests from the printed (mean, std, n = 5) under the two
// readings "std is ddof 1" and "std is ddof 0" (then the sample std is std · √(5/4)).
TEST(Stats, PaperMarksDoNotSettleTheStdDdof) {
  const double to_sample = std::sqrt(5.0 / 4.0);
  // Table III, TIME, ID NDD (↓): best F-StrIPE₁ 93.2 0.76, third RoPEPool 94.28 0.68, printed without
  // a mark. ddof 1: p = 0.0454 < 0.05 would print `†` (both tests); ddof 0: p ≈ 0.067, no mark.
  EXPECT_LT(student_t_test_from_summary({93.2, 0.76, 5}, {94.28, 0.68, 5}).p_value, 0.05);
  EXPECT_LT(welch_t_test_from_summary({93.2, 0.76, 5}, {94.28, 0.68, 5}).p_value, 0.05);
  EXPECT_GT(student_t_test_from_summary({93.2, 0.76 * to_sample, 5}, {94.28, 0.68 * to_sample, 5}).p_value, 0.05);
  // Table II, REP, LG SSMD (↓): best RoPE(B) 13.46 0.02 printed `*` against RoPE(C) 13.62 0.15.
  // ddof 1 with Student: p = 0.0457 → `*` as printed; ddof 0: p ≈ 0.067 (Student) → no `*`.
  // stats.ttest_ind_from_stats(13.46, 0.02, 5, 13.62, 0.15, 5): p = 0.045656731205391224
  expect_close(student_t_test_from_summary({13.46, 0.02, 5}, {13.62, 0.15, 5}).p_value, 0.045656731205391224, 1e-8);
  EXPECT_GT(student_t_test_from_summary({13.46, 0.02 * to_sample, 5}, {13.62, 0.15 * to_sample, 5}).p_value, 0.05);
  EXPECT_GT(welch_t_test_from_summary({13.46, 0.02 * to_sample, 5}, {13.62, 0.15 * to_sample, 5}).p_value, 0.05);
}

}  // namespace
