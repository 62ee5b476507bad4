// GPU tests build everywhere and skip, with the runtime's reason, where no CUDA device is usable.
#pragma once

#include "tensor/cuda/cuda_backend.hpp"

#include <gtest/gtest.h>

#define STRIPES_SKIP_WITHOUT_GPU()                                                                   \
  if (!::stripes::cuda::available()) GTEST_SKIP() << "no CUDA device: " << ::stripes::cuda::device_description()
