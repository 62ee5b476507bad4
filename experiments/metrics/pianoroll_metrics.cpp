// The four metrics of the paper (method.md §4.6) on binary pianorolls [T, K·128].
// Each feature is a plain loop over a row-major uint8 copy of the pianoroll ("Roll"); the Tensor
// functions of the header are thin wrappers around these loops.
#include "experiments/metrics/pianoroll_metrics.hpp"

#include "tensor/error.hpp"
#include "tensor/math.hpp"
#include "tensor/parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <mutex>
#include <string_view>

namespace stripes::metrics {
namespace {

// A binary pianoroll as a row-major [ticks, rows] array of 0/1 bytes.
struct Roll {
  int64_t ticks = 0;
  int64_t rows = 0;
  std::vector<uint8_t> cells;
  uint8_t at(int64_t tick, int64_t row) const { return cells[size_t(tick * rows + row)]; }
  int64_t tracks() const { return rows / kPitchesPerTrack; }
};

int64_t unit_count(int64_t ticks, int64_t ticks_per_unit) { return (ticks + ticks_per_unit - 1) / ticks_per_unit; }

void check_unit(std::string_view what, int64_t ticks_per_unit) {
  STRIPES_CHECK(ticks_per_unit > 0, "{}: ticks per unit must be positive, got {}", what, ticks_per_unit);
}

// Checks rank, device, the track layout and that every value is 0 or 1; returns a 0/1 copy.
Roll to_roll(std::string_view what, const Tensor& pianoroll) {
  STRIPES_CHECK(pianoroll.defined(), "{}: the pianoroll is undefined", what);
  STRIPES_CHECK(pianoroll.dim() == 2, "{}: expected a pianoroll [T, K*128], got {}", what, pianoroll.description());
  STRIPES_CHECK(pianoroll.size(1) > 0 && pianoroll.size(1) % kPitchesPerTrack == 0,
                "{}: expected {} pitch rows per track (P = K*128), got {}", what, kPitchesPerTrack,
                pianoroll.description());
  Roll roll;
  roll.ticks = pianoroll.size(0);
  roll.rows = pianoroll.size(1);
  roll.cells.resize(size_t(pianoroll.numel()));
  const Tensor c = pianoroll.contiguous();
  bool binary = true;
  auto copy = [&](const auto* values) {
    for (size_t i = 0; i < roll.cells.size(); ++i) {
      const auto v = values[i];
      binary = binary && (v == 0 || v == 1);
      roll.cells[i] = v != 0 ? 1 : 0;
    }
  };
  switch (c.dtype()) {
    case DType::UInt8: copy(c.data<uint8_t>()); break;
    case DType::Float32: copy(c.data<float>()); break;
    case DType::Float64: copy(c.data<double>()); break;
    case DType::Int64: copy(c.data<int64_t>()); break;
  }
  STRIPES_CHECK(binary, "{}: the pianoroll {} holds values other than 0 and 1 (binarize it first)", what,
                pianoroll.description());
  return roll;
}

// Target and prediction of one metric: same shape, both binary.
std::pair<Roll, Roll> to_roll_pair(std::string_view metric, const Tensor& target, const Tensor& prediction) {
  STRIPES_CHECK(target.defined() && prediction.defined(), "{}: target or prediction is undefined", metric);
  STRIPES_CHECK(target.shape() == prediction.shape(), "{}: target {} and prediction {} differ in shape", metric,
                shape_str(target.shape()), shape_str(prediction.shape()));
  return {to_roll(fmt::format("{} (target)", metric), target), to_roll(fmt::format("{} (prediction)", metric), prediction)};
}

// 1 where a cell starts a note: x[t] = 1 and (t = 0 or x[t−1] = 0).
bool is_onset(const Roll& roll, int64_t tick, int64_t row) {
  return roll.at(tick, row) != 0 && (tick == 0 || roll.at(tick - 1, row) == 0);
}

// [U, 12·K] row-major: onset counts per unit, per track, per pitch class.
std::vector<double> chroma_onsets(const Roll& roll, int64_t ticks_per_unit) {
  const int64_t width = kPitchClasses * roll.tracks();
  std::vector<double> vectors(size_t(unit_count(roll.ticks, ticks_per_unit) * width), 0.0);
  for (int64_t t = 0; t < roll.ticks; ++t) {
    double* v = vectors.data() + (t / ticks_per_unit) * width;
    for (int64_t row = 0; row < roll.rows; ++row) {
      if (is_onset(roll, t, row)) {
        const int64_t track = row / kPitchesPerTrack, pitch = row % kPitchesPerTrack;
        v[track * kPitchClasses + pitch % kPitchClasses] += 1.0;
      }
    }
  }
  return vectors;
}

// [U, 12] row-major: active-cell counts per unit and pitch class, tracks summed.
std::vector<double> chroma_counts(const Roll& roll, int64_t ticks_per_unit) {
  std::vector<double> vectors(size_t(unit_count(roll.ticks, ticks_per_unit) * kPitchClasses), 0.0);
  for (int64_t t = 0; t < roll.ticks; ++t) {
    double* v = vectors.data() + (t / ticks_per_unit) * kPitchClasses;
    for (int64_t row = 0; row < roll.rows; ++row) {
      if (roll.at(t, row) != 0) v[(row % kPitchesPerTrack) % kPitchClasses] += 1.0;
    }
  }
  return vectors;
}

double dot(const double* a, const double* b, int64_t width) {
  double s = 0.0;
  for (int64_t i = 0; i < width; ++i) s += a[i] * b[i];
  return s;
}

// cos = a·b / max(‖a‖‖b‖, eps); norms are passed in.
double cosine(double ab, double norm_a, double norm_b, double eps) { return ab / std::max(norm_a * norm_b, eps); }

std::vector<double> row_norms(const std::vector<double>& vectors, int64_t units, int64_t width) {
  std::vector<double> norms(static_cast<size_t>(units));
  for (int64_t u = 0; u < units; ++u) {
    const double* v = vectors.data() + u * width;
    norms[size_t(u)] = std::sqrt(dot(v, v, width));
  }
  return norms;
}

// [U, U] row-major cosine self-similarity.
std::vector<double> ssm(const std::vector<double>& vectors, int64_t units, int64_t width, double eps) {
  const std::vector<double> norms = row_norms(vectors, units, width);
  std::vector<double> matrix(size_t(units * units));
  for (int64_t i = 0; i < units; ++i) {
    for (int64_t j = i; j < units; ++j) {
      const double s = cosine(dot(vectors.data() + i * width, vectors.data() + j * width, width), norms[size_t(i)],
                              norms[size_t(j)], eps);
      matrix[size_t(i * units + j)] = s;
      matrix[size_t(j * units + i)] = s;
    }
  }
  return matrix;
}

std::vector<uint8_t> grooving(const Roll& roll, int64_t ticks_per_unit) {
  std::vector<uint8_t> pattern(size_t(unit_count(roll.ticks, ticks_per_unit)), 0);
  for (int64_t t = 0; t < roll.ticks; ++t) {
    uint8_t& g = pattern[size_t(t / ticks_per_unit)];
    for (int64_t row = 0; row < roll.rows && g == 0; ++row) {
      if (is_onset(roll, t, row)) g = 1;
    }
  }
  return pattern;
}

std::vector<double> density(const Roll& roll, int64_t ticks_per_unit) {
  std::vector<double> counts(size_t(unit_count(roll.ticks, ticks_per_unit)), 0.0);
  for (int64_t t = 0; t < roll.ticks; ++t) {
    int64_t active = 0;
    for (int64_t row = 0; row < roll.rows; ++row) active += roll.at(t, row);
    counts[size_t(t / ticks_per_unit)] += double(active);
  }
  return counts;
}

Roll select_roll_tracks(std::string_view what, const Roll& roll, const std::vector<int64_t>& tracks) {
  std::vector<bool> seen(size_t(roll.tracks()), false);
  for (int64_t track : tracks) {
    STRIPES_CHECK(track >= 0 && track < roll.tracks(), "{}: track {} does not exist in a pianoroll of {} tracks [{}, {}]",
                  what, track, roll.tracks(), roll.ticks, roll.rows);
    STRIPES_CHECK(!seen[size_t(track)], "{}: track {} is selected twice", what, track);
    seen[size_t(track)] = true;
  }
  Roll out;
  out.ticks = roll.ticks;
  out.rows = int64_t(tracks.size()) * kPitchesPerTrack;
  out.cells.resize(size_t(out.ticks * out.rows));
  for (int64_t t = 0; t < roll.ticks; ++t) {
    for (size_t i = 0; i < tracks.size(); ++i) {
      std::copy_n(roll.cells.begin() + t * roll.rows + tracks[i] * kPitchesPerTrack, kPitchesPerTrack,
                  out.cells.begin() + t * out.rows + int64_t(i) * kPitchesPerTrack);
    }
  }
  return out;
}

// ---- the metrics on rolls of the same shape ----------------------------------------------------------

double chroma_similarity_of(const Roll& target, const Roll& prediction) {
  const int64_t units = unit_count(target.ticks, kTicksPerHalfMeasure);
  if (units == 0) return 0.0;
  const int64_t width = kPitchClasses * target.tracks();
  const std::vector<double> v_tgt = chroma_onsets(target, kTicksPerHalfMeasure);
  const std::vector<double> v_pred = chroma_onsets(prediction, kTicksPerHalfMeasure);
  const std::vector<double> n_tgt = row_norms(v_tgt, units, width), n_pred = row_norms(v_pred, units, width);
  double total = 0.0;
  for (int64_t u = 0; u < units; ++u) {
    total += cosine(dot(v_tgt.data() + u * width, v_pred.data() + u * width, width), n_tgt[size_t(u)],
                    n_pred[size_t(u)], kCosineEps);
  }
  return 100.0 * total / double(units);
}

double ssmd_of(const Roll& target, const Roll& prediction, SsmdVariant variant) {
  const bool paper = variant == SsmdVariant::kPaper;
  const int64_t ticks_per_unit = paper ? kTicksPerHalfMeasure : kStripeCodeSsmTicks;
  const int64_t units = unit_count(target.ticks, ticks_per_unit);
  if (units == 0) return 0.0;
  const int64_t width = paper ? kPitchClasses * target.tracks() : kPitchClasses;
  // torch.cosine_similarity's default eps (1e-8) in the StrIPE code; no effect on integer counts.
  const double eps = paper ? kCosineEps : 1e-8;
  auto vectors = [&](const Roll& roll) {
    return paper ? chroma_onsets(roll, ticks_per_unit) : chroma_counts(roll, ticks_per_unit);
  };
  const std::vector<double> s_tgt = ssm(vectors(target), units, width, eps);
  const std::vector<double> s_pred = ssm(vectors(prediction), units, width, eps);
  double total = 0.0;
  for (size_t i = 0; i < s_tgt.size(); ++i) total += std::abs(s_tgt[i] - s_pred[i]);
  const double scale = variant == SsmdVariant::kStripeCode ? 100.0 : 50.0;
  return scale * total / double(s_tgt.size());
}

double grooving_similarity_of(const Roll& target, const Roll& prediction) {
  const std::vector<uint8_t> g_tgt = grooving(target, kTicksPerQuarter), g_pred = grooving(prediction, kTicksPerQuarter);
  if (g_tgt.empty()) return 100.0;
  int64_t differing = 0;
  for (size_t u = 0; u < g_tgt.size(); ++u) differing += g_tgt[u] != g_pred[u];
  return 100.0 * (1.0 - double(differing) / double(g_tgt.size()));
}

double note_density_distance_of(const Roll& target, const Roll& prediction, NddNormalization normalization) {
  const std::vector<double> n_tgt = density(target, kTicksPerSixteenth), n_pred = density(prediction, kTicksPerSixteenth);
  if (normalization == NddNormalization::kStripeCode) {
    if (n_tgt.empty()) return 0.0;
    double total = 0.0;
    for (size_t s = 0; s < n_tgt.size(); ++s) total += std::abs(n_pred[s] - n_tgt[s]);
    return total / double(n_tgt.size());
  }
  double missing_sum = 0.0, target_sum = 0.0, fraction_sum = 0.0;
  int64_t scored = 0;
  for (size_t s = 0; s < n_tgt.size(); ++s) {
    if (n_tgt[s] <= 0.0) continue;  // a silent target 16th: nothing can be missing there
    const double missing = n_tgt[s] - std::min(n_pred[s], n_tgt[s]);
    missing_sum += missing;
    target_sum += n_tgt[s];
    fraction_sum += missing / n_tgt[s];
    ++scored;
  }
  if (scored == 0) return 0.0;  // a silent target: nothing is missing
  return normalization == NddNormalization::kPooled ? 100.0 * missing_sum / target_sum
                                                    : 100.0 * fraction_sum / double(scored);
}

MetricScores score_rolls(const Roll& target, const Roll& prediction, const ScoringOptions& options) {
  if (!options.scored_tracks.empty()) {
    ScoringOptions all_tracks = options;
    all_tracks.scored_tracks.clear();
    return score_rolls(select_roll_tracks("score_piece (target)", target, options.scored_tracks),
                       select_roll_tracks("score_piece (prediction)", prediction, options.scored_tracks), all_tracks);
  }
  const Roll& t = target;
  const Roll& p = prediction;
  MetricScores scores;
  scores.chroma_similarity = chroma_similarity_of(t, p);
  scores.self_similarity_matrix_distance = ssmd_of(t, p, options.ssmd_variant);
  scores.grooving_similarity = grooving_similarity_of(t, p);
  scores.note_density_distance = note_density_distance_of(t, p, options.ndd_normalization);
  return scores;
}

Tensor vector_tensor(const std::vector<double>& values, const Shape& shape) {
  return Tensor::from_vector(values, shape);
}

}  // namespace

// ---- features ----------------------------------------------------------------------------------------

Tensor onsets(const Tensor& pianoroll) {
  const Roll roll = to_roll("onsets", pianoroll);
  std::vector<uint8_t> out(roll.cells.size());
  for (int64_t t = 0; t < roll.ticks; ++t) {
    for (int64_t row = 0; row < roll.rows; ++row) out[size_t(t * roll.rows + row)] = is_onset(roll, t, row);
  }
  return Tensor::from_vector(out, {roll.ticks, roll.rows});
}

Tensor select_tracks(const Tensor& pianoroll, const std::vector<int64_t>& tracks) {
  STRIPES_CHECK(pianoroll.defined() && pianoroll.dim() == 2 && pianoroll.size(1) % kPitchesPerTrack == 0,
                "select_tracks: expected a pianoroll [T, K*128], got {}",
                pianoroll.defined() ? pianoroll.description() : std::string("an undefined tensor"));
  STRIPES_CHECK(!tracks.empty(), "select_tracks: no track selected");
  const int64_t available = pianoroll.size(1) / kPitchesPerTrack;
  std::vector<bool> seen(size_t(available), false);
  std::vector<Tensor> parts;
  for (int64_t track : tracks) {
    STRIPES_CHECK(track >= 0 && track < available, "select_tracks: track {} does not exist in {} ({} tracks)", track,
                  pianoroll.description(), available);
    STRIPES_CHECK(!seen[size_t(track)], "select_tracks: track {} is selected twice", track);
    seen[size_t(track)] = true;
    parts.push_back(pianoroll.slice(1, track * kPitchesPerTrack, (track + 1) * kPitchesPerTrack));
  }
  return parts.size() == 1 ? parts[0].contiguous() : concat(parts, 1);
}

Tensor chroma_onset_vectors(const Tensor& pianoroll, int64_t ticks_per_unit) {
  check_unit("chroma_onset_vectors", ticks_per_unit);
  const Roll roll = to_roll("chroma_onset_vectors", pianoroll);
  return vector_tensor(chroma_onsets(roll, ticks_per_unit),
                       {unit_count(roll.ticks, ticks_per_unit), kPitchClasses * roll.tracks()});
}

Tensor chroma_count_vectors(const Tensor& pianoroll, int64_t ticks_per_unit) {
  check_unit("chroma_count_vectors", ticks_per_unit);
  const Roll roll = to_roll("chroma_count_vectors", pianoroll);
  return vector_tensor(chroma_counts(roll, ticks_per_unit), {unit_count(roll.ticks, ticks_per_unit), kPitchClasses});
}

Tensor self_similarity_matrix(const Tensor& vectors, double eps) {
  STRIPES_CHECK(vectors.defined() && vectors.dim() == 2 && vectors.dtype() == DType::Float64,
                "self_similarity_matrix: expected float64 vectors [U, D], got {}",
                vectors.defined() ? vectors.description() : std::string("an undefined tensor"));
  STRIPES_CHECK(eps > 0.0, "self_similarity_matrix: eps must be positive, got {}", eps);
  const int64_t units = vectors.size(0), width = vectors.size(1);
  return vector_tensor(ssm(vectors.to_vector<double>(), units, width, eps), {units, units});
}

Tensor grooving_pattern(const Tensor& pianoroll, int64_t ticks_per_unit) {
  check_unit("grooving_pattern", ticks_per_unit);
  const Roll roll = to_roll("grooving_pattern", pianoroll);
  const std::vector<uint8_t> pattern = grooving(roll, ticks_per_unit);
  return Tensor::from_vector(pattern, {int64_t(pattern.size())});
}

Tensor note_density(const Tensor& pianoroll, int64_t ticks_per_unit) {
  check_unit("note_density", ticks_per_unit);
  const Roll roll = to_roll("note_density", pianoroll);
  const std::vector<double> counts = density(roll, ticks_per_unit);
  return vector_tensor(counts, {int64_t(counts.size())});
}

// ---- metrics -----------------------------------------------------------------------------------------

double chroma_similarity(const Tensor& target, const Tensor& prediction) {
  const auto [t, p] = to_roll_pair("chroma_similarity", target, prediction);
  return chroma_similarity_of(t, p);
}

const char* ssmd_variant_name(SsmdVariant variant) {
  switch (variant) {
    case SsmdVariant::kPaper: return "paper";
    case SsmdVariant::kStripeCode: return "stripe-code";
    case SsmdVariant::kStripeCodeHalved: return "stripe-code-x50";
  }
  return "?";
}

double self_similarity_matrix_distance(const Tensor& target, const Tensor& prediction, SsmdVariant variant) {
  const auto [t, p] = to_roll_pair("self_similarity_matrix_distance", target, prediction);
  return ssmd_of(t, p, variant);
}

double grooving_similarity(const Tensor& target, const Tensor& prediction) {
  const auto [t, p] = to_roll_pair("grooving_similarity", target, prediction);
  return grooving_similarity_of(t, p);
}

const char* ndd_normalization_name(NddNormalization normalization) {
  switch (normalization) {
    case NddNormalization::kPerSixteenth: return "per-16th";
    case NddNormalization::kPooled: return "pooled";
    case NddNormalization::kStripeCode: return "stripe-code";
  }
  return "?";
}

double note_density_distance(const Tensor& target, const Tensor& prediction, NddNormalization normalization) {
  const auto [t, p] = to_roll_pair("note_density_distance", target, prediction);
  return note_density_distance_of(t, p, normalization);
}

// ---- all four ----------------------------------------------------------------------------------------

const char* metric_name(Metric metric) {
  switch (metric) {
    case Metric::kChromaSimilarity: return "CS";
    case Metric::kSelfSimilarityMatrixDistance: return "SSMD";
    case Metric::kGroovingSimilarity: return "GS";
    case Metric::kNoteDensityDistance: return "NDD";
  }
  return "?";
}

bool higher_is_better(Metric metric) {
  return metric == Metric::kChromaSimilarity || metric == Metric::kGroovingSimilarity;
}

double MetricScores::get(Metric metric) const {
  switch (metric) {
    case Metric::kChromaSimilarity: return chroma_similarity;
    case Metric::kSelfSimilarityMatrixDistance: return self_similarity_matrix_distance;
    case Metric::kGroovingSimilarity: return grooving_similarity;
    case Metric::kNoteDensityDistance: return note_density_distance;
  }
  return 0.0;
}

MetricScores score_piece(const Tensor& target, const Tensor& prediction, const ScoringOptions& options) {
  const auto [t, p] = to_roll_pair("score_piece", target, prediction);
  return score_rolls(t, p, options);
}

MetricScores score_pieces(const std::vector<Tensor>& targets, const std::vector<Tensor>& predictions,
                          const ScoringOptions& options) {
  STRIPES_CHECK(!targets.empty() && targets.size() == predictions.size(),
                "score_pieces: expected as many predictions as targets (and at least one), got {} targets and {} "
                "predictions",
                targets.size(), predictions.size());
  std::vector<MetricScores> scores(targets.size());
  std::mutex error_mutex;
  std::exception_ptr first_error;
  // One piece per iteration: each is thousands of cells, enough to pay for a thread.
  parallel_for(int64_t(targets.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      try {
        scores[size_t(i)] = score_piece(targets[size_t(i)], predictions[size_t(i)], options);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
      }
    }
  });
  if (first_error) std::rethrow_exception(first_error);
  return mean_scores(scores);
}

MetricScores mean_scores(const std::vector<MetricScores>& scores) {
  STRIPES_CHECK(!scores.empty(), "mean_scores: no scores to average");
  MetricScores mean;
  for (const MetricScores& s : scores) {
    mean.chroma_similarity += s.chroma_similarity;
    mean.self_similarity_matrix_distance += s.self_similarity_matrix_distance;
    mean.grooving_similarity += s.grooving_similarity;
    mean.note_density_distance += s.note_density_distance;
  }
  const double n = double(scores.size());
  mean.chroma_similarity /= n;
  mean.self_similarity_matrix_distance /= n;
  mean.grooving_similarity /= n;
  mean.note_density_distance /= n;
  return mean;
}

std::string format_scores(const MetricScores& scores) {
  return fmt::format("CS {:.2f}  SSMD {:.2f}  GS {:.2f}  NDD {:.2f}", scores.chroma_similarity,
                     scores.self_similarity_matrix_distance, scores.grooving_similarity, scores.note_density_distance);
}

}  // namespace stripes::metrics
