#include "nn/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace stripes::nn {

ProgressBar::ProgressBar(std::string label, int64_t first, int64_t total, std::FILE* stream, int64_t line_every)
    : label_(std::move(label)),
      first_(first),
      total_(std::max(total, first)),
      stream_(stream),
      terminal_(stream != nullptr && ::isatty(::fileno(stream)) == 1),
      line_every_(line_every > 0 ? line_every : std::max<int64_t>(1, (total - first) / 10)),
      done_(first),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double ProgressBar::steps_per_second() const {
  const double elapsed = elapsed_seconds();
  return elapsed > 0 ? double(done_ - first_) / elapsed : 0.0;
}

static std::string format_duration(double seconds) {
  if (!std::isfinite(seconds)) return "?";
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  if (seconds < 3600) return fmt::format("{}m{:02}s", int(seconds) / 60, int(seconds) % 60);
  return fmt::format("{}h{:02}m", int(seconds) / 3600, (int(seconds) % 3600) / 60);
}

std::string ProgressBar::line(int64_t done, double loss, double tokens) const {
  constexpr int kWidth = 24;
  // The bar fills with the share of the whole run done (a resumed run starts part-filled); the
  // rate and the ETA count only the steps of this bar.
  const double fraction = std::clamp(double(done) / double(std::max<int64_t>(1, total_)), 0.0, 1.0);
  const int filled = int(std::lround(fraction * kWidth));
  const double elapsed = elapsed_seconds();
  const double rate = elapsed > 0 ? double(done - first_) / elapsed : 0.0;
  const double eta = rate > 0 ? double(total_ - done) / rate : NAN;
  const std::string token_rate = tokens > 0 && elapsed > 0 ? fmt::format("  {:.0f} tokens/s", tokens / elapsed) : "";
  return fmt::format("{} [{}{}] {:>{}}/{}  loss {:.4f}  {:.1f} steps/s{}  ETA {}", label_, std::string(size_t(filled), '#'),
                     std::string(size_t(kWidth - filled), '-'), done, int(std::to_string(total_).size()), total_, loss,
                     rate, token_rate, done >= total_ ? "0.0s" : format_duration(eta));
}

void ProgressBar::update(int64_t done, double loss, double tokens) {
  done_ = done;
  loss_ = loss;
  tokens_ = tokens;
  if (stream_ == nullptr) return;
  if (terminal_) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    fmt::print(stream_, "\r{}\033[K", line(done, loss, tokens));
    std::fflush(stream_);
  } else if ((done - first_) % line_every_ == 0 && done < total_) {
    fmt::print(stream_, "{}\n", line(done, loss, tokens));
    std::fflush(stream_);
  }
}

void ProgressBar::finish() {
  if (finished_ || stream_ == nullptr) return;
  finished_ = true;
  if (terminal_) fmt::print(stream_, "\r{}\033[K\n", line(done_, loss_, tokens_));
  else fmt::print(stream_, "{}\n", line(done_, loss_, tokens_));
  std::fflush(stream_);
}

std::string ascii_plot(const std::vector<double>& values, int width, int height) {
  if (values.empty() || width < 2 || height < 2) return {};
  double low = INFINITY, high = -INFINITY;
  for (double v : values) {
    if (std::isfinite(v)) {
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  if (!std::isfinite(low)) return "(no finite values to plot)\n";
  if (high == low) high = low + 1.0;
  std::vector<std::string> grid(size_t(height), std::string(size_t(width), ' '));
  // Each column shows the mean of the values that fall into it.
  for (int column = 0; column < width; ++column) {
    const size_t begin = size_t(double(column) / width * double(values.size()));
    const size_t end = std::max(begin + 1, size_t(double(column + 1) / width * double(values.size())));
    if (begin >= values.size()) break;
    double sum = 0;
    int count = 0;
    for (size_t i = begin; i < std::min(end, values.size()); ++i) {
      if (std::isfinite(values[i])) sum += values[i], ++count;
    }
    if (count == 0) continue;
    const double mean = sum / count;
    const int row = int(std::lround((high - mean) / (high - low) * (height - 1)));
    grid[size_t(std::clamp(row, 0, height - 1))][size_t(column)] = '*';
  }
  std::string out;
  for (int row = 0; row < height; ++row) {
    const double level = high - (high - low) * row / (height - 1);
    const bool labelled = row == 0 || row == height - 1 || row == height / 2;
    out += fmt::format("{:>9} |{}\n", labelled ? fmt::format("{:.4g}", level) : "", grid[size_t(row)]);
  }
  out += fmt::format("{:>9} +{}\n", "", std::string(size_t(width), '-'));
  return out;
}

}  // namespace stripes::nn
