// The paper's four metrics and the binarization (experiments/metrics), on hand-made pianorolls whose
// expected values are worked out by hand in the comments. Units: 16 ticks per quarter note,
// half-measure = 32 ticks, quarter = 16, 16th = 4; rows = track · 128 + pitch; C = pitch class 0
// (pitch 60, 72, ...), E = 4 (pitch 64), G = 7 (pitch 67), D = 2 (pitch 62).
#include "experiments/metrics/binarization.hpp"
#include "experiments/metrics/pianoroll_metrics.hpp"

#include "tensor/error.hpp"
#include "tensor/math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace {

using namespace stripes;
using namespace stripes::metrics;

// A silent pianoroll [ticks, tracks·128] (uint8) to draw notes into.
struct RollBuilder {
  int64_t ticks, tracks;
  std::vector<uint8_t> cells;
  RollBuilder(int64_t ticks_, int64_t tracks_ = 1)
      : ticks(ticks_), tracks(tracks_), cells(size_t(ticks_ * tracks_ * 128), 0) {}
  // cells [start, end) of (track, pitch) set to 1
  RollBuilder& note(int64_t pitch, int64_t start, int64_t end, int64_t track = 0) {
    for (int64_t t = start; t < end; ++t) cells[size_t(t * tracks * 128 + track * 128 + pitch)] = 1;
    return *this;
  }
  Tensor tensor() const { return Tensor::from_vector(cells, {ticks, tracks * 128}); }
};

