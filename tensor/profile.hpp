// Named accumulating timers: where the time of a training step goes, per component.
//
//   { profile::Scope scope("attention core");  ...  }     // adds the wall time of the block to "attention core"
//
// Off by default. When off, a Scope is one relaxed atomic load and a branch (no clock read, no
// lock), so modules keep their scopes permanently. When on (profile::set_enabled(true)):
//  - time is *exclusive*: a scope opened inside another pauses the outer one, so the totals of all
//    labels add up to the time spent inside outermost scopes (nothing is counted twice);
//  - autograd tags every node it records with the innermost open label (profile::current_label()),
//    and backward() runs each node's backward inside a scope "<label> (backward)" — so backward
//    time is attributed to the component whose forward created the node ("(backward)" alone for
//    nodes made outside every scope).
// Scopes are meant for the thread that drives the model (the one calling forward and backward);
// each thread has its own stack of open scopes, the totals are shared (a mutex, taken only when on).
// Labels must outlive the program (string literals, or profile::intern()).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stripes::profile {

namespace detail {
extern std::atomic<bool> g_enabled;
}

inline bool enabled() { return detail::g_enabled.load(std::memory_order_relaxed); }
void set_enabled(bool on);

// Drops every total (open scopes keep running and are counted from now on).
void reset();

// GPU work is asynchronous: a kernel launched inside a scope runs after the scope closed. With this
// on, every scope boundary first waits for the GPU (cuda::synchronize), so that each kernel's time
// lands in the scope that launched it. Costs a synchronization per boundary: `bench train --device
// cuda` turns it on for one profiled step only, after the timed ones.
void set_synchronize_device(bool on);

struct Entry {
  std::string label;
  double seconds = 0;   // exclusive wall time
  int64_t calls = 0;    // scopes closed
};
// Every label with its total, largest first.
std::vector<Entry> entries();
// Total of one label (0 when never seen).
double seconds(std::string_view label);

// The GEMM work of stripes::matmul while profiling is on, a second dimension beside the labels:
// FLOPs (2·m·n·k per product), the calls' inclusive wall time (CPU calls; a CUDA call returns
// before its kernel ends, so it adds FLOPs only) and the number of calls. Cleared by reset().
// Products that kernels run on Eigen directly (the chunked causal product, FAVOR+) are not in it.
struct MatmulTotals {
  double flops = 0;
  double seconds = 0;
  int64_t calls = 0;
};
void add_matmul(double flops, double seconds);
MatmulTotals matmul_totals();

// The innermost open label on this thread, or nullptr.
const char* current_label();
// A stable copy of `label` (same pointer for equal strings): for labels built at run time.
const char* intern(std::string_view label);
// intern(std::string(label) + " (backward)"), or "(backward)" for a null label; cached.
const char* backward_label(const char* label);

class Scope {
 public:
  explicit Scope(const char* label) {  // a null label opens nothing
    if (label != nullptr && enabled()) open(label);
  }
  ~Scope() {
    if (open_) close();
  }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  void open(const char* label);
  void close();
  bool open_ = false;
};

// RAII: profiling on for the lifetime of the guard (restores the previous state).
class EnableGuard {
 public:
  explicit EnableGuard(bool on = true) : previous_(enabled()) { set_enabled(on); }
  ~EnableGuard() { set_enabled(previous_); }
  EnableGuard(const EnableGuard&) = delete;
  EnableGuard& operator=(const EnableGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace stripes::profile
