// A CUDA grid run on the CPU, for tests of kernels written in tensor/cuda/kernel_language.hpp's
// words: every CUDA thread of a block is a std::thread, __syncthreads() is a std::barrier over the
// block's threads, and blocks run one after another. A thread that returns leaves the barrier
// (arrive_and_drop), as an exited thread stops counting for __syncthreads on the GPU.
//
// What it checks: the kernel's index math (every output element written once, from the right
// inputs), its tiling over partial tiles, and its barriers (a missing one shows up as a race
// between real threads; dynamic shared memory is poisoned with NaN bytes before each block, so a
// read of a tile slot nobody wrote shows up in the result). What it does not: speed, warp-level
// behaviour, the hardware's limits beyond the two checked below (1024 threads, 227 KiB of shared
// memory per block: an H100's/H200's opt-in maximum).
//
// Never compiled by nvcc: kernel_language.hpp includes it only for the host compiler.
#pragma once

#include "tensor/error.hpp"

#include <barrier>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace stripes::cuda::emulator {

struct Dim3 {
  unsigned x = 1, y = 1, z = 1;
};

constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr size_t kMaxSharedBytesPerBlock = 227 * 1024;

namespace detail {
inline thread_local std::barrier<>* block_barrier = nullptr;
inline thread_local unsigned char* block_shared = nullptr;
}  // namespace detail

inline unsigned char* dynamic_shared_memory() { return detail::block_shared; }
inline void sync_threads() { detail::block_barrier->arrive_and_wait(); }

}  // namespace stripes::cuda::emulator

// CUDA's built-in variables and barrier, for kernel text compiled by the host compiler.
inline thread_local stripes::cuda::emulator::Dim3 threadIdx, blockIdx;
inline stripes::cuda::emulator::Dim3 blockDim, gridDim;
inline void __syncthreads() { stripes::cuda::emulator::sync_threads(); }

namespace stripes::cuda::emulator {

// kernel<<<grid, block, shared_bytes>>>(args...), on the CPU; returns when every block is done and
// rethrows the first exception a kernel thread raised.
template <class... Params, class... Args>
void launch(Dim3 grid, Dim3 block, size_t shared_bytes, void (*kernel)(Params...), Args... args) {
  const unsigned threads = block.x * block.y * block.z;
  STRIPES_CHECK(threads >= 1 && threads <= kMaxThreadsPerBlock, "emulated launch: {} threads per block (1 to {})", threads,
                kMaxThreadsPerBlock);
  STRIPES_CHECK(shared_bytes <= kMaxSharedBytesPerBlock, "emulated launch: {} bytes of dynamic shared memory, over {}",
                shared_bytes, kMaxSharedBytesPerBlock);
  ::gridDim = grid;
  ::blockDim = block;
  std::vector<unsigned char> shared(std::max<size_t>(shared_bytes, 1));
  std::exception_ptr failure;
  std::mutex failure_mutex;
  for (unsigned bz = 0; bz < grid.z; ++bz) {
    for (unsigned by = 0; by < grid.y; ++by) {
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        std::memset(shared.data(), 0xFF, shared.size());  // NaN in float32 and float64
        std::barrier<> barrier(threads);
        std::vector<std::thread> workers;
        workers.reserve(threads);
        for (unsigned t = 0; t < threads; ++t) {
          const Dim3 thread_index{t % block.x, (t / block.x) % block.y, t / (block.x * block.y)};
          workers.emplace_back([&, thread_index] {
            ::threadIdx = thread_index;
            ::blockIdx = Dim3{bx, by, bz};
            detail::block_barrier = &barrier;
            detail::block_shared = shared.data();
            try {
              kernel(Params(args)...);
            } catch (...) {
              const std::lock_guard<std::mutex> lock(failure_mutex);
              if (!failure) failure = std::current_exception();
            }
            barrier.arrive_and_drop();
          });
        }
        for (std::thread& worker : workers) worker.join();
        if (failure) std::rethrow_exception(failure);
      }
    }
  }
}

}  // namespace stripes::cuda::emulator
