// The causal product's GPU kernels (attention/cuda/causal_product_kernels.cuh) run on the CPU by
// tensor/cuda/cpu_emulator.hpp — one std::thread per CUDA thread, a barrier per __syncthreads —
// against causal_product_reference (the masked T×T product). These run everywhere, GPU or not:
// they check the kernels' index math, partial tiles and barriers; the GPU tests
// (test_cuda_attention.cpp) check the same kernels on the hardware.
#include "attention/causal_product.hpp"
#include "attention/cuda/causal_product_kernels.cuh"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <limits>

using namespace stripes;
using namespace stripes::attention;
namespace emulator = stripes::cuda::emulator;

namespace {

struct ProductShape {
  int64_t sequences, steps, p, q;
};

// Shapes that cut every tile somewhere: partial last chunks (T = 150 = 2·64 + 22, T = 5 < 64),
// partial feature slices (P = 40 = 32 + 8), partial column tiles (Q = 37 = 32 + 5), and the
// paper's P = 128 features with Q = 65 (64 value columns and the normalizer's column of ones).
const ProductShape kShapes[] = {{2, 150, 40, 37}, {1, 5, 3, 2}, {1, 70, 128, 65}};

double tolerance(DType dtype) { return dtype == DType::Float32 ? 1e-5 : 1e-12; }

template <typename T>
Tensor run_chunked_kernel(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse, const Tensor* base) {
  const int64_t sequences = a.size(0), steps = a.size(1), p = a.size(2), q = c.size(2);
  Tensor out = base ? base->contiguous().clone() : Tensor::full(c.shape(), std::numeric_limits<double>::quiet_NaN(), c.dtype());
  const emulator::Dim3 grid{unsigned(sequences), unsigned((q + cuda_kernels::kChunkColumnsPerBlock - 1) /
                                                          cuda_kernels::kChunkColumnsPerBlock)};
  emulator::launch(grid, {cuda_kernels::kChunkThreads}, cuda_kernels::causal_product_chunked_shared_bytes(p, sizeof(T)),
                   cuda_kernels::causal_product_chunked_kernel<T>, out.mutable_data<T>(), a.data<T>(), b.data<T>(),
                   c.data<T>(), steps, p, q, reverse, base != nullptr);
  return out;
}

template <typename T>
Tensor run_recurrent_kernel(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse) {
  const int64_t sequences = a.size(0), steps = a.size(1), p = a.size(2), q = c.size(2);
  Tensor out = Tensor::full(c.shape(), std::numeric_limits<double>::quiet_NaN(), c.dtype());
  const emulator::Dim3 grid{unsigned(sequences), unsigned((q + cuda_kernels::kRecurrentColumnsPerBlock - 1) /
                                                          cuda_kernels::kRecurrentColumnsPerBlock)};
  emulator::launch(grid, {cuda_kernels::kRecurrentColumnsPerBlock},
                   cuda_kernels::causal_product_recurrent_shared_bytes(p, sizeof(T)),
                   cuda_kernels::causal_product_recurrent_kernel<T>, out.mutable_data<T>(), a.data<T>(), b.data<T>(),
                   c.data<T>(), steps, p, q, reverse);
  return out;
}

}  // namespace

TEST(KernelEmulation, ChunkedCausalProductKernelMatchesTheReference) {
  uint64_t seed = 100;
  for (const ProductShape& s : kShapes) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (bool reverse : {false, true}) {
        for (bool accumulate : {false, true}) {
          const Tensor a = test::randn({s.sequences, s.steps, s.p}, ++seed, dtype);
          const Tensor b = test::randn({s.sequences, s.steps, s.p}, ++seed, dtype);
          const Tensor c = test::randn({s.sequences, s.steps, s.q}, ++seed, dtype);
          const Tensor base = test::randn({s.sequences, s.steps, s.q}, ++seed, dtype);
          Tensor reference = causal_product_reference(a.to(DType::Float64), b.to(DType::Float64), c.to(DType::Float64), reverse);
          if (accumulate) reference = reference + base.to(DType::Float64);
          const Tensor out = dispatch_floating(dtype, "test", [&]<typename T>() {
            return run_chunked_kernel<T>(a, b, c, reverse, accumulate ? &base : nullptr);
          });
          EXPECT_LT(test::norm_relative_error(out, reference), tolerance(dtype))
              << "T " << s.steps << " P " << s.p << " Q " << s.q << " " << dtype_name(dtype) << " reverse " << reverse
              << " accumulate " << accumulate;
        }
      }
    }
  }
}

TEST(KernelEmulation, RecurrentCausalProductKernelMatchesTheReference) {
  uint64_t seed = 200;
  for (const ProductShape& s : {ProductShape{2, 37, 16, 45}, ProductShape{1, 3, 5, 1}}) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (bool reverse : {false, true}) {
        const Tensor a = test::randn({s.sequences, s.steps, s.p}, ++seed, dtype);
        const Tensor b = test::randn({s.sequences, s.steps, s.p}, ++seed, dtype);
        const Tensor c = test::randn({s.sequences, s.steps, s.q}, ++seed, dtype);
        const Tensor reference = causal_product_reference(a.to(DType::Float64), b.to(DType::Float64), c.to(DType::Float64), reverse);
        const Tensor out = dispatch_floating(dtype, "test", [&]<typename T>() { return run_recurrent_kernel<T>(a, b, c, reverse); });
        EXPECT_LT(test::norm_relative_error(out, reference), tolerance(dtype))
            << "T " << s.steps << " " << dtype_name(dtype) << " reverse " << reverse;
      }
    }
  }
}

TEST(KernelEmulation, TheEmulatorCatchesAMissingBarrierAndAnUnwrittenOutput) {
  // The emulator itself: a kernel that reads its neighbour's shared slot must see it written when
  // a barrier separates the write and the read; and dynamic shared memory starts as NaN, so an
  // unwritten slot read back is not silently zero.
  struct Kernels {
    static void neighbour(float* out, bool barrier) {
      STRIPES_DYNAMIC_SHARED(bytes);
      float* slots = reinterpret_cast<float*>(bytes);
      const unsigned i = threadIdx.x;
      if (i != 0) slots[i] = float(i);  // slot 0 is never written
      if (barrier) __syncthreads();
      out[i] = slots[(i + 1) % blockDim.x];
    }
  };
  std::vector<float> out(64, 0.0f);
  emulator::launch({1}, {64}, 64 * sizeof(float), Kernels::neighbour, out.data(), true);
  for (unsigned i = 0; i + 1 < 64; ++i) EXPECT_EQ(out[i], float(i + 1));
  EXPECT_TRUE(std::isnan(out[63])) << "slot 0 was never written: it must read as the NaN poison";
  EXPECT_THROW(emulator::launch({1}, {2048}, 0, Kernels::neighbour, out.data(), true), Error);
}
