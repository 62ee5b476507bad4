// A one-line progress bar on stderr, for long data preparation (building the song cache).
//
//   building POP909 cache  [##########----------]  433/866 songs  0.2 s
//
// On a terminal the line is redrawn in place (at most once per percent); when stderr is not a
// terminal (logs, CI) only the final line is printed, so logs get one line, not hundreds.
// update() may be called from several threads; the counter is atomic and drawing is serialized.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace stripes::data {

class ProgressBar {
 public:
  // `enabled` false: prints nothing at all.
  ProgressBar(std::string label, int64_t total, std::string unit, bool enabled = true, std::FILE* out = stderr);
  ~ProgressBar();  // finishes the line if finish() was not called
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Adds `count` done items and redraws if the bar moved.
  void advance(int64_t count = 1);
  // Prints the final line (once).
  void finish();
  int64_t done() const { return done_.load(); }

 private:
  void draw(int64_t done, bool final);

  std::string label_;
  int64_t total_;
  std::string unit_;
  bool enabled_;
  bool terminal_;
  std::FILE* out_;
  std::atomic<int64_t> done_{0};
  std::mutex draw_mutex_;
  std::atomic<int> last_permille_drawn_{-1};
  bool finished_ = false;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace stripes::data
