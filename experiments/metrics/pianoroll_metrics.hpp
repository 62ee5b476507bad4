// The four evaluation metrics of "Of All StrIPEs" (method.md §4.6, paper §IV-F) on binary
// pianorolls, and the pianoroll features they are built from. docs/metrics.md gives every formula,
// the paper's sentence each one implements, and every choice where the paper is silent.
//
// Shapes and units (method.md §4.1):
//   pianoroll  [T, P]  one piece (a test window): T ticks at 16 ticks per quarter note, P = 128 · K
//                      pitch rows for K tracks, row = track · 128 + MIDI pitch (the model's output
//                      has K = 3: melody, bridge, piano). uint8 0/1, or float32/float64 holding
//                      only 0 and 1 (the dataset's targets); anything else is refused.
//   half-measure = 32 ticks (CS, SSMD), quarter note = 16 ticks (GS), 16th note = 4 ticks (NDD).
//   When T is not a multiple of a unit, the last unit is partial: it holds the ticks that exist,
//   exactly as if the piece were padded with silence to the next multiple.
//
// Every metric takes (target, prediction) of the same shape and returns one number for the piece;
// a test set's score is the mean over its pieces (score_pieces). Shapes that differ, a P that is
// not a multiple of 128, or a non-binary value throw stripes::Error naming the metric and both
// shapes.
#pragma once

#include "tensor/tensor.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace stripes::metrics {

inline constexpr int64_t kPitchesPerTrack = 128;
inline constexpr int64_t kPitchClasses = 12;
inline constexpr int64_t kTicksPerQuarter = 16;                      // muspy resolution
inline constexpr int64_t kTicksPerSixteenth = kTicksPerQuarter / 4;  // NDD unit
inline constexpr int64_t kTicksPerHalfMeasure = 2 * kTicksPerQuarter;  // CS / SSMD unit (4/4)
inline constexpr int64_t kStripeCodeSsmTicks = 2;  // StrIPE code's SSM unit ("half beat" = 2 ticks)
// eps of the cosine similarities: CS uses torch.nn.CosineSimilarity(eps=1e-6) (paper and StrIPE
// code). cos(x, y) = x·y / max(‖x‖‖y‖, eps), so a zero vector has similarity 0 with everything.
inline constexpr double kCosineEps = 1e-6;

// ---- pianoroll features ----------------------------------------------------------------------------

// onsets: onset[t, p] = max(0, x[t, p] − x[t−1, p]) with x[−1, p] = 0 (a 0→1 transition).
//   pianoroll [T, P] binary -> uint8 [T, P]
Tensor onsets(const Tensor& pianoroll);

// The rows of tracks `tracks` (0 = melody, 1 = bridge, 2 = piano), concatenated in that order.
//   pianoroll [T, K·128] -> [T, tracks.size()·128], same dtype. Tracks must be distinct and < K.
Tensor select_tracks(const Tensor& pianoroll, const std::vector<int64_t>& tracks);

// Chroma-onset vectors (CS, SSMD): per unit u of `ticks_per_unit` ticks and per track k,
//   v[u, 12·k + c] = Σ_{t ∈ unit u} Σ_{pitch ≡ c (mod 12)} onset[t, 128·k + pitch]
// (per-track 12-dim onset counts, tracks concatenated, as the StrIPE code's 3×12).
//   pianoroll [T, K·128] -> float64 [ceil(T / ticks_per_unit), 12·K]
Tensor chroma_onset_vectors(const Tensor& pianoroll, int64_t ticks_per_unit = kTicksPerHalfMeasure);

// Chroma counts of active cells, tracks summed (the StrIPE code's SSM input):
//   v[u, c] = Σ_{t ∈ unit u} Σ_k Σ_{pitch ≡ c (mod 12)} x[t, 128·k + pitch]
//   pianoroll [T, K·128] -> float64 [ceil(T / ticks_per_unit), 12]
Tensor chroma_count_vectors(const Tensor& pianoroll, int64_t ticks_per_unit = kStripeCodeSsmTicks);

// Self-similarity matrix of row vectors: S[i, j] = v_i·v_j / max(‖v_i‖‖v_j‖, eps).
// A zero row has similarity 0 with every row, itself included.
//   vectors float64 [U, D] -> float64 [U, U]
Tensor self_similarity_matrix(const Tensor& vectors, double eps = kCosineEps);

// Grooving pattern (GS): g[u] = 1 if any pitch row has an onset in unit u (a quarter note), else 0.
//   pianoroll [T, P] -> uint8 [ceil(T / ticks_per_unit)]
Tensor grooving_pattern(const Tensor& pianoroll, int64_t ticks_per_unit = kTicksPerQuarter);

// Note density (NDD): n[s] = number of active cells in 16th note s = Σ_{t ∈ 16th s} Σ_p x[t, p]
// (the StrIPE code's count: a pitch held through the whole 16th counts 4, once per tick).
//   pianoroll [T, P] -> float64 [ceil(T / 4)]
Tensor note_density(const Tensor& pianoroll, int64_t ticks_per_unit = kTicksPerSixteenth);

// ---- the four metrics --------------------------------------------------------------------------------

