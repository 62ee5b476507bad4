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
  // (the memory plan of `stripes bench train` reads these).
  static size_t cpu_bytes_in_use();
  static size_t cpu_bytes_peak();
  static void reset_cpu_peak();

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_ = Device::CPU;
  uint64_t version_ = 0;
};

}  // namespace stripes
