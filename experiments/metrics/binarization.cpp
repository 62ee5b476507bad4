// Binarization (threshold, threshold+merge) and the validation grid search (method.md §4.4-4.5).
#include "experiments/metrics/binarization.hpp"

#include "tensor/error.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <mutex>
#include <numeric>
#include <string_view>

namespace stripes::metrics {
namespace {

// [T, P] or [B, T, P] on the CPU; returns (B, T, P).
struct RollShape {
  int64_t batch = 1, ticks = 0, rows = 0;
};

RollShape roll_shape(std::string_view what, const Tensor& x) {
  STRIPES_CHECK(x.defined(), "{}: the input is undefined", what);
  STRIPES_CHECK(x.dim() == 2 || x.dim() == 3, "{}: expected [T, P] or [B, T, P], got {}", what, x.description());
  RollShape shape;
  shape.batch = x.dim() == 3 ? x.size(0) : 1;
  shape.ticks = x.size(-2);
  shape.rows = x.size(-1);
  return shape;
}

Tensor on_cpu(const Tensor& x) { return x.device() == Device::CPU ? x.contiguous() : x.to(Device::CPU).contiguous(); }

// Ranks of `values` among themselves, 1 = best (highest when higher_better); ties share the mean
// of their ranks (fractional ranking).
std::vector<double> fractional_ranks(const std::vector<double>& values, bool higher_better) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return higher_better ? values[a] > values[b] : values[a] < values[b];
  });
  std::vector<double> ranks(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    const double shared = (double(i + 1) + double(j + 1)) / 2.0;  // mean of ranks i+1 .. j+1
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = shared;
    i = j + 1;
  }
  return ranks;
}

}  // namespace

std::string BinarizationConfig::label() const {
  return max_merged_gap > 0 ? fmt::format("threshold {} + merge gaps <= {}", threshold, max_merged_gap)
                            : fmt::format("threshold {}", threshold);
}

Tensor probabilities_from_logits(const Tensor& logits) {
  STRIPES_CHECK(logits.defined() && is_floating(logits.dtype()),
                "probabilities_from_logits: expected float32/float64 logits, got {}",
                logits.defined() ? logits.description() : std::string("an undefined tensor"));
  return sigmoid(logits);
}

Tensor threshold_probabilities(const Tensor& probabilities, double threshold) {
  const RollShape shape = roll_shape("threshold_probabilities", probabilities);
  STRIPES_CHECK(is_floating(probabilities.dtype()), "threshold_probabilities: expected float probabilities, got {}",
                probabilities.description());
  STRIPES_CHECK(threshold > 0.0 && threshold <= 1.0, "threshold_probabilities: threshold must be in (0, 1], got {}",
                threshold);
  const Tensor p = on_cpu(probabilities);
  Tensor out = Tensor::empty(p.shape(), DType::UInt8);
  uint8_t* y = out.mutable_data<uint8_t>();
  const int64_t n = shape.batch * shape.ticks * shape.rows;
  dispatch_floating(p.dtype(), "threshold_probabilities", [&]<typename T>() {
    const T* prob = p.data<T>();
    for (int64_t i = 0; i < n; ++i) y[i] = double(prob[i]) >= threshold ? 1 : 0;  // y = prob ≥ thr
  });
  return out;
}

Tensor merge_gaps(const Tensor& binary, int64_t max_gap) {
  const RollShape shape = roll_shape("merge_gaps", binary);
  STRIPES_CHECK(binary.dtype() == DType::UInt8, "merge_gaps: expected a uint8 binary pianoroll, got {}",
                binary.description());
  STRIPES_CHECK(max_gap >= 0, "merge_gaps: the largest merged gap must be >= 0 ticks, got {}", max_gap);
  Tensor out = on_cpu(binary).clone();
  uint8_t* y = out.mutable_data<uint8_t>();
  // One row-major pass (tick by tick, all rows), remembering each row's last active tick; a fill
  // only writes ticks behind t, so it never creates an active tick the pass has yet to see.
  std::vector<int64_t> previous_active(size_t(shape.rows));
  for (int64_t b = 0; b < shape.batch; ++b) {
    uint8_t* roll = y + b * shape.ticks * shape.rows;
    std::fill(previous_active.begin(), previous_active.end(), int64_t(-1));
    for (int64_t t = 0; t < shape.ticks; ++t) {
      for (int64_t row = 0; row < shape.rows; ++row) {
        const uint8_t cell = roll[t * shape.rows + row];
        if (cell == 0) continue;
        STRIPES_CHECK(cell == 1, "merge_gaps: the pianoroll {} holds values other than 0 and 1", binary.description());
        int64_t& previous = previous_active[size_t(row)];
        // empty ticks between the two active ticks: t − previous − 1 ≤ s → fill them
        if (previous >= 0 && t - previous - 1 <= max_gap) {
          for (int64_t gap = previous + 1; gap < t; ++gap) roll[gap * shape.rows + row] = 1;
        }
        previous = t;
      }
    }
  }
  return out;
}