// CS, chroma similarity (↑, −100…100):
//   CS = 100 · mean_u cos(v_tgt[u], v_pred[u]),  v = chroma_onset_vectors (half-measures, 12·K)
//   cos = x·y / max(‖x‖‖y‖, 1e-6): a half-measure without onsets in the target or the prediction
//   (or in both) scores 0. Hence: empty prediction → 0, empty target → 0, both empty → 0.
double chroma_similarity(const Tensor& target, const Tensor& prediction);

enum class SsmdVariant {
  kPaper,              // chroma-onset vectors per half-measure (12·K), mean |ΔSSM| · 50 ([0,2] → [0,100])
  kStripeCode,         // chroma counts of active cells per 2 ticks (12, tracks summed), mean |ΔSSM| · 100
  kStripeCodeHalved,   // kStripeCode's vectors with the paper's · 50: on the piano track, the variant whose
                       // silent-prediction value matches the paper's near-silent models (docs/metrics.md)
};
const char* ssmd_variant_name(SsmdVariant variant);  // "paper", "stripe-code", "stripe-code-x50"

// SSMD, self-similarity matrix distance (↓, 0…100 for kPaper):
//   SSMD = 50 · mean_{i,j} |S_tgt[i, j] − S_pred[i, j]|,  S = self_similarity_matrix(v)
//   over all U×U entries (diagonal included). Empty prediction → 50 · mean |S_tgt|;
//   both empty → 0. kStripeCode, kStripeCodeHalved: the StrIPE code's vectors (see SsmdVariant).
double self_similarity_matrix_distance(const Tensor& target, const Tensor& prediction,
                                       SsmdVariant variant = SsmdVariant::kPaper);

// GS, grooving similarity (↑, 0…100):
//   GS = 100 · (1 − mean_u XOR(g_tgt[u], g_pred[u])),  g = grooving_pattern (quarter notes)
//   = percentage of quarter notes whose "has an onset" agrees. Both empty → 100.
double grooving_similarity(const Tensor& target, const Tensor& prediction);

enum class NddNormalization {
  kPerSixteenth,  // 100 · mean over 16ths with n_tgt > 0 of max(0, n_tgt − n_pred) / n_tgt (default)
  kPooled,        // 100 · Σ_s max(0, n_tgt − n_pred) / Σ_s n_tgt
  kStripeCode,    // mean over all 16ths of |n_pred − n_tgt| (StrIPE code; un-normalized, not 0-100)
};
const char* ndd_normalization_name(NddNormalization normalization);  // "per-16th", "pooled", "stripe-code"

// NDD, note density distance (↓, 0…100): average percentage of the target's active pitches that are
// missing in the prediction, per 16th note, the target count being the maximum:
//   NDD = 100 · mean_{s : n_tgt[s] > 0} (n_tgt[s] − min(n_pred[s], n_tgt[s])) / n_tgt[s]
//   n = note_density (16ths). 16ths where the target is silent are skipped (extra predicted notes
//   there are not penalized); a target with no active cell at all → 0 (nothing can be missing).
//   Empty prediction (target not empty) → 100.
double note_density_distance(const Tensor& target, const Tensor& prediction,
                             NddNormalization normalization = NddNormalization::kPerSixteenth);

// ---- all four at once ----------------------------------------------------------------------------------

enum class Metric { kChromaSimilarity, kSelfSimilarityMatrixDistance, kGroovingSimilarity, kNoteDensityDistance };
inline constexpr Metric kAllMetrics[] = {Metric::kChromaSimilarity, Metric::kSelfSimilarityMatrixDistance,
                                         Metric::kGroovingSimilarity, Metric::kNoteDensityDistance};
const char* metric_name(Metric metric);        // "CS", "SSMD", "GS", "NDD"
bool higher_is_better(Metric metric);          // CS, GS ↑; SSMD, NDD ↓

struct MetricScores {
  double chroma_similarity = 0.0;
  double self_similarity_matrix_distance = 0.0;
  double grooving_similarity = 0.0;
  double note_density_distance = 0.0;
  double get(Metric metric) const;
};

inline constexpr int64_t kMelodyTrack = 0, kBridgeTrack = 1, kPianoTrack = 2;

struct ScoringOptions {
  // Tracks scored (0 = melody, 1 = bridge, 2 = piano); empty = every track of the pianoroll (the
  // default: the model outputs all three). Method.md §6 item 7 leaves this open.
  std::vector<int64_t> scored_tracks;
  SsmdVariant ssmd_variant = SsmdVariant::kPaper;
  NddNormalization ndd_normalization = NddNormalization::kPerSixteenth;
};

// The four metrics of one piece.   target, prediction [T, K·128]
MetricScores score_piece(const Tensor& target, const Tensor& prediction, const ScoringOptions& options = {});

// Mean over pieces of score_piece (each piece weighs the same, whatever its length). Pieces are
// scored in parallel. targets[i] and predictions[i] are one piece; the lists must have equal,
// non-zero length.
MetricScores score_pieces(const std::vector<Tensor>& targets, const std::vector<Tensor>& predictions,
                          const ScoringOptions& options = {});

MetricScores mean_scores(const std::vector<MetricScores>& scores);  // element-wise mean; non-empty

// "CS 22.14  SSMD 13.98  GS 26.45  NDD 79.25"
std::string format_scores(const MetricScores& scores);

}  // namespace stripes::metrics
