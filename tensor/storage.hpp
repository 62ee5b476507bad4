// Storage: one allocation of bytes on one device, shared by every view of it. It carries the
// version counter that autograd uses to detect in-place modification of a tensor saved for
// backward: every write through Tensor::mutable_data() increments it.
#pragma once

#include "tensor/dtype.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace stripes {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

  // Bytes currently allocated by all CPU storages (CUDA memory: cuda::memory_stats()), and the high-water mark since the last reset
  // (the memory plan of `stripes bench train` reads these). Always on: two relaxed atomics per
  // allocation. They count the bytes tensors asked for, not the allocator's rounding or its cache.
  static size_t cpu_bytes_in_use();
  static size_t cpu_bytes_peak();
  static void reset_cpu_peak();

  // CPU blocks of at least kCpuCacheMinBytes are rounded up to a size class (at most 1/8 more) and,
  // when freed, kept in per-class free lists for reuse, up to a limit on the cached bytes: a
  // training step allocates the same large activations every step, and fresh pages from the OS
  // cost a page fault per 4 KiB (measured: 15% of a linear-attention forward+backward).
  static constexpr size_t kCpuCacheMinBytes = size_t(1) << 18;
  static size_t cpu_bytes_cached();                 // bytes held in the free lists
  static void set_cpu_cache_limit(size_t bytes);    // default 4 GiB; 0 turns caching off
  static void release_cpu_cache();                  // returns every cached block to the system

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  size_t capacity_ = 0;  // bytes of the CPU block (nbytes_ rounded to the allocator's size class)
  Device device_ = Device::CPU;
  uint64_t version_ = 0;
};

}  // namespace stripes
