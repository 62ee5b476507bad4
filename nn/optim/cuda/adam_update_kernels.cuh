// Adam / AdamW on the GPU, pure index math (launcher: nn/optim/cuda/adam_update.cu): one thread per
// parameter element, grid-stride, calling the per-element update of nn/optim/adam_update.hpp — the
// same function the CPU loop calls. Run on the CPU by the emulator in
// tests/nn/test_adam_kernel_emulation.cpp against the CPU optimizer.
#pragma once

#include "nn/optim/adam_update.hpp"
#include "tensor/cuda/kernel_language.hpp"

#include <cstdint>

namespace stripes::nn {

template <typename T>
STRIPES_KERNEL void adam_update_kernel(T* param, T* m, T* v, const T* grad, int64_t n, AdamStep step) {
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    adam_update_element<T>(param[i], m[i], v[i], grad[i], step);
  }
}

}  // namespace stripes::nn
