// The few CUDA words a kernel header (*.cuh of the kernels that are also run on the CPU) may use,
// so that one kernel text compiles twice:
//  - under nvcc (__CUDACC__), as the real kernel the launcher in a .cu file starts on the GPU;
//  - under the host compiler, as a plain function that tensor/cuda/cpu_emulator.hpp runs with one
//    std::thread per CUDA thread and a barrier for __syncthreads. Tests use it to check a kernel's
//    index math, tiling and barrier placement against the CPU reference on machines without a GPU
//    (tests/attention/test_kernel_emulation.cpp). It checks what the kernel computes, not how fast,
//    and not what only the hardware decides (warp scheduling, shared-memory limits, occupancy).
//
// The words:
//   STRIPES_KERNEL                       __global__
//   STRIPES_DEVICE_FUNCTION              __device__ inline (a helper called from a kernel)
//   STRIPES_SHARED                       __shared__ (a statically sized block-shared array)
//   STRIPES_DYNAMIC_SHARED(name)         the block's dynamic shared memory as `unsigned char* name`
//   __syncthreads(), threadIdx, blockIdx, blockDim, gridDim   as in CUDA
// Kernels written with them use no warp intrinsics and no atomics (neither is emulated).
#pragma once

#if defined(__CUDACC__)

#define STRIPES_KERNEL __global__
#define STRIPES_DEVICE_FUNCTION __device__ inline  // inline: defined in headers included by several .cu files
#define STRIPES_SHARED __shared__
#define STRIPES_DYNAMIC_SHARED(name)            \
  extern __shared__ unsigned char name##_raw[]; \
  unsigned char* name = name##_raw

#else

#include "tensor/cuda/cpu_emulator.hpp"

#define STRIPES_KERNEL
#define STRIPES_DEVICE_FUNCTION inline
// Blocks run one after another in the emulator, so one static array per kernel serves every block
// (and, like shared memory, starts each block with whatever the last one left).
#define STRIPES_SHARED static
#define STRIPES_DYNAMIC_SHARED(name) unsigned char* name = ::stripes::cuda::emulator::dynamic_shared_memory()

#endif