Tensor binarize_probabilities(const Tensor& probabilities, const BinarizationConfig& config) {
  Tensor binary = threshold_probabilities(probabilities, config.threshold);
  return config.max_merged_gap > 0 ? merge_gaps(binary, config.max_merged_gap) : binary;
}

Tensor binarize_logits(const Tensor& logits, const BinarizationConfig& config) {
  return binarize_probabilities(probabilities_from_logits(logits), config);
}

// ---- grid search -------------------------------------------------------------------------------------

std::vector<BinarizationConfig> grid_configs(const BinarizationGrid& grid) {
  STRIPES_CHECK(!grid.thresholds.empty(), "grid_configs: the grid has no threshold");
  STRIPES_CHECK(grid.include_threshold_only || !grid.merge_gaps.empty(), "grid_configs: the grid has no config");
  std::vector<BinarizationConfig> configs;
  for (double threshold : grid.thresholds) {
    if (grid.include_threshold_only) configs.push_back({threshold, 0});
    for (int64_t gap : grid.merge_gaps) {
      STRIPES_CHECK(gap > 0, "grid_configs: merge gaps must be positive, got {}", gap);
      configs.push_back({threshold, gap});
    }
  }
  return configs;
}

const char* selection_criterion_name(SelectionCriterion criterion) {
  switch (criterion) {
    case SelectionCriterion::kChromaSimilarity: return "CS";
    case SelectionCriterion::kSelfSimilarityMatrixDistance: return "SSMD";
    case SelectionCriterion::kGroovingSimilarity: return "GS";
    case SelectionCriterion::kNoteDensityDistance: return "NDD";
    case SelectionCriterion::kMeanRank: return "mean-rank";
  }
  return "?";
}

GridSearchResult search_binarization(const std::vector<Tensor>& validation_logits,
                                     const std::vector<Tensor>& validation_targets, const BinarizationGrid& grid,
                                     SelectionCriterion criterion, const ScoringOptions& scoring) {
  STRIPES_CHECK(!validation_logits.empty() && validation_logits.size() == validation_targets.size(),
                "search_binarization: expected as many targets as logits (and at least one), got {} logits and {} "
                "targets",
                validation_logits.size(), validation_targets.size());
  const std::vector<BinarizationConfig> configs = grid_configs(grid);
  const size_t pieces = validation_logits.size();

  // sigmoid once per piece; shapes checked before any thread starts.
  std::vector<Tensor> probabilities(pieces);
  for (size_t i = 0; i < pieces; ++i) {
    STRIPES_CHECK(validation_logits[i].defined() && validation_targets[i].defined() &&
                      validation_logits[i].shape() == validation_targets[i].shape(),
                  "search_binarization: piece {}: logits {} and target {} differ in shape", i,
                  validation_logits[i].defined() ? shape_str(validation_logits[i].shape()) : "undefined",
                  validation_targets[i].defined() ? shape_str(validation_targets[i].shape()) : "undefined");
    probabilities[i] = on_cpu(probabilities_from_logits(validation_logits[i]));
  }

  GridSearchResult result;
  result.criterion = criterion;
  for (const BinarizationConfig& config : configs) {
    std::vector<MetricScores> piece_scores(pieces);
    std::mutex error_mutex;
    std::exception_ptr first_error;
    parallel_for(int64_t(pieces), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        try {
          piece_scores[size_t(i)] =
              score_piece(validation_targets[size_t(i)], binarize_probabilities(probabilities[size_t(i)], config), scoring);
        } catch (...) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
        }
      }
    });
    if (first_error) std::rethrow_exception(first_error);
    result.points.push_back({config, mean_scores(piece_scores), 0.0});
  }

  // mean rank over the four metrics, each ranked in its own direction
  for (Metric metric : kAllMetrics) {
    std::vector<double> values;
    for (const GridPoint& point : result.points) values.push_back(point.scores.get(metric));
    const std::vector<double> ranks = fractional_ranks(values, higher_is_better(metric));
    for (size_t i = 0; i < ranks.size(); ++i) result.points[i].mean_rank += ranks[i] / double(std::size(kAllMetrics));
  }

  // is point a strictly better than point b under the criterion? (ties keep the earlier config)
  auto better = [&](const GridPoint& a, const GridPoint& b) {
    switch (criterion) {
      case SelectionCriterion::kChromaSimilarity: return a.scores.chroma_similarity > b.scores.chroma_similarity;
      case SelectionCriterion::kSelfSimilarityMatrixDistance:
        return a.scores.self_similarity_matrix_distance < b.scores.self_similarity_matrix_distance;
      case SelectionCriterion::kGroovingSimilarity: return a.scores.grooving_similarity > b.scores.grooving_similarity;
      case SelectionCriterion::kNoteDensityDistance:
        return a.scores.note_density_distance < b.scores.note_density_distance;
      case SelectionCriterion::kMeanRank:
        return a.mean_rank < b.mean_rank ||
               (a.mean_rank == b.mean_rank && a.scores.chroma_similarity > b.scores.chroma_similarity);
    }
    return false;
  };
  for (size_t i = 1; i < result.points.size(); ++i) {
    if (better(result.points[i], result.points[result.best_index])) result.best_index = i;
  }
  return result;
}

}  // namespace stripes::metrics
