#include "tensor/storage.hpp"

#include "tensor/cuda/cuda_backend.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace stripes {

namespace {
std::atomic<size_t> g_cpu_bytes_in_use{0};
std::atomic<size_t> g_cpu_bytes_peak{0};
constexpr size_t kAlignment = 64;  // one cache line; enough for AVX-512 loads

// The size class of a block: below kCpuCacheMinBytes the 64-byte rounding malloc needs; above it,
// 8 classes per power of two (≤ 12.5% rounding), so a freed block fits requests of nearby sizes.
size_t block_size(size_t nbytes) {
  const size_t rounded = std::max<size_t>((nbytes + kAlignment - 1) / kAlignment * kAlignment, kAlignment);
  if (rounded < Storage::kCpuCacheMinBytes) return rounded;
  size_t power = size_t(1) << (63 - __builtin_clzll(rounded));  // largest power of two ≤ rounded
  const size_t step = power / 8;
  return (rounded + step - 1) / step * step;
}

struct CpuCache {
  std::mutex mutex;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // size class -> blocks
  size_t cached = 0;
  size_t limit = size_t(4) << 30;
};

CpuCache& cpu_cache() {
  static CpuCache* cache = new CpuCache;  // never destroyed: storages may die during static destruction
  return *cache;
}

void* cpu_allocate(size_t capacity) {
  if (capacity >= Storage::kCpuCacheMinBytes) {
    CpuCache& cache = cpu_cache();
    std::lock_guard lock(cache.mutex);
    auto it = cache.free_blocks.find(capacity);
    if (it != cache.free_blocks.end() && !it->second.empty()) {
      void* block = it->second.back();
      it->second.pop_back();
      cache.cached -= capacity;
      return block;
    }
  }
  return std::aligned_alloc(kAlignment, capacity);
}

void cpu_free(void* block, size_t capacity) {
  if (capacity >= Storage::kCpuCacheMinBytes) {
    CpuCache& cache = cpu_cache();
    std::lock_guard lock(cache.mutex);
    if (cache.cached + capacity <= cache.limit) {
      cache.free_blocks[capacity].push_back(block);
      cache.cached += capacity;
      return;
    }
  }
  std::free(block);
}
}  // namespace

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device == Device::CUDA) {
    STRIPES_CHECK(cuda::available(), "cannot allocate {} bytes on device 'cuda': {}", nbytes, cuda::device_description());
    data_ = cuda::allocate(nbytes);
    return;
  }
  capacity_ = block_size(nbytes);
  data_ = cpu_allocate(capacity_);
  if (data_ == nullptr) {
    release_cpu_cache();  // memory held for reuse goes back first, then one more try
    data_ = cpu_allocate(capacity_);
  }
  if (data_ == nullptr) throw_error("out of memory allocating {} bytes on the CPU", nbytes);
  // STRIPES_POISON_MEMORY=1: every new CPU block is filled with 0xFF bytes (a NaN in float32 and
  // float64), so a kernel that reads an element nobody wrote shows up as NaN instead of silently
  // reading whatever a reused block held (a debugging aid; off by default).
  static const bool poison = [] {
    const char* value = std::getenv("STRIPES_POISON_MEMORY");
    return value != nullptr && std::string_view(value) == "1";
  }();
  if (poison) std::memset(data_, 0xFF, nbytes);
  const size_t now = g_cpu_bytes_in_use.fetch_add(nbytes, std::memory_order_relaxed) + nbytes;
  size_t peak = g_cpu_bytes_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_cpu_bytes_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

Storage::~Storage() {
  if (device_ == Device::CUDA) {
    cuda::release(data_, nbytes_);
    return;
  }
  cpu_free(data_, capacity_);
  g_cpu_bytes_in_use.fetch_sub(nbytes_, std::memory_order_relaxed);
}

size_t Storage::cpu_bytes_in_use() { return g_cpu_bytes_in_use.load(); }
size_t Storage::cpu_bytes_peak() { return g_cpu_bytes_peak.load(); }
void Storage::reset_cpu_peak() { g_cpu_bytes_peak.store(g_cpu_bytes_in_use.load()); }

size_t Storage::cpu_bytes_cached() {
  CpuCache& cache = cpu_cache();
  std::lock_guard lock(cache.mutex);
  return cache.cached;
}

void Storage::set_cpu_cache_limit(size_t bytes) {
  {
    CpuCache& cache = cpu_cache();
    std::lock_guard lock(cache.mutex);
    cache.limit = bytes;
    if (cache.cached <= bytes) return;
  }
  release_cpu_cache();
}

void Storage::release_cpu_cache() {
  CpuCache& cache = cpu_cache();
  std::lock_guard lock(cache.mutex);
  for (auto& [capacity, blocks] : cache.free_blocks) {
    for (void* block : blocks) std::free(block);
  }
  cache.free_blocks.clear();
  cache.cached = 0;
}

}  // namespace stripes
