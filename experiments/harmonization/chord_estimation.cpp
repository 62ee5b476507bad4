// Chord and key estimation from notes; the method is in chord_estimation.hpp.
#include "experiments/harmonization/chord_estimation.hpp"

#include "tensor/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <tuple>

namespace stripes::harmonization {

namespace {

constexpr int kPitchClasses = 12;
constexpr int kTicksPerBeat = data::kGridTicksPerQuarter;  // chords are decided per quarter note

// Krumhansl & Kessler (1982) probe-tone ratings, tonic first.
constexpr std::array<double, 12> kMajorProfile = {6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88};
constexpr std::array<double, 12> kMinorProfile = {6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17};

// Names as POP909's analyzed_key.txt spells its keys, and chord roots.
constexpr std::array<const char*, 12> kMajorKeyTonics = {"C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B"};
constexpr std::array<const char*, 12> kMinorKeyTonics = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"};
constexpr std::array<const char*, 12> kRootNames = {"C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"};

struct ChordQuality {
  const char* name;
  std::vector<int> intervals;  // pitch classes above the root, 0 first
};

const std::vector<ChordQuality>& chord_qualities() {
  static const std::vector<ChordQuality> qualities = {
      {"maj", {0, 4, 7}},          {"min", {0, 3, 7}},         {"dim", {0, 3, 6}},         {"aug", {0, 4, 8}},
      {"sus2", {0, 2, 7}},         {"sus4", {0, 5, 7}},        {"7", {0, 4, 7, 10}},       {"maj7", {0, 4, 7, 11}},
      {"min7", {0, 3, 7, 10}},     {"minmaj7", {0, 3, 7, 11}}, {"hdim7", {0, 3, 6, 10}},   {"dim7", {0, 3, 6, 9}},
      {"maj6", {0, 4, 7, 9}},      {"min6", {0, 3, 7, 9}},     {"9", {0, 2, 4, 7, 10}},    {"min9", {0, 2, 3, 7, 10}},
  };
  return qualities;
}

// The intervals above the root of a chord vector (sorted), or empty for no chord.
std::vector<int> intervals_above_root(const data::ChordVector& chord) {
  std::vector<int> intervals;
  if (chord.root_plus_one == 0) return intervals;
  const int root = chord.root_plus_one - 1;
  for (int pc = 0; pc < kPitchClasses; ++pc) {
    if (chord.pitch_classes[size_t(pc)] != 0) intervals.push_back((pc - root + kPitchClasses) % kPitchClasses);
  }
  std::sort(intervals.begin(), intervals.end());
  return intervals;
}

int pitch_class_count(const data::ChordVector& chord) {
  return int(std::count_if(chord.pitch_classes.begin(), chord.pitch_classes.end(), [](uint8_t b) { return b != 0; }));
}

double pearson_correlation(const std::array<double, 12>& x, const std::array<double, 12>& y) {
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / kPitchClasses;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / kPitchClasses;
  double xy = 0, xx = 0, yy = 0;
  for (int i = 0; i < kPitchClasses; ++i) {
    xy += (x[size_t(i)] - mean_x) * (y[size_t(i)] - mean_y);
    xx += (x[size_t(i)] - mean_x) * (x[size_t(i)] - mean_x);
    yy += (y[size_t(i)] - mean_y) * (y[size_t(i)] - mean_y);
  }
  return xx > 0 && yy > 0 ? xy / std::sqrt(xx * yy) : 0.0;
}

// e(c) of the header comment for a segment with histogram h (Σh > 0).
double emission(const PitchClassHistogram& h, const data::ChordVector& chord, const std::array<bool, 12>& scale,
                const ChordEstimationOptions& options) {
  double total = 0, norm_h = 0, dot = 0;
  bool diatonic = true;
  for (int pc = 0; pc < kPitchClasses; ++pc) {
    total += h[size_t(pc)];
    norm_h += h[size_t(pc)] * h[size_t(pc)];
    if (chord.pitch_classes[size_t(pc)] != 0) {
      dot += h[size_t(pc)];
      diatonic = diatonic && scale[size_t(pc)];
    }
  }
  const double cosine = dot / (std::sqrt(norm_h) * std::sqrt(double(pitch_class_count(chord))));
  const double root_share = h[size_t(chord.root_plus_one - 1)] / total;
  return cosine + options.root_weight * root_share + (diatonic ? options.diatonic_bonus : 0.0);
}

// Viterbi over the sounding segments: emissions[s][k] for candidate k; returns the candidate index
// of each segment. Staying on a chord wins ties against changing, and ties of the final state go
// to the first candidate, so the result is deterministic.
std::vector<size_t> best_chord_path(const std::vector<std::vector<double>>& emissions, double change_penalty) {
  const size_t segments = emissions.size();
  if (segments == 0) return {};
  const size_t candidates = emissions[0].size();
  std::vector<double> score = emissions[0];
  std::vector<std::vector<size_t>> came_from(segments, std::vector<size_t>(candidates));
  for (size_t s = 1; s < segments; ++s) {
    const size_t best_previous = size_t(std::max_element(score.begin(), score.end()) - score.begin());
    std::vector<double> next(candidates);
    for (size_t k = 0; k < candidates; ++k) {
      const double stay = score[k];
      const double change = score[best_previous] - change_penalty;
      came_from[s][k] = change > stay ? best_previous : k;
      next[k] = emissions[s][k] + std::max(stay, change);
    }
    score = std::move(next);
  }
  std::vector<size_t> path(segments);
  path.back() = size_t(std::max_element(score.begin(), score.end()) - score.begin());
  for (size_t s = segments - 1; s > 0; --s) path[s - 1] = came_from[s][path[s]];
  return path;
}

}  // namespace

PitchClassHistogram pitch_class_histogram(std::span<const data::GridNote> notes, int64_t begin, int64_t end) {
  PitchClassHistogram histogram{};
  for (const data::GridNote& note : notes) {
    const int64_t overlap = std::min(note.end, end) - std::max(note.start, begin);
    if (overlap > 0) histogram[size_t(note.pitch % kPitchClasses)] += double(overlap);
  }
  return histogram;
}

// ---- keys -------------------------------------------------------------------------------------------

data::Key make_key(int tonic, bool is_minor) {
  STRIPES_CHECK(tonic >= 0 && tonic < kPitchClasses, "key: tonic {} outside 0..11", tonic);
  data::Key key;
  key.tonic = tonic;
  key.is_minor = is_minor;
  key.name = fmt::format("{}:{}", is_minor ? kMinorKeyTonics[size_t(tonic)] : kMajorKeyTonics[size_t(tonic)],
                         is_minor ? "min" : "maj");
  return key;
}

data::Key parse_key_option(const std::string& text) {
  try {
    return data::parse_key_name(text, "--key", 1);
  } catch (const Error&) {
    throw_error("--key: expected 'auto' or a key such as C:maj, A:min, Bb:maj, F#:min (tonic A-G with an optional "
                "# or b, then :maj or :min), found '{}'",
                text);
  }
}

KeyEstimate estimate_key(const PitchClassHistogram& histogram) {
  STRIPES_CHECK(std::accumulate(histogram.begin(), histogram.end(), 0.0) > 0,
                "key estimation: no notes (the pitch-class histogram is all zero)");
  KeyEstimate best;
  best.correlation = -std::numeric_limits<double>::infinity();
  for (bool minor : {false, true}) {
    const std::array<double, 12>& profile = minor ? kMinorProfile : kMajorProfile;
    for (int tonic = 0; tonic < kPitchClasses; ++tonic) {
      std::array<double, 12> rotated{};  // the profile of the key with this tonic, indexed by pitch class
      for (int pc = 0; pc < kPitchClasses; ++pc) rotated[size_t(pc)] = profile[size_t((pc - tonic + 12) % 12)];
      const double r = pearson_correlation(histogram, rotated);
      if (r > best.correlation) {
        best.correlation = r;
        best.key = make_key(tonic, minor);
      }
    }
  }
  return best;
}

std::array<bool, 12> key_scale(const data::Key& key) {
  static constexpr std::array<int, 7> kMajorScale = {0, 2, 4, 5, 7, 9, 11};
  static constexpr std::array<int, 8> kMinorScale = {0, 2, 3, 5, 7, 8, 10, 11};  // natural minor + leading tone
  std::array<bool, 12> scale{};
  const auto add = [&](int interval) { scale[size_t((key.tonic + interval) % kPitchClasses)] = true; };
  if (key.is_minor) {
    for (int interval : kMinorScale) add(interval);
  } else {
    for (int interval : kMajorScale) add(interval);
  }
  return scale;
}

// ---- chords -----------------------------------------------------------------------------------------

std::string chord_name(const data::ChordVector& chord) {
  if (chord.root_plus_one == 0) return "N";
  const std::vector<int> intervals = intervals_above_root(chord);
  const char* root = kRootNames[size_t(chord.root_plus_one - 1)];
  for (const ChordQuality& quality : chord_qualities()) {
    if (quality.intervals == intervals) return fmt::format("{}:{}", root, quality.name);
  }
  return fmt::format("{}:({})", root, fmt::join(intervals, ","));
}

std::vector<int> chord_quality_intervals(const std::string& quality) {
  std::vector<std::string> names;
  for (const ChordQuality& known : chord_qualities()) {
    if (quality == known.name) return known.intervals;
    names.push_back(known.name);
  }
  throw_error("chord quality '{}' unknown; known: {}", quality, fmt::join(names, ", "));
}

std::vector<int> chord_candidates(const data::ChordDatabase& chords, const std::vector<std::string>& qualities) {
  std::vector<std::vector<int>> wanted;
  for (const std::string& quality : qualities) wanted.push_back(chord_quality_intervals(quality));
  std::vector<int> ids;
  for (int id = 0; id < chords.size(); ++id) {
    const std::vector<int> intervals = intervals_above_root(chords.chord(id));
    if (!intervals.empty() && intervals.front() == 0 &&
        std::find(wanted.begin(), wanted.end(), intervals) != wanted.end()) {
      ids.push_back(id);
    }
  }
  return ids;
}

std::vector<int32_t> estimate_chords_from_melody(std::span<const data::GridNote> notes, int64_t num_ticks,
                                                 const data::Key& key, const data::ChordDatabase& chords,
                                                 const ChordEstimationOptions& options) {
  STRIPES_CHECK(options.beats_per_segment >= 1, "chord estimation: beats_per_segment must be >= 1, got {}",
                options.beats_per_segment);
  STRIPES_CHECK(num_ticks >= 0, "chord estimation: negative length {}", num_ticks);
  const std::vector<int> candidates = chord_candidates(chords, options.qualities);
  STRIPES_CHECK(!candidates.empty(), "chord estimation: the chord database has no chord of the qualities {}",
                fmt::join(options.qualities, ", "));
  const std::array<bool, 12> scale = key_scale(key);
  const int64_t segment_ticks = int64_t(options.beats_per_segment) * kTicksPerBeat;
  const int64_t segments = (num_ticks + segment_ticks - 1) / segment_ticks;

  // Emissions of the sounding segments.
  std::vector<int64_t> sounding;
  std::vector<std::vector<double>> emissions;
  for (int64_t s = 0; s < segments; ++s) {
    const PitchClassHistogram h =
        pitch_class_histogram(notes, s * segment_ticks, std::min(num_ticks, (s + 1) * segment_ticks));
    if (std::accumulate(h.begin(), h.end(), 0.0) <= 0) continue;
    std::vector<double> e(candidates.size());
    for (size_t k = 0; k < candidates.size(); ++k) e[k] = emission(h, chords.chord(candidates[k]), scale, options);
    sounding.push_back(s);
    emissions.push_back(std::move(e));
  }
  const std::vector<size_t> path = best_chord_path(emissions, options.change_penalty);

  // Per tick: each sounding segment's chord, held through the silent segments after it.
  std::vector<int32_t> per_tick(size_t(num_ticks), int32_t(chords.no_chord_id()));
  for (size_t i = 0; i < sounding.size(); ++i) {
    const int64_t begin = sounding[i] * segment_ticks;
    const int64_t end = i + 1 < sounding.size() ? sounding[i + 1] * segment_ticks : num_ticks;
    std::fill(per_tick.begin() + begin, per_tick.begin() + end, int32_t(candidates[path[i]]));
  }
  return per_tick;
}

std::vector<int32_t> chords_from_track(std::span<const data::GridNote> chord_notes, int64_t num_ticks,
                                       const data::ChordDatabase& chords) {
  STRIPES_CHECK(num_ticks >= 0, "chord track: negative length {}", num_ticks);
  STRIPES_CHECK(chords.size() > 1, "chord track: the chord database holds no chord besides 'no chord'");
  const int no_chord = chords.no_chord_id();
  std::vector<int32_t> per_tick(static_cast<size_t>(num_ticks), static_cast<int32_t>(no_chord));
  int current = no_chord;
  for (int64_t begin = 0; begin < num_ticks; begin += kTicksPerBeat) {
    const int64_t end = std::min(num_ticks, begin + kTicksPerBeat);
    const PitchClassHistogram h = pitch_class_histogram(chord_notes, begin, end);
    int bass_pitch = std::numeric_limits<int>::max();
    for (const data::GridNote& note : chord_notes) {
      if (std::min(note.end, end) > std::max(note.start, begin)) bass_pitch = std::min(bass_pitch, note.pitch);
    }
    if (bass_pitch != std::numeric_limits<int>::max()) {
      // Nearest chord: (Hamming distance, root is not the bass, pitch-class count, id), smallest first.
      const int bass = bass_pitch % kPitchClasses;
      std::tuple<int, int, int, int> best{std::numeric_limits<int>::max(), 0, 0, 0};
      for (int id = 0; id < chords.size(); ++id) {
        if (id == no_chord) continue;
        const data::ChordVector& chord = chords.chord(id);
        int distance = 0;
        for (int pc = 0; pc < kPitchClasses; ++pc) distance += (chord.pitch_classes[size_t(pc)] != 0) != (h[size_t(pc)] > 0);
        const std::tuple<int, int, int, int> rank{distance, chord.root_plus_one - 1 == bass ? 0 : 1,
                                                  pitch_class_count(chord), id};
        best = std::min(best, rank);
      }
      current = std::get<3>(best);
    }
    std::fill(per_tick.begin() + begin, per_tick.begin() + end, int32_t(current));
  }
  return per_tick;
}

int64_t chord_changes(std::span<const int32_t> chord_ids) {
  int64_t changes = 0;
  for (size_t t = 1; t < chord_ids.size(); ++t) changes += chord_ids[t] != chord_ids[t - 1];
  return changes;
}

}  // namespace stripes::harmonization
