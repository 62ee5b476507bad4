// Every CUDA and cuBLAS call is checked; a failure throws stripes::Error naming the call, the
// file and line, and CUDA's own description.
#pragma once

#include "tensor/error.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#define STRIPES_CUDA_CHECK(call)                                                                     \
  do {                                                                                               \
    const cudaError_t stripes_status = (call);                                                       \
    if (stripes_status != cudaSuccess) {                                                             \
      ::stripes::throw_error("CUDA error in {} at {}:{}: {}", #call, __FILE__, __LINE__,             \
                             cudaGetErrorString(stripes_status));                                    \
    }                                                                                                \
  } while (0)

#define STRIPES_CUBLAS_CHECK(call)                                                                   \
  do {                                                                                               \
    const cublasStatus_t stripes_status = (call);                                                    \
    if (stripes_status != CUBLAS_STATUS_SUCCESS) {                                                   \
      ::stripes::throw_error("cuBLAS error in {} at {}:{}: status {}", #call, __FILE__, __LINE__,    \
                             int(stripes_status));                                                   \
    }                                                                                                \
  } while (0)

// After every kernel launch: launch-configuration errors surface here, not at a later call.
#define STRIPES_CUDA_CHECK_LAUNCH(kernel_name) STRIPES_CUDA_CHECK(cudaGetLastError())
