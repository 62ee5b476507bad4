// Content-context mutual information; the recipe is in mutual_information.hpp.
#include "data/mutual_information.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <limits>

#include "tensor/error.hpp"

namespace stripes::data {

// ---- JointCounts --------------------------------------------------------------------------------

JointCounts::JointCounts(int x_count) : x_count_(x_count) {
  STRIPES_CHECK(x_count > 0, "JointCounts: x_count must be positive, got {}", x_count);
}

void JointCounts::add(int x, int y, int64_t count) {
  STRIPES_CHECK(x >= 0 && x < x_count_ && y >= 0 && count >= 0,
                "JointCounts: (x = {}, y = {}, count = {}) outside x in [0, {}), y >= 0, count >= 0", x, y, count,
                x_count_);
  const size_t index = static_cast<size_t>(y) * static_cast<size_t>(x_count_) + static_cast<size_t>(x);
  if (index >= counts_.size()) counts_.resize((static_cast<size_t>(y) + 1) * static_cast<size_t>(x_count_), 0);
  counts_[index] += count;
  total_ += count;
}

void JointCounts::merge(const JointCounts& other) {
  STRIPES_CHECK(other.x_count_ == x_count_, "JointCounts: cannot merge tables with {} and {} x values", x_count_,
                other.x_count_);
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

int64_t JointCounts::count(int x, int y) const {
  const size_t index = static_cast<size_t>(y) * static_cast<size_t>(x_count_) + static_cast<size_t>(x);
  return x < 0 || x >= x_count_ || y < 0 || index >= counts_.size() ? 0 : counts_[index];
}

int JointCounts::y_count() const { return static_cast<int>(counts_.size() / static_cast<size_t>(x_count_)); }

int JointCounts::x_support() const {
  int support = 0;
  for (int x = 0; x < x_count_; ++x) {
    for (int y = 0; y < y_count(); ++y) {
      if (count(x, y) != 0) {
        ++support;
        break;
      }
    }
  }
  return support;
}

int JointCounts::y_support() const {
  int support = 0;
  for (int y = 0; y < y_count(); ++y) {
    for (int x = 0; x < x_count_; ++x) {
      if (count(x, y) != 0) {
        ++support;
        break;
      }
    }
  }
  return support;
}

double JointCounts::mutual_information() const {
  if (total_ == 0) return 0.0;
  const int ys = y_count();
  std::vector<double> x_marginal(static_cast<size_t>(x_count_), 0.0);
  std::vector<double> y_marginal(static_cast<size_t>(ys), 0.0);
  for (int y = 0; y < ys; ++y) {
    for (int x = 0; x < x_count_; ++x) {
      const auto n = static_cast<double>(count(x, y));
      x_marginal[static_cast<size_t>(x)] += n;
      y_marginal[static_cast<size_t>(y)] += n;
    }
  }
  const auto total = static_cast<double>(total_);
  double sum = 0.0;  // sum n_xy ln(n_xy N / (n_x n_y)), divided by N at the end
  for (int y = 0; y < ys; ++y) {
    for (int x = 0; x < x_count_; ++x) {
      const auto n = static_cast<double>(count(x, y));
      if (n == 0.0) continue;
      sum += n * std::log(n * total / (x_marginal[static_cast<size_t>(x)] * y_marginal[static_cast<size_t>(y)]));
    }
  }
  return std::max(0.0, sum / total);
}

double JointCounts::plug_in_bias() const {
  if (total_ == 0) return 0.0;
  return static_cast<double>(x_support() - 1) * static_cast<double>(y_support() - 1) / (2.0 * static_cast<double>(total_));
}

// ---- track sets ---------------------------------------------------------------------------------

unsigned parse_track_set(const std::string& names) {
  unsigned tracks = 0;
  size_t begin = 0;
  while (true) {
    const size_t comma = names.find_first_of(",+", begin);
    std::string part = names.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    for (char& c : part) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    part.erase(0, part.find_first_not_of(' '));
    part.erase(part.find_last_not_of(' ') + 1);
    if (part == "all") tracks |= kAllTracks;
    else if (part == "melody") tracks |= kMelodyTrackBit;
    else if (part == "bridge") tracks |= kBridgeTrackBit;
    else if (part == "piano" || part == "accompaniment") tracks |= kPianoTrackBit;
    else if (part == "input") tracks |= kMelodyTrackBit | kBridgeTrackBit;
    else {
      throw_error("unknown content '{}'; expected all, melody, bridge, piano, input (melody + bridge) or a comma list",
                  part);
    }
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return tracks;
}

std::string track_set_name(unsigned tracks) {
  std::string name;
  const char* names[kTrackCount] = {"melody", "bridge", "piano"};
  for (int track = 0; track < kTrackCount; ++track) {
    if (tracks & (1u << track)) name += (name.empty() ? "" : "+") + std::string(names[track]);
  }
  return name.empty() ? "none" : name;
}

// ---- the recipe ---------------------------------------------------------------------------------

MutualInformationReport content_context_mutual_information(std::span<const Pop909Song> songs,
                                                           const ContextEncoder& encoder,
                                                           const MutualInformationOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  MutualInformationReport report;
  report.options = options;
  report.overlap = options.overlap < 0 ? default_window_overlap(options.sequence_length) : options.overlap;
  STRIPES_CHECK((options.tracks & kAllTracks) != 0, "mutual information: no content track chosen");
  for (ContextType type : options.contexts) {
    STRIPES_CHECK(type != ContextType::kMcp, "mutual information: {} has no single symbol per tick; choose among "
                  "TIME, REP, KEY, BIN", context_name(type));
  }
  const int64_t window_ticks = static_cast<int64_t>(options.sequence_length) + 1;

  std::vector<const Pop909Song*> used;
  for (const Pop909Song& song : songs) {
    if (!options.split.has_value() || song.split == *options.split) used.push_back(&song);
  }
  report.songs = static_cast<int>(used.size());

  const size_t context_count = options.contexts.size();
  std::vector<JointCounts> totals(context_count, JointCounts(kPitchCount));
  int64_t windows = 0;

  std::vector<std::string> errors(used.size());  // no exception may leave the parallel region
#pragma omp parallel
  {
    std::vector<JointCounts> counts(context_count, JointCounts(kPitchCount));
    int64_t thread_windows = 0;
#pragma omp for schedule(dynamic, 4) nowait
    for (size_t i = 0; i < used.size(); ++i) {
      try {
        const Pop909Song& song = *used[i];
        std::vector<SoundingRun> runs = sounding_runs(song);
        runs.erase(std::remove_if(runs.begin(), runs.end(),
                                  [&](const SoundingRun& run) { return (options.tracks & (1u << run.track)) == 0; }),
                   runs.end());
        for (const int64_t start : window_starts(song.num_ticks, options.sequence_length, report.overlap)) {
          ++thread_windows;
          const int64_t end = start + window_ticks;
          ContextSpan span;
          span.chord_ids = std::span<const int32_t>(song.chord_ids.data() + start, static_cast<size_t>(window_ticks));
          span.key = song.key;
          for (size_t c = 0; c < context_count; ++c) {
            const std::vector<int32_t> symbol = encoder.symbols(options.contexts[c], span);
            JointCounts& table = counts[c];
            for (const SoundingRun& run : runs) {
              const int64_t from = std::max(run.start, start);
              const int64_t to = std::min(run.end, end);
              for (int64_t tick = from; tick < to; ++tick) table.add(run.pitch, symbol[static_cast<size_t>(tick - start)]);
            }
          }
        }
      } catch (const std::exception& error) {
        errors[i] = fmt::format("song {}: {}", used[i]->song_id, error.what());
      }
    }
#pragma omp critical
    {
      for (size_t c = 0; c < context_count; ++c) totals[c].merge(counts[c]);
      windows += thread_windows;
    }
  }

  for (const std::string& error : errors) {
    if (!error.empty()) throw_error("mutual information: {}", error);
  }
  report.windows = windows;
  for (size_t c = 0; c < context_count; ++c) {
    MutualInformationResult result;
    result.context = options.contexts[c];
    result.nats = totals[c].mutual_information();
    result.plug_in_bias = totals[c].plug_in_bias();
    result.pairs = totals[c].total();
    result.context_symbols = totals[c].y_support();
    result.content_symbols = totals[c].x_support();
    report.results.push_back(result);
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

double paper_mutual_information(ContextType context) {
  switch (context) {
    case ContextType::kTime: return 0.0085;
    case ContextType::kRep: return 0.0436;
    case ContextType::kKey: return 0.0476;
    case ContextType::kBin: return 1.0075;
    default: return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace stripes::data
