// Binarization of the model's logits into pianorolls (method.md §4.5) and the grid search that
// picks a binarization on the validation set (method.md §4.4, "binarization ∈ {threshold,
// threshold+merge}"; StrIPE website grids). docs/metrics.md explains each choice.
//
// Shapes: [T, P] (one piece) or [B, T, P] (a batch); time is always axis −2, pitch rows axis −1.
//   prob = sigmoid(logits)                                              (float32/float64, same dtype)
//   threshold:        y[t, p] = 1 if prob[t, p] ≥ thr else 0            (uint8)
//   threshold+merge:  after thresholding, per pitch row p: for two consecutive active ticks
//                     a < b of the row (y[a] = y[b] = 1, y = 0 strictly between), set
//                     y[a+1 .. b−1] = 1 when the number of empty ticks b − a − 1 ≤ s.
//   Silence before the first or after the last active tick of a row is never filled (there is no
//   second endpoint); s = 0 changes nothing, so "threshold" is "threshold+merge" with s = 0.
#pragma once

#include "experiments/metrics/pianoroll_metrics.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace stripes::metrics {

struct BinarizationConfig {
  double threshold = 0.5;      // thr ∈ (0, 1]: y = prob ≥ thr
  int64_t max_merged_gap = 0;  // s ≥ 0: fill gaps of at most s empty ticks; 0 = plain threshold
  std::string label() const;   // "threshold 0.5" or "threshold 0.5 + merge gaps <= 4"
  bool operator==(const BinarizationConfig&) const = default;
};

// sigmoid(logits), overflow-free (tensor/math.hpp). logits float [.., T, P] -> same shape and dtype.
Tensor probabilities_from_logits(const Tensor& logits);

// y = prob ≥ threshold.   probabilities float32/float64 [T, P] or [B, T, P] -> uint8, same shape.
Tensor threshold_probabilities(const Tensor& probabilities, double threshold);

// Fill, per pitch row, the gaps of at most `max_gap` empty ticks between two active ticks.
//   binary uint8 [T, P] or [B, T, P] (0/1) -> uint8, same shape
Tensor merge_gaps(const Tensor& binary, int64_t max_gap);

// threshold_probabilities then merge_gaps.   probabilities [.., T, P] -> uint8 [.., T, P]
Tensor binarize_probabilities(const Tensor& probabilities, const BinarizationConfig& config);
// probabilities_from_logits then binarize_probabilities.   logits [.., T, P] -> uint8 [.., T, P]
Tensor binarize_logits(const Tensor& logits, const BinarizationConfig& config);

// ---- grid search on the validation set ---------------------------------------------------------------

struct BinarizationGrid {
  std::vector<double> thresholds = {0.2, 0.4, 0.5, 0.6, 0.8};                 // StrIPE website grid
  std::vector<int64_t> merge_gaps = {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};  // ticks
  bool include_threshold_only = true;  // also each threshold without merging (s = 0)
};

// Every config of the grid: for each threshold, threshold-only first, then each merge gap
// (5 × (1 + 13) = 70 configs for the default grid).
std::vector<BinarizationConfig> grid_configs(const BinarizationGrid& grid);

enum class SelectionCriterion {
  kChromaSimilarity,              // highest CS
  kSelfSimilarityMatrixDistance,  // lowest SSMD
  kGroovingSimilarity,            // highest GS
  kNoteDensityDistance,           // lowest NDD
  kMeanRank,                      // lowest mean over the 4 metrics of the config's rank (default)
};
const char* selection_criterion_name(SelectionCriterion criterion);  // "CS", "SSMD", "GS", "NDD", "mean-rank"

struct GridPoint {
  BinarizationConfig config;
  MetricScores scores;     // mean over the validation pieces
  double mean_rank = 0.0;  // mean over the 4 metrics of the rank among all configs (1 = best; ties share
                           // the average of their ranks)
};

struct GridSearchResult {
  SelectionCriterion criterion = SelectionCriterion::kMeanRank;
  std::vector<GridPoint> points;  // in grid_configs order
  size_t best_index = 0;          // into points
  const GridPoint& best() const { return points[best_index]; }
};

// Score every config of `grid` on the validation pieces (logits[i] float [T_i, P], targets[i]
// binary [T_i, P]) and pick the best by `criterion`. Ties go to the earlier config in grid order.
// Selection by mean rank: each metric votes with its rank, so no metric's scale dominates (SSMD moves
// by tenths where CS and GS move by tens); ties in mean rank go to the higher CS.
GridSearchResult search_binarization(const std::vector<Tensor>& validation_logits,
                                     const std::vector<Tensor>& validation_targets,
                                     const BinarizationGrid& grid = {},
                                     SelectionCriterion criterion = SelectionCriterion::kMeanRank,
                                     const ScoringOptions& scoring = {});

}  // namespace stripes::metrics
