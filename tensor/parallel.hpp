// Parallel loops over both (all) cores with OpenMP. Work below `grain` iterations runs serially:
// waking threads costs more than a small loop.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace stripes {

constexpr int64_t kParallelGrain = 32768;  // elements; below this a loop stays on one thread

inline int max_threads() { return omp_get_max_threads(); }

// The grain (items per thread at least) for items that each cost about `work_per_item` element
// operations: a loop goes parallel only when its total work exceeds kParallelGrain per thread.
inline int64_t grain_for(int64_t work_per_item) {
  return std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(work_per_item, 1));
}

// body(begin, end) on disjoint chunks covering [0, count).
template <typename Body>
void parallel_for(int64_t count, int64_t grain, Body&& body) {
  if (count <= 0) return;
  const int threads = omp_in_parallel() ? 1 : int(std::min<int64_t>(max_threads(), (count + grain - 1) / grain));
  if (threads <= 1) {
    body(int64_t(0), count);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int64_t id = omp_get_thread_num();
    const int64_t chunk = (count + threads - 1) / threads;
    const int64_t begin = std::min(count, id * chunk);
    const int64_t end = std::min(count, begin + chunk);
    if (begin < end) body(begin, end);
  }
}

}  // namespace stripes
