// Device memory: a caching allocator over plain cudaMalloc (never managed memory), device
// queries, and copies. Freed blocks are kept in per-size free lists (sizes rounded up to 512 bytes,
// or to 2 MiB above 1 MiB) and handed out again, because cudaMalloc/cudaFree synchronize the device
// and cost far more than a training step's worth of small tensors.
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/cuda/cuda_check.hpp"

#include <map>
#include <mutex>
#include <vector>

namespace stripes::cuda {

namespace {

struct CachingAllocator {
  std::mutex mutex;
  std::map<size_t, std::vector<void*>> free_blocks;  // rounded size -> blocks
  MemoryStats stats;
  bool poison = false;

  static size_t round_size(size_t nbytes) {
    const size_t unit = nbytes > (size_t(1) << 20) ? (size_t(2) << 20) : 512;
    return std::max<size_t>(unit, (nbytes + unit - 1) / unit * unit);
  }
};

CachingAllocator& allocator() {
  static CachingAllocator* instance = new CachingAllocator();  // never destroyed: outlives static tensors
  return *instance;
}

}  // namespace

bool available() {
  // Asked once: every CUDA allocation checks it, and devices do not come and go in a process.
  static const bool usable = [] {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  }();
  return usable;
}

std::string device_description() {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) return fmt::format(fmt::runtime("no usable CUDA device ({})"), cudaGetErrorString(status));
  if (count == 0) return "no CUDA device present";
  cudaDeviceProp properties{};
  STRIPES_CUDA_CHECK(cudaGetDeviceProperties(&properties, 0));
  return fmt::format(fmt::runtime("{} (sm {}.{}, {:.0f} GiB)"), properties.name, properties.major, properties.minor,
                     double(properties.totalGlobalMem) / double(1ull << 30));
}

void* allocate(size_t nbytes) {
  CachingAllocator& a = allocator();
  const size_t size = CachingAllocator::round_size(nbytes);
  std::lock_guard<std::mutex> lock(a.mutex);
  void* pointer = nullptr;
  auto found = a.free_blocks.find(size);
  if (found != a.free_blocks.end() && !found->second.empty()) {
    pointer = found->second.back();
    found->second.pop_back();
    a.stats.cached -= size;
  } else {
    cudaError_t status = cudaMalloc(&pointer, size);
    if (status == cudaErrorMemoryAllocation) {  // give the cache back to the driver and try once more
      cudaGetLastError();
      for (auto& [block_size, blocks] : a.free_blocks)
        for (void* block : blocks) cudaFree(block);
      a.free_blocks.clear();
      a.stats.cached = 0;
      status = cudaMalloc(&pointer, size);
    }
    if (status != cudaSuccess) {
      throw_error("out of CUDA memory allocating {} bytes ({} in use): {}", nbytes, a.stats.in_use, cudaGetErrorString(status));
    }
  }
  a.stats.in_use += size;
  a.stats.peak = std::max(a.stats.peak, a.stats.in_use);
  if (a.poison) STRIPES_CUDA_CHECK(cudaMemset(pointer, 0xFF, size));
  return pointer;
}

void release(void* pointer, size_t nbytes) {
  if (pointer == nullptr) return;
  CachingAllocator& a = allocator();
  const size_t size = CachingAllocator::round_size(nbytes);
  std::lock_guard<std::mutex> lock(a.mutex);
  a.free_blocks[size].push_back(pointer);
  a.stats.in_use -= size;
  a.stats.cached += size;
}

void set_poison_new_allocations(bool on) {
  std::lock_guard<std::mutex> lock(allocator().mutex);
  allocator().poison = on;
}

MemoryStats memory_stats() {
  std::lock_guard<std::mutex> lock(allocator().mutex);
  return allocator().stats;
}

void reset_peak() {
  std::lock_guard<std::mutex> lock(allocator().mutex);
  allocator().stats.peak = allocator().stats.in_use;
}

void empty_cache() {
  CachingAllocator& a = allocator();
  std::lock_guard<std::mutex> lock(a.mutex);
  for (auto& [size, blocks] : a.free_blocks)
    for (void* block : blocks) STRIPES_CUDA_CHECK(cudaFree(block));
  a.free_blocks.clear();
  a.stats.cached = 0;
}

void synchronize() { STRIPES_CUDA_CHECK(cudaDeviceSynchronize()); }

void copy_bytes(void* destination, Device destination_device, const void* source, Device source_device, size_t nbytes) {
  if (nbytes == 0) return;
  const cudaMemcpyKind kind = destination_device == Device::CUDA
                                  ? (source_device == Device::CUDA ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
                                  : (source_device == Device::CUDA ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  STRIPES_CUDA_CHECK(cudaMemcpy(destination, source, nbytes, kind));
}

}  // namespace stripes::cuda
