// Progress bar on stderr; see progress.hpp.
#include "data/progress.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/core.h>

namespace stripes::data {

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit, bool enabled, std::FILE* out)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 0)),
      unit_(std::move(unit)),
      enabled_(enabled && out != nullptr),
      terminal_(out != nullptr && isatty(fileno(out)) != 0),
      out_(out),
      started_(std::chrono::steady_clock::now()) {
  if (enabled_ && terminal_) draw(0, false);
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(int64_t count) {
  const int64_t done = done_.fetch_add(count) + count;
  if (!enabled_ || !terminal_) return;
  const int permille = total_ == 0 ? 1000 : static_cast<int>(std::min<int64_t>(1000, done * 1000 / total_));
  if (permille / 10 == last_permille_drawn_ / 10) return;  // cheap early exit, re-checked under the lock
  std::lock_guard<std::mutex> lock(draw_mutex_);
  if (finished_ || permille / 10 == last_permille_drawn_ / 10) return;
  draw(done, false);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(draw_mutex_);
  if (finished_) return;
  finished_ = true;
  draw(done_.load(), true);
}

void ProgressBar::draw(int64_t done, bool final) {
  constexpr int kWidth = 30;
  const int permille = total_ == 0 ? 1000 : static_cast<int>(std::min<int64_t>(1000, done * 1000 / total_));
  last_permille_drawn_ = permille;
  const int filled = permille * kWidth / 1000;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const std::string bar =
      std::string(static_cast<size_t>(filled), '#') + std::string(static_cast<size_t>(kWidth - filled), '-');
  fmt::print(out_, "{}{}  [{}]  {}/{} {}  {:.1f} s{}", terminal_ ? "\r" : "", label_, bar, done, total_, unit_, seconds,
             final ? "\n" : "");
  std::fflush(out_);
}

}  // namespace stripes::data
