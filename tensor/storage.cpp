#include "tensor/storage.hpp"

#include "tensor/cuda/cuda_backend.hpp"

#include <atomic>
#include <cstdlib>
#include <new>

namespace stripes {

namespace {
std::atomic<size_t> g_cpu_bytes_in_use{0};
std::atomic<size_t> g_cpu_bytes_peak{0};
constexpr size_t kAlignment = 64;  // one cache line; enough for AVX-512 loads
}  // namespace

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device == Device::CUDA) {
    STRIPES_CHECK(cuda::available(), "cannot allocate {} bytes on device 'cuda': {}", nbytes, cuda::device_description());
    data_ = cuda::allocate(nbytes);
    return;
  }
  const size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  data_ = std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded);
  if (data_ == nullptr) throw_error("out of memory allocating {} bytes on the CPU", nbytes);
  const size_t now = g_cpu_bytes_in_use.fetch_add(nbytes) + nbytes;
  size_t peak = g_cpu_bytes_peak.load();
  while (now > peak && !g_cpu_bytes_peak.compare_exchange_weak(peak, now)) {
  }
}

Storage::~Storage() {
  if (device_ == Device::CUDA) {
    cuda::release(data_, nbytes_);
    return;
  }
  std::free(data_);
  g_cpu_bytes_in_use.fetch_sub(nbytes_);
}

size_t Storage::cpu_bytes_in_use() { return g_cpu_bytes_in_use.load(); }
size_t Storage::cpu_bytes_peak() { return g_cpu_bytes_peak.load(); }
void Storage::reset_cpu_peak() { g_cpu_bytes_peak.store(g_cpu_bytes_in_use.load()); }

}  // namespace stripes