void expect_error_mentions(const std::function<void()>& call, const std::vector<std::string>& parts) {
  try {
    call();
    ADD_FAILURE() << "no stripes::Error thrown";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

// ---- features ------------------------------------------------------------------------------------------

TEST(MetricsFeatures, OnsetsAreZeroToOneTransitions) {
  // pitch 60: 1 1 0 1 1 1 0 0 → onsets at ticks 0 (x[−1] = 0) and 3
  const Tensor roll = RollBuilder(8).note(60, 0, 2).note(60, 3, 6).tensor();
  const Tensor on = onsets(roll);
  EXPECT_EQ(on.dtype(), DType::UInt8);
  std::vector<double> column;
  for (int64_t t = 0; t < 8; ++t) column.push_back(on.at({t, 60}));
  EXPECT_EQ(column, (std::vector<double>{1, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(sum(on.to(DType::Float64)).item(), 2.0);
}

TEST(MetricsFeatures, ChromaOnsetVectorsCountOnsetsPerTrackAndPitchClass) {
  // 3 tracks, T = 64 (two half-measures)
  //   track 0: pitch 60 at 0-3 and again 10-12 (two onsets), pitch 72 at 5 (C again) → v[0][C] = 3
  //   track 1: pitch 64 held 20-50 → one onset, in half-measure 0 only → v[0][12 + E] = 1
  //   track 2: pitch 61 at 40 → v[1][24 + C#] = 1
  const Tensor roll =
      RollBuilder(64, 3).note(60, 0, 3).note(60, 10, 12).note(72, 5, 6).note(64, 20, 50, 1).note(61, 40, 41, 2).tensor();
  const Tensor v = chroma_onset_vectors(roll);
  ASSERT_EQ(v.shape(), (Shape{2, 36}));
  EXPECT_EQ(v.at({0, 0}), 3.0);
  EXPECT_EQ(v.at({0, 12 + 4}), 1.0);
  EXPECT_EQ(v.at({1, 24 + 1}), 1.0);
  EXPECT_EQ(sum(v).item(), 5.0);
  // StrIPE code's SSM input: active cells per 2 ticks, tracks summed. Ticks 0-1: pitch 60 twice → C = 2.
  const Tensor counts = chroma_count_vectors(roll);
  ASSERT_EQ(counts.shape(), (Shape{32, 12}));
  EXPECT_EQ(counts.at({0, 0}), 2.0);
  EXPECT_EQ(counts.at({10, 4}), 2.0);  // ticks 20-21, pitch 64 of track 1
  // partial last unit: T = 40 → 2 half-measures, the second of 8 ticks
  EXPECT_EQ(chroma_onset_vectors(RollBuilder(40).tensor()).shape(), (Shape{2, 12}));
}

TEST(MetricsFeatures, SelfSimilarityMatrixUsesEpsCosine) {
  // rows (1,0), (1,1), (0,0): S = [[1, 1/√2, 0], [1/√2, 1, 0], [0, 0, 0]] (a zero row is 0 even with itself)
  const Tensor v = Tensor::from_vector(std::vector<double>{1, 0, 1, 1, 0, 0}, {3, 2});
  const Tensor s = self_similarity_matrix(v);
  EXPECT_NEAR(s.at({0, 1}), 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(s.at({1, 0}), 1.0 / std::sqrt(2.0), 1e-12);
  EXPECT_EQ(s.at({0, 0}), 1.0);
  EXPECT_EQ(s.at({2, 2}), 0.0);
  EXPECT_EQ(s.at({0, 2}), 0.0);
}

TEST(MetricsFeatures, GroovingPatternAndNoteDensity) {
  // T = 48 (3 quarters): onset at tick 2 (q0); pitch 64 held 10-40 → onset in q0 only; q1 none; onset at 33 (q2)
  const Tensor roll = RollBuilder(48).note(60, 2, 4).note(64, 10, 40).note(67, 33, 35).tensor();
  EXPECT_EQ(grooving_pattern(roll).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  // note density per 16th: ticks 0-3 → pitch 60 at 2, 3 → 2 cells; ticks 8-11 → pitch 64 at 10, 11 → 2
  const std::vector<double> density = note_density(roll).to_vector<double>();
  ASSERT_EQ(density.size(), 12u);
  EXPECT_EQ(density[0], 2.0);
  EXPECT_EQ(density[1], 0.0);
  EXPECT_EQ(density[2], 2.0);
  EXPECT_EQ(density[8], 6.0);  // ticks 32-35: pitch 64 at 32..35 (4 cells) + pitch 67 at 33, 34 (2 cells)
}

// ---- CS ------------------------------------------------------------------------------------------------

TEST(MetricsChromaSimilarity, HandComputedTwoHalfMeasures) {
  // T = 64, one track.
  // target: half 0: C (60 at 0-8), E (64 at 0-8), G (67 at 16-24) → v = (C 1, E 1, G 1)
  //         half 1: C (60 at 32-40)                                → v = (C 1)
  // prediction: half 0: C (72 at 4-6), E (64 at 0-3)               → v = (C 1, E 1)
  //             half 1: silent                                     → v = 0
  // cos(half 0) = (1 + 1) / (√3 · √2) = 2/√6 = 0.816496580927726; cos(half 1) = 0 / max(1 · 0, eps) = 0
  // CS = 100 · (0.8164965809 + 0) / 2 = 40.8248290463863
  const Tensor target = RollBuilder(64).note(60, 0, 8).note(64, 0, 8).note(67, 16, 24).note(60, 32, 40).tensor();
  const Tensor prediction = RollBuilder(64).note(72, 4, 6).note(64, 0, 3).tensor();
  EXPECT_NEAR(chroma_similarity(target, prediction), 100.0 * (2.0 / std::sqrt(6.0)) / 2.0, 1e-9);
  EXPECT_NEAR(chroma_similarity(target, target), 100.0, 1e-9);
}

TEST(MetricsChromaSimilarity, EmptyAndSilentHalfMeasuresScoreZero) {
  // target with onsets only in half 0 of 2: identical prediction → (1 + 0) / 2 = 50, not 100: a
  // half-measure silent in both has cosine 0 (the paper's eps-cosine; the StrIPE code does the same)
  const Tensor target = RollBuilder(64).note(60, 0, 8).tensor();
  const Tensor silence = RollBuilder(64).tensor();
  EXPECT_NEAR(chroma_similarity(target, target), 50.0, 1e-9);
  EXPECT_EQ(chroma_similarity(target, silence), 0.0);   // empty prediction
  EXPECT_EQ(chroma_similarity(silence, target), 0.0);   // empty target
  EXPECT_EQ(chroma_similarity(silence, silence), 0.0);  // both empty
}

TEST(MetricsChromaSimilarity, TracksAreConcatenatedNotSummed) {
  // 3 tracks, T = 32: target C in the melody (track 0), prediction C in the piano (track 2):
  // v_tgt = e_0 (melody C), v_pred = e_24 (piano C) → cos = 0 → CS = 0. Melody against melody → 100.
  const Tensor target = RollBuilder(32, 3).note(60, 0, 4, 0).tensor();
  const Tensor prediction = RollBuilder(32, 3).note(60, 0, 4, 2).tensor();
  EXPECT_EQ(chroma_similarity(target, prediction), 0.0);
  EXPECT_NEAR(chroma_similarity(select_tracks(target, {0}), select_tracks(target, {0})), 100.0, 1e-9);
}

TEST(MetricsChromaSimilarity, PartialLastHalfMeasureIsItsOwnUnit) {
  // T = 40 = 32 + 8: half 0 both C at 0 (cos 1); half 1 (ticks 32-39) target C at 36, prediction C at 38
  // (cos 1) → CS = 100. Were the partial unit dropped, a prediction wrong only there would go unseen.
  const Tensor target = RollBuilder(40).note(60, 0, 4).note(60, 36, 37).tensor();
  const Tensor prediction = RollBuilder(40).note(60, 0, 4).note(72, 38, 40).tensor();
  EXPECT_NEAR(chroma_similarity(target, prediction), 100.0, 1e-9);
  const Tensor wrong_at_end = RollBuilder(40).note(60, 0, 4).note(64, 38, 40).tensor();
  EXPECT_NEAR(chroma_similarity(target, wrong_at_end), 50.0, 1e-9);
}

// ---- SSMD ----------------------------------------------------------------------------------------------

TEST(MetricsSelfSimilarity, HandComputedPaperVariant) {
  // T = 96 (3 half-measures), one track.
  // target vectors: u0 = C, u1 = C, u2 = C + E → S_tgt = [[1, 1, r], [1, 1, r], [r, r, 1]], r = 1/√2
  // prediction:     u0 = C, u1 = E, u2 = 0     → S_pred = diag(1, 1, 0)
  // |ΔS| = [[0, 1, r], [1, 0, r], [r, r, 1]] → Σ = 3 + 4r = 3 + 2√2; SSMD = 50 · (3 + 2√2) / 9 = 32.380139...
  const Tensor target = RollBuilder(96).note(60, 0, 4).note(60, 32, 36).note(60, 64, 68).note(64, 64, 68).tensor();
  const Tensor prediction = RollBuilder(96).note(60, 0, 4).note(64, 32, 36).tensor();
  const double expected = 50.0 * (3.0 + 2.0 * std::sqrt(2.0)) / 9.0;
  EXPECT_NEAR(self_similarity_matrix_distance(target, prediction), expected, 1e-9);
  EXPECT_EQ(self_similarity_matrix_distance(target, target), 0.0);
  // empty prediction: S_pred = 0 → 50 · mean |S_tgt| = 50 · (5 + 4r) / 9
  const Tensor silence = RollBuilder(96).tensor();
  EXPECT_NEAR(self_similarity_matrix_distance(target, silence), 50.0 * (5.0 + 2.0 * std::sqrt(2.0)) / 9.0, 1e-9);
  // empty target: 50 · mean |S_pred| = 50 · 2 / 9
  EXPECT_NEAR(self_similarity_matrix_distance(silence, prediction), 100.0 / 9.0, 1e-9);
  EXPECT_EQ(self_similarity_matrix_distance(silence, silence), 0.0);
}

TEST(MetricsSelfSimilarity, HandComputedStripeCodeVariant) {
  // T = 4 (two 2-tick units), 2 tracks, active cells (not onsets), tracks summed, × 100.
  // target: track 0 pitch 60 at ticks 0-3 → u0 C 2, u1 C 2; track 1 pitch 64 at tick 2 → u1 E 1
  //   cos(u0, u1) = (2·2) / (2 · √5) = 2/√5 → S_tgt = [[1, 2/√5], [2/√5, 1]]
  // prediction: track 1 pitch 72 at ticks 0-1 → u0 C 2; u1 silent → S_pred = [[1, 0], [0, 0]]
  // |ΔS| Σ = 2 · 2/√5 + 1 → SSMD = 100 · (1 + 4/√5) / 4 = 69.7213595...
  const Tensor target = RollBuilder(4, 2).note(60, 0, 4, 0).note(64, 2, 3, 1).tensor();
  const Tensor prediction = RollBuilder(4, 2).note(72, 0, 2, 1).tensor();
  EXPECT_NEAR(self_similarity_matrix_distance(target, prediction, SsmdVariant::kStripeCode),
              100.0 * (1.0 + 4.0 / std::sqrt(5.0)) / 4.0, 1e-9);
  EXPECT_STREQ(ssmd_variant_name(SsmdVariant::kStripeCode), "stripe-code");
  // the same vectors at the paper's scale: half of it
  EXPECT_NEAR(self_similarity_matrix_distance(target, prediction, SsmdVariant::kStripeCodeHalved),
              50.0 * (1.0 + 4.0 / std::sqrt(5.0)) / 4.0, 1e-9);
}

// ---- GS ------------------------------------------------------------------------------------------------

TEST(MetricsGroovingSimilarity, HandComputedQuarterNotes) {
  // T = 64 (4 quarters). target onsets in q0 (tick 0), q1 (tick 20, held to 40: no onset in q2), q3 (tick 50)
  //   → g_tgt = 1 1 0 1.  prediction onsets at ticks 3, 17, 35 → g_pred = 1 1 1 0
  //   XOR = 0 0 1 1 → GS = 100 · (1 − 2/4) = 50
  const Tensor target = RollBuilder(64).note(60, 0, 4).note(62, 20, 40).note(64, 50, 52).tensor();
  const Tensor prediction = RollBuilder(64).note(60, 3, 4).note(67, 17, 18).note(67, 35, 36).tensor();
  EXPECT_NEAR(grooving_similarity(target, prediction), 50.0, 1e-12);
  const Tensor silence = RollBuilder(64).tensor();
  EXPECT_NEAR(grooving_similarity(target, silence), 25.0, 1e-12);      // XOR = g_tgt, 3 of 4 differ
  EXPECT_NEAR(grooving_similarity(silence, prediction), 25.0, 1e-12);  // empty target
  EXPECT_EQ(grooving_similarity(silence, silence), 100.0);             // every quarter agrees
  // partial quarter: T = 20 → q0 (0-15), q1 (16-19); target onset at 18 only, prediction silent → 50
  EXPECT_NEAR(grooving_similarity(RollBuilder(20).note(60, 18, 19).tensor(), RollBuilder(20).tensor()), 50.0, 1e-12);
}

// ---- NDD -----------------------------------------------------------------------------------------------

TEST(MetricsNoteDensity, HandComputedPerSixteenthPooledAndStripeCode) {
  // T = 12 (three 16ths), one track.
  //   16th 0 (ticks 0-3): target 60, 64, 67 held → 12 cells; prediction 60 held → 4 cells: missing 8/12
  //   16th 1 (ticks 4-7): target 60 → 4 cells; prediction 60, 62 → 8 cells: missing max(0, 4 − 8) = 0
  //   16th 2 (ticks 8-11): target silent (skipped); prediction 70 → 4 cells (not penalized)
  // per-16th: 100 · (8/12 + 0) / 2 = 33.33...; pooled: 100 · 8 / 16 = 50
  // StrIPE code: mean |n_pred − n_tgt| = (8 + 4 + 4) / 3 = 5.33...
  const Tensor target = RollBuilder(12).note(60, 0, 8).note(64, 0, 4).note(67, 0, 4).tensor();
  const Tensor prediction = RollBuilder(12).note(60, 0, 8).note(62, 4, 8).note(70, 8, 12).tensor();
  EXPECT_NEAR(note_density_distance(target, prediction), 100.0 / 3.0, 1e-9);
  EXPECT_NEAR(note_density_distance(target, prediction, NddNormalization::kPooled), 50.0, 1e-9);
  EXPECT_NEAR(note_density_distance(target, prediction, NddNormalization::kStripeCode), 16.0 / 3.0, 1e-9);
}

TEST(MetricsNoteDensity, CellsAreCountedPerTickAndEdgeCasesAreDefined) {
  // a note starting mid-16th counts only its ticks: target 60 at ticks 0-3 (4 cells), prediction 60 at
  // 2-3 (2 cells) → 50 % missing
  EXPECT_NEAR(note_density_distance(RollBuilder(4).note(60, 0, 4).tensor(), RollBuilder(4).note(60, 2, 4).tensor()),
              50.0, 1e-12);
  const Tensor target = RollBuilder(16).note(60, 0, 16).tensor();
  const Tensor silence = RollBuilder(16).tensor();
  EXPECT_EQ(note_density_distance(target, silence), 100.0);  // empty prediction: everything missing
  EXPECT_EQ(note_density_distance(silence, target), 0.0);    // empty target: nothing can be missing
  EXPECT_EQ(note_density_distance(silence, silence), 0.0);
  EXPECT_EQ(note_density_distance(target, target), 0.0);
  // partial 16th: T = 6 → 16ths of ticks 0-3 and 4-5; target 60 at 0-6, prediction 60 at 0-4 → (0 + 1) / 2
  EXPECT_NEAR(note_density_distance(RollBuilder(6).note(60, 0, 6).tensor(), RollBuilder(6).note(60, 0, 4).tensor()),
              50.0, 1e-12);
}

// ---- errors, track selection, score_piece ----------------------------------------------------------------

TEST(MetricsErrors, ShapesDtypesAndValuesAreChecked) {
  const Tensor three_tracks = RollBuilder(64, 3).tensor();
  const Tensor one_track = RollBuilder(64, 1).tensor();
  expect_error_mentions([&] { chroma_similarity(three_tracks, one_track); },
                        {"chroma_similarity", "[64, 384]", "[64, 128]"});
  expect_error_mentions([&] { note_density_distance(one_track, three_tracks); },
                        {"note_density_distance", "[64, 128]", "[64, 384]"});
  expect_error_mentions([&] { grooving_similarity(Tensor::zeros({64, 100}, DType::UInt8), Tensor::zeros({64, 100}, DType::UInt8)); },
                        {"grooving_similarity", "128"});
  expect_error_mentions([&] { self_similarity_matrix_distance(Tensor::full({8, 128}, 0.5), Tensor::zeros({8, 128})); },
                        {"self_similarity_matrix_distance", "0 and 1"});
  EXPECT_THROW(score_piece(Tensor::zeros({2, 8, 128}, DType::UInt8), Tensor::zeros({2, 8, 128}, DType::UInt8)), Error);
  EXPECT_THROW(select_tracks(three_tracks, {3}), Error);
  EXPECT_THROW(select_tracks(three_tracks, {1, 1}), Error);
  ScoringOptions bad;
  bad.scored_tracks = {0, 5};
  EXPECT_THROW(score_piece(three_tracks, three_tracks, bad), Error);
}

TEST(MetricsScorePiece, FloatTargetsAndTrackSubsets) {
  // 3 tracks: target melody C at 0 and piano E at 32; prediction piano E at 32 only
  const Tensor target = RollBuilder(64, 3).note(60, 0, 4, 0).note(64, 32, 36, 2).tensor();
  const Tensor prediction = RollBuilder(64, 3).note(64, 32, 36, 2).tensor();
  // all tracks: half 0 cos 0 (prediction silent), half 1 cos 1 → CS 50
  const MetricScores all = score_piece(target.to(DType::Float32), prediction);
  EXPECT_NEAR(all.chroma_similarity, 50.0, 1e-9);
  // piano only: half 0 silent in both (0), half 1 (1) → CS 50; NDD 0 (nothing missing); GS 100
  ScoringOptions piano;
  piano.scored_tracks = {2};
  const MetricScores piano_only = score_piece(target, prediction, piano);
  EXPECT_NEAR(piano_only.chroma_similarity, 50.0, 1e-9);
  EXPECT_EQ(piano_only.note_density_distance, 0.0);
  EXPECT_EQ(piano_only.grooving_similarity, 100.0);
  EXPECT_NEAR(piano_only.chroma_similarity,
              chroma_similarity(select_tracks(target, {2}), select_tracks(prediction, {2})), 1e-12);
  // all tracks, NDD: 16th 0 target 4 cells missing (100 %), 16th 8 matched (0 %) → 50; GS: q0 differs → 75
  EXPECT_NEAR(all.note_density_distance, 50.0, 1e-9);
  EXPECT_NEAR(all.grooving_similarity, 75.0, 1e-9);
  // score_pieces averages pieces: (all + perfect) / 2
  const MetricScores two = score_pieces({target, target}, {prediction, target});
  EXPECT_NEAR(two.chroma_similarity, (50.0 + 100.0) / 2.0, 1e-9);
  EXPECT_NEAR(two.note_density_distance, 25.0, 1e-9);
  EXPECT_EQ(std::string(metric_name(Metric::kSelfSimilarityMatrixDistance)), "SSMD");
  EXPECT_FALSE(higher_is_better(Metric::kNoteDensityDistance));
  EXPECT_THROW(score_pieces({target}, {}), Error);
}

// ---- binarization --------------------------------------------------------------------------------------

TEST(Binarization, ThresholdIsInclusive) {
  // prob ≥ thr: 0.2 → 0, 0.5 → 1, 0.49 → 0, 0.8 → 1
  const Tensor probabilities = Tensor::from_vector(std::vector<float>{0.2f, 0.5f, 0.49f, 0.8f}, {2, 2});
  EXPECT_EQ(threshold_probabilities(probabilities, 0.5).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 1, 0, 1}));
  // logits: sigmoid(0) = 0.5 exactly → 1 at thr 0.5; sigmoid(−0.01) < 0.5 → 0
  const Tensor logits = Tensor::from_vector(std::vector<double>{0.0, -0.01, 5.0, -5.0}, {2, 2});
  EXPECT_EQ(binarize_logits(logits, {0.5, 0}).to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1, 0}));
  EXPECT_THROW(threshold_probabilities(probabilities, 0.0), Error);
  EXPECT_THROW(threshold_probabilities(Tensor::zeros({2, 2}, DType::UInt8), 0.5), Error);
}

TEST(Binarization, MergeFillsGapsOfAtMostSTicks) {
  // one row, T = 16: _ 1 _ _ 1 _ _ _ _ 1 1 _ 1 _ _ _   (leading and trailing silence)
  //   gaps between active ticks: 2 (ticks 2-3), 4 (5-8), 0 (9-10), 1 (11)
  const std::vector<int> row = {0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0};
  std::vector<uint8_t> cells(16 * 2, 0);  // P = 2: the second row stays silent
  for (size_t t = 0; t < row.size(); ++t) cells[t * 2] = uint8_t(row[t]);
  const Tensor binary = Tensor::from_vector(cells, {16, 2});
  auto first_row = [](const Tensor& y) {
    std::vector<int> out;
    for (int64_t t = 0; t < 16; ++t) out.push_back(int(y.at({t, 0})));
    return out;
  };
  // s = 1: only the 1-tick gap; s = 2: gaps of 2 and 1 (≤ s inclusive); s = 4: all; never the edges
  EXPECT_EQ(first_row(merge_gaps(binary, 1)), (std::vector<int>{0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(first_row(merge_gaps(binary, 2)), (std::vector<int>{0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(first_row(merge_gaps(binary, 3)), first_row(merge_gaps(binary, 2)));
  EXPECT_EQ(first_row(merge_gaps(binary, 4)), (std::vector<int>{0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(first_row(merge_gaps(binary, 0)), row);  // s = 0: plain threshold
  EXPECT_EQ(sum(merge_gaps(binary, 14).select(1, 1).to(DType::Float64)).item(), 0.0);  // rows are independent
  // a batch [B, T, P] merges each piece on its own; the input is not modified
  const Tensor batch = concat({binary.unsqueeze(0), binary.unsqueeze(0)}, 0);
  const Tensor merged = merge_gaps(batch, 4);
  EXPECT_EQ(first_row(merged.select(0, 1)), first_row(merge_gaps(binary, 4)));
  EXPECT_EQ(first_row(binary), row);
  EXPECT_THROW(merge_gaps(binary, -1), Error);
  EXPECT_THROW(merge_gaps(binary.to(DType::Float32), 2), Error);
  EXPECT_THROW(merge_gaps(Tensor::full({4, 2}, 2.0, DType::UInt8), 2), Error);
}

TEST(Binarization, GridHasSeventyConfigsInOrder) {
  const std::vector<BinarizationConfig> configs = grid_configs(BinarizationGrid{});
  ASSERT_EQ(configs.size(), 70u);  // 5 thresholds × (threshold only + 13 merge gaps)
  EXPECT_EQ(configs[0], (BinarizationConfig{0.2, 0}));
  EXPECT_EQ(configs[1], (BinarizationConfig{0.2, 2}));
  EXPECT_EQ(configs[14], (BinarizationConfig{0.4, 0}));
  EXPECT_EQ(configs[69], (BinarizationConfig{0.8, 14}));
  EXPECT_EQ(configs[1].label(), "threshold 0.2 + merge gaps <= 2");
  EXPECT_EQ(configs[0].label(), "threshold 0.2");
}

TEST(Binarization, GridSearchFindsTheMergeThatRepairsADip) {
  // Validation piece, T = 32, one track. Target: pitch 60 held through all 32 ticks.
  // Probabilities: pitch 60 0.9 except a dip to 0.1 at ticks 18-21; every other pitch 0.3.
  //   thr 0.2: all 128 pitches sound → CS, SSMD, GS poor (NDD 0: nothing is missing)
  //   thr ≥ 0.4, no merge or s < 4: pitch 60 with a 4-tick gap → a second onset at 22 (quarter 1):
  //     GS 50, NDD 100 · (2/4 + 2/4) / 8 = 12.5, CS 100 (C counted twice is still parallel to C once)
  //   thr ≥ 0.4 and s ≥ 4: the target exactly → CS 100, SSMD 0, GS 100, NDD 0; first in grid order {0.4, 4}
  std::vector<double> logits(32 * 128);
  auto logit = [](double p) { return std::log(p / (1.0 - p)); };
  for (int64_t t = 0; t < 32; ++t) {
    for (int64_t p = 0; p < 128; ++p) {
      logits[size_t(t * 128 + p)] = p == 60 ? logit(t >= 18 && t < 22 ? 0.1 : 0.9) : logit(0.3);
    }
  }
  const Tensor logit_tensor = Tensor::from_vector(logits, {32, 128});
  const Tensor target = RollBuilder(32).note(60, 0, 32).tensor();

  const GridSearchResult by_rank = search_binarization({logit_tensor}, {target});
  ASSERT_EQ(by_rank.points.size(), 70u);
  EXPECT_EQ(by_rank.best().config, (BinarizationConfig{0.4, 4}));
  EXPECT_EQ(by_rank.best().scores.grooving_similarity, 100.0);
  EXPECT_EQ(by_rank.best().scores.note_density_distance, 0.0);
  const GridPoint& plain = by_rank.points[14];  // {0.4, 0}
  EXPECT_NEAR(plain.scores.grooving_similarity, 50.0, 1e-12);
  EXPECT_NEAR(plain.scores.note_density_distance, 12.5, 1e-12);
  EXPECT_NEAR(plain.scores.chroma_similarity, 100.0, 1e-9);

  // single metrics are each fooled by something the mean rank sees:
  //   GS by thr 0.2 + merge 4 (all 128 pitches held from tick 0: one onset, in quarter 0, as the target);
  //   CS by the gap (first CS 100 is the plain threshold 0.4);
  //   NDD by the over-full thr 0.2 prediction (nothing missing)
  EXPECT_EQ(search_binarization({logit_tensor}, {target}, {}, SelectionCriterion::kGroovingSimilarity).best().config,
            (BinarizationConfig{0.2, 4}));
  EXPECT_EQ(search_binarization({logit_tensor}, {target}, {}, SelectionCriterion::kChromaSimilarity).best().config,
            (BinarizationConfig{0.4, 0}));
  EXPECT_EQ(search_binarization({logit_tensor}, {target}, {}, SelectionCriterion::kNoteDensityDistance).best().config,
            (BinarizationConfig{0.2, 0}));
  EXPECT_THROW(search_binarization({logit_tensor}, {RollBuilder(16).tensor()}), Error);
}

}  // namespace
