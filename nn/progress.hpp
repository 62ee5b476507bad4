// A training progress bar and a small ASCII plot of a loss curve.
//
// On a terminal the bar redraws one line in place (\r), at most ~10 times a second:
//   train-toy [##########----------]  500/1000  loss 0.1234  312.5 steps/s  ETA 1.6s
// When the stream is not a terminal (CI logs, pipes) it prints the same text as a plain line
// every `line_every` steps (default: every 10% of the run) and at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace stripes::nn {

class ProgressBar {
 public:
  // `first` is the step the run starts from (non-zero when resuming); `total` the last step.
  ProgressBar(std::string label, int64_t first, int64_t total, std::FILE* stream = stderr, int64_t line_every = 0);
  // `done` steps finished (first <= done <= total); `tokens` trained on since `first` (0: not shown).
  void update(int64_t done, double loss, double tokens = 0);
  void finish();                           // final state, newline on a terminal
  double steps_per_second() const;
  double elapsed_seconds() const;
  // The text of the bar for a given state (no timing side effects): used by update() and tests.
  std::string line(int64_t done, double loss, double tokens = 0) const;

 private:
  std::string label_;
  int64_t first_, total_;
  std::FILE* stream_;
  bool terminal_;
  int64_t line_every_;
  int64_t done_ = 0;
  double loss_ = 0.0;
  double tokens_ = 0.0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
};

// A `height` x `width` character plot of `values` (x: index, y: value, linear), framed, with the
// y range on the left. Empty string for no values.
std::string ascii_plot(const std::vector<double>& values, int width = 60, int height = 12);

}  // namespace stripes::nn
