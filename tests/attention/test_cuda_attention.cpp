// The attention kernels on the GPU against the CPU, and the attention cases of the generic
// checker run on the GPU in float64. Skips with a message when there is no device.
#include "attention/attention_gradchecks.hpp"
#include "attention/causal_product.hpp"
#include "attention/linear_attention.hpp"
#include "tensor/cuda/cuda_backend.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cmath>

using namespace stripes;
using namespace stripes::attention;

TEST(CudaAttention, CausalProductKernelMatchesTheCpu) {
  if (!cuda::available()) GTEST_SKIP() << "no CUDA device: " << cuda::device_description();
  cuda::set_poison_new_allocations(true);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool reverse : {false, true}) {
      Generator g(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
      const Tensor a = Tensor::randn({2, 3, 37, 16}, g, dtype), b = Tensor::randn({2, 3, 37, 16}, g, dtype);
      const Tensor c = Tensor::randn({2, 3, 37, 45}, g, dtype);  // 45 value columns: two column tiles, one partial
      const Tensor cpu = causal_product_forward(a, b, c, reverse);
      const Tensor gpu = causal_product_forward(a.to(Device::CUDA), b.to(Device::CUDA), c.to(Device::CUDA), reverse);
      const Tensor d = gpu.to(Device::CPU).to(DType::Float64) - cpu.to(DType::Float64);
      const double error = std::sqrt(sum(d * d).item() / sum(cpu.to(DType::Float64) * cpu.to(DType::Float64)).item());
      EXPECT_LT(error, dtype == DType::Float32 ? 1e-5 : 1e-10) << "reverse " << reverse;
    }
  }
  cuda::set_poison_new_allocations(false);
}

class CudaAttentionGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(CudaAttentionGradcheck, BackwardMatchesFiniteDifferencesOnTheGpu) {
  if (!cuda::available()) GTEST_SKIP() << "no CUDA device: " << cuda::device_description();
  const ag::GradcheckCase& check = attention_gradchecks().cases()[GetParam()];
  if (check.op.rfind("pe/", 0) == 0 || check.op.rfind("attention/", 0) == 0) {
    GTEST_SKIP() << "modules are not moved to the GPU yet (PE and layer parameters live on the CPU)";
  }
  const ag::GradcheckResult result = ag::run_gradcheck(check, 5, Device::CUDA);
  EXPECT_TRUE(result.passed) << check.op << " " << check.label << ": " << result.max_error << " " << result.failure;
}

INSTANTIATE_TEST_SUITE_P(KernelCases, CudaAttentionGradcheck, ::testing::Range<size_t>(0, attention_gradchecks().cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = attention_gradchecks().cases()[info.param].op + "_" + std::to_string(info.param);
                           for (char& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });
