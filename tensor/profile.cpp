#include "tensor/profile.hpp"

#include "tensor/cuda/cuda_backend.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

namespace stripes::profile {

namespace detail {
std::atomic<bool> g_enabled{false};
}

namespace {

using Clock = std::chrono::steady_clock;

struct Total {
  double seconds = 0;
  int64_t calls = 0;
};

struct Registry {
  std::mutex mutex;
  std::map<std::string, Total, std::less<>> totals;
  std::set<std::string, std::less<>> interned;
  std::unordered_map<const char*, const char*> backward_labels;
  MatmulTotals matmul;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: scopes may close during static destruction
  return *r;
}

struct Frame {
  const char* label;
  Clock::time_point resumed;  // when this frame last became the innermost one
};

thread_local std::vector<Frame> t_stack;
std::atomic<bool> g_synchronize_device{false};

void add(const char* label, double seconds, int64_t calls) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.totals.find(std::string_view(label));
  if (it == r.totals.end()) it = r.totals.emplace(label, Total{}).first;
  it->second.seconds += seconds;
  it->second.calls += calls;
}

}  // namespace

void set_enabled(bool on) { detail::g_enabled.store(on, std::memory_order_relaxed); }
void set_synchronize_device(bool on) { g_synchronize_device.store(on, std::memory_order_relaxed); }

void reset() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.totals.clear();
  r.matmul = {};
}

void add_matmul(double flops, double seconds) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.matmul.flops += flops;
  r.matmul.seconds += seconds;
  ++r.matmul.calls;
}

MatmulTotals matmul_totals() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  return r.matmul;
}

std::vector<Entry> entries() {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<Entry> out;
  for (const auto& [label, total] : r.totals) out.push_back({label, total.seconds, total.calls});
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return out;
}

double seconds(std::string_view label) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  const auto it = r.totals.find(label);
  return it == r.totals.end() ? 0.0 : it->second.seconds;
}

const char* current_label() { return t_stack.empty() ? nullptr : t_stack.back().label; }

const char* intern(std::string_view label) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  auto it = r.interned.find(label);
  if (it == r.interned.end()) it = r.interned.emplace(label).first;
  return it->c_str();  // std::set nodes never move
}

const char* backward_label(const char* label) {
  {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    const auto it = r.backward_labels.find(label);
    if (it != r.backward_labels.end()) return it->second;
  }
  const char* name = intern(label == nullptr ? std::string("(backward)") : std::string(label) + " (backward)");
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  r.backward_labels[label] = name;
  return name;
}

// The outer frame stops counting while an inner one runs: time is exclusive.
void Scope::open(const char* label) {
  if (g_synchronize_device.load(std::memory_order_relaxed)) cuda::synchronize();
  const Clock::time_point now = Clock::now();
  if (!t_stack.empty()) {
    Frame& outer = t_stack.back();
    add(outer.label, std::chrono::duration<double>(now - outer.resumed).count(), 0);
  }
  t_stack.push_back({label, now});
  open_ = true;
}

void Scope::close() {
  if (g_synchronize_device.load(std::memory_order_relaxed)) cuda::synchronize();
  const Clock::time_point now = Clock::now();
  if (t_stack.empty()) return;  // reset between open and close on another thread's stack: nothing to do
  const Frame frame = t_stack.back();
  t_stack.pop_back();
  add(frame.label, std::chrono::duration<double>(now - frame.resumed).count(), 1);
  if (!t_stack.empty()) t_stack.back().resumed = now;
}

}  // namespace stripes::profile
