// The CUDA backend against the CPU: every kernel on random inputs (fresh per run, never zeros),
// outputs poisoned with NaN before each run so unwritten elements show, relative error
// ‖gpu − cpu‖/‖cpu‖ under 1e-5 in float32 and 1e-10 in float64; and every differentiable op's
// gradient checked on the GPU in float64. Skips with a message when there is no device.
#include "autograd/gradcheck.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"
#include "tests/support/skip_without_gpu.hpp"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>

using namespace stripes;

namespace {

class Cuda : public ::testing::Test {
 protected:
  void SetUp() override {
    STRIPES_SKIP_WITHOUT_GPU();
    cuda::set_poison_new_allocations(true);
  }
  void TearDown() override { cuda::set_poison_new_allocations(false); }
};

// A seed that differs from run to run, printed so a failure can be replayed.
uint64_t fresh_seed() {
  static const uint64_t base = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
  static uint64_t counter = 0;
  return base + 7919 * counter++;
}


double tolerance(DType dtype) { return dtype == DType::Float32 ? 1e-5 : 1e-10; }

// Runs f on CPU inputs and on their device copies; compares.
void expect_parity(const std::string& what, const std::vector<Tensor>& inputs,
                   const std::function<Tensor(const std::vector<Tensor>&)>& f, double tol) {
  std::vector<Tensor> device_inputs;
  for (const Tensor& t : inputs) device_inputs.push_back(t.to(Device::CUDA));
  const Tensor cpu = f(inputs);
  const Tensor gpu = f(device_inputs);
  ASSERT_EQ(gpu.device(), Device::CUDA) << what;
  EXPECT_TRUE(all_finite(gpu) || !all_finite(cpu)) << what << ": NaN in the GPU output (an unwritten element?)";
  EXPECT_LT(stripes::test::norm_relative_error(gpu, cpu), tol) << what;
}

}  // namespace

TEST_F(Cuda, CopiesRoundTripAndViewsAreReadInPlace) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator g(fresh_seed());
    const Tensor x = Tensor::randn({3, 4, 5}, g, dtype);
    EXPECT_EQ(x.to(Device::CUDA).to(Device::CPU).to(DType::Float64).to_vector<double>(), x.to(DType::Float64).to_vector<double>());
    expect_parity("transpose+contiguous", {x}, [](const auto& v) { return v[0].transpose(0, 2).contiguous(); }, 0.0 + 1e-30);
    expect_parity("slice with step", {x}, [](const auto& v) { return v[0].slice(2, 1, 5, 2).contiguous(); }, 1e-30);
    expect_parity("cast", {x}, [](const auto& v) { return v[0].to(DType::Float64); }, 1e-12);
    expect_parity("fill_ on a view", {x}, [](const auto& v) {
      Tensor c = v[0].clone();
      c.slice(1, 1, 3).fill_(2.5);
      return c;
    }, 1e-30);
    expect_parity("add_ with broadcast", {x, Tensor::randn({5}, g, dtype)}, [](const auto& v) {
      Tensor c = v[0].clone();
      c.add_(v[1], 0.5);
      return c;
    }, tolerance(dtype));
  }
}

TEST_F(Cuda, EveryElementwiseKernelMatchesTheCpu) {
  using Unary = std::function<Tensor(const Tensor&)>;
  const std::vector<std::pair<std::string, Unary>> unary = {
      {"neg", [](const Tensor& x) { return neg(x); }},         {"exp", [](const Tensor& x) { return exp(x); }},
      {"log", [](const Tensor& x) { return log(abs(x) + 0.1); }}, {"sqrt", [](const Tensor& x) { return sqrt(abs(x)); }},
      {"sin", [](const Tensor& x) { return sin(x); }},         {"cos", [](const Tensor& x) { return cos(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},       {"sigmoid", [](const Tensor& x) { return sigmoid(x * 10.0); }},
      {"softplus", [](const Tensor& x) { return softplus(x * 10.0); }}, {"relu", [](const Tensor& x) { return relu(x); }},
      {"step", [](const Tensor& x) { return step(x); }},       {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu'", [](const Tensor& x) { return gelu_derivative(x); }}, {"elu", [](const Tensor& x) { return elu(x, 0.7); }},
      {"sign", [](const Tensor& x) { return sign(x); }},       {"pow 3", [](const Tensor& x) { return pow(x, 3.0); }},
      {"pow 2", [](const Tensor& x) { return pow(x, 2.0); }},  {"affine", [](const Tensor& x) { return x * 1.5 + 0.25; }}};
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator g(fresh_seed());
    const Tensor x = Tensor::randn({7, 33}, g, dtype);
    for (const auto& [name, f] : unary) {
      expect_parity(name, {x}, [&](const auto& v) { return f(v[0]); }, tolerance(dtype));
      expect_parity(name + " on a transposed view", {x}, [&](const auto& v) { return f(v[0].transpose(0, 1)); }, tolerance(dtype));
    }
    const Tensor a = Tensor::randn({4, 1, 6}, g, dtype), b = Tensor::randn({5, 6}, g, dtype);
    const Tensor positive = abs(Tensor::randn({5, 6}, g, dtype)) + 0.5;
    expect_parity("add", {a, b}, [](const auto& v) { return v[0] + v[1]; }, tolerance(dtype));
    expect_parity("sub", {a, b}, [](const auto& v) { return v[0] - v[1]; }, tolerance(dtype));
    expect_parity("mul", {a, b}, [](const auto& v) { return v[0] * v[1]; }, tolerance(dtype));
    expect_parity("div", {a, positive}, [](const auto& v) { return v[0] / v[1]; }, tolerance(dtype));
    expect_parity("pow", {positive, b}, [](const auto& v) { return pow(v[0], v[1]); }, tolerance(dtype));
    expect_parity("maximum", {a, b}, [](const auto& v) { return maximum(v[0], v[1]); }, tolerance(dtype));
    expect_parity("minimum", {a, b}, [](const auto& v) { return minimum(v[0], v[1]); }, tolerance(dtype));
    expect_parity("greater", {a, b}, [](const auto& v) { return greater(v[0], v[1]).to(DType::Float64); }, 1e-30);
    expect_parity("where", {a, b}, [](const auto& v) { return where(greater(v[0], v[1]), v[0], v[1]); }, tolerance(dtype));
    expect_parity("scalar constant", {a}, [](const auto& v) { return v[0] * Tensor::scalar(3.0, v[0].dtype()); }, tolerance(dtype));
  }
}

TEST_F(Cuda, ReductionsMatmulScansAndIndexingMatchTheCpu) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    Generator g(fresh_seed());
    const Tensor x = Tensor::randn({3, 17, 9}, g, dtype);
    for (const std::vector<int64_t>& axes : {std::vector<int64_t>{}, {0}, {1}, {2}, {0, 2}}) {
      expect_parity("sum", {x}, [&](const auto& v) { return sum(v[0], axes); }, tolerance(dtype));
      expect_parity("mean", {x}, [&](const auto& v) { return mean(v[0], axes, true); }, tolerance(dtype));
      expect_parity("max", {x}, [&](const auto& v) { return max(v[0], axes); }, tolerance(dtype));
      expect_parity("min", {x}, [&](const auto& v) { return min(v[0], axes); }, tolerance(dtype));
    }
    EXPECT_TRUE(all_finite(x.to(Device::CUDA)));
    EXPECT_FALSE(all_finite((x / Tensor::scalar(0.0, dtype)).to(Device::CUDA)));
    const Tensor a = Tensor::randn({2, 3, 13, 7}, g, dtype), b = Tensor::randn({3, 7, 11}, g, dtype);
    expect_parity("batched broadcast matmul", {a, b}, [](const auto& v) { return matmul(v[0], v[1]); }, tolerance(dtype));
    const Tensor w = Tensor::randn({11, 7}, g, dtype);
    expect_parity("matmul with a transposed view", {a, w}, [](const auto& v) { return matmul(v[0], v[1].transpose(0, 1)); },
                  tolerance(dtype));
    expect_parity("matmul, transposed left", {a}, [](const auto& v) { return matmul(v[0].transpose(-1, -2), v[0]); },
                  tolerance(dtype));
    for (bool reverse : {false, true}) {
      expect_parity("cumsum", {x}, [&](const auto& v) { return cumsum(v[0], 1, reverse); }, tolerance(dtype));
    }
    const Tensor index = Tensor::from_vector<int64_t>({4, 0, 16, 4, 2}, {5});
    expect_parity("index_select", {x}, [&](const auto& v) { return index_select(v[0], 1, index); }, tolerance(dtype));
    expect_parity("index_add_ with repeats", {x, Tensor::randn({3, 5, 9}, g, dtype)}, [&](const auto& v) {
      Tensor target = Tensor::zeros(v[0].shape(), v[0].dtype(), v[0].device());
      index_add_(target, 1, index, v[1]);
      return target;
    }, tolerance(dtype));
    const Tensor gather_index = Tensor::from_vector<int64_t>({8, 0, 3, 3, 1, 7}, {1, 2, 3}).expand({3, 2, 3}).contiguous();
    expect_parity("gather", {x}, [&](const auto& v) { return gather(v[0], 1, gather_index); }, tolerance(dtype));
    expect_parity("scatter_add_", {x, Tensor::randn({3, 2, 3}, g, dtype)}, [&](const auto& v) {
      Tensor target = Tensor::zeros({3, 17, 3}, v[0].dtype(), v[0].device());
      scatter_add_(target, 2, Tensor::from_vector<int64_t>({0, 2, 2, 1, 0, 0}, {1, 2, 3}).expand({3, 2, 3}).contiguous(), v[1]);
      return target;
    }, tolerance(dtype));
    expect_parity("concat", {x, x}, [](const auto& v) { return concat({v[0], v[1].slice(1, 0, 4)}, 1); }, 1e-30);
  }
}

TEST_F(Cuda, RandomDrawsEqualTheCpuDraws) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const uint64_t seed = fresh_seed();
    Generator cpu_generator(seed), gpu_generator(seed);
    EXPECT_LT(stripes::test::norm_relative_error(Tensor::randn({1000}, gpu_generator, dtype, Device::CUDA), Tensor::randn({1000}, cpu_generator, dtype)),
              tolerance(dtype));
    EXPECT_LT(stripes::test::norm_relative_error(Tensor::rand({1000}, gpu_generator, dtype, -2.0, 3.0, Device::CUDA),
                             Tensor::rand({1000}, cpu_generator, dtype, -2.0, 3.0)),
              tolerance(dtype));
    EXPECT_EQ(Tensor::bernoulli({1000}, 0.3, gpu_generator, dtype, Device::CUDA).to(DType::Float64).to_vector<double>(),
              Tensor::bernoulli({1000}, 0.3, cpu_generator, dtype).to(DType::Float64).to_vector<double>());
  }
}

TEST_F(Cuda, DeviceMismatchIsAClearError) {
  const Tensor x = Tensor::ones({3}).to(Device::CUDA), y = Tensor::ones({3});
  try {
    (void)(x + y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("device mismatch"), std::string::npos) << e.what();
  }
}

TEST_F(Cuda, CachingAllocatorReusesMemory) {
  cuda::empty_cache();
  const auto before = cuda::memory_stats();
  { Tensor t = Tensor::zeros({1 << 20}, DType::Float32, Device::CUDA); }
  const auto after_free = cuda::memory_stats();
  EXPECT_EQ(after_free.in_use, before.in_use);
  EXPECT_GE(after_free.cached, size_t(4) << 20);
  EXPECT_GE(after_free.peak, before.in_use + (size_t(4) << 20));
}

// Every differentiable op's backward on the GPU, float64, finite differences.
class CudaGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(CudaGradcheck, BackwardMatchesFiniteDifferencesOnTheGpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  const ag::GradcheckCase& check = ag::builtin_gradchecks().cases()[GetParam()];
  const ag::GradcheckResult result = ag::run_gradcheck(check, 5, Device::CUDA);
  EXPECT_TRUE(result.passed) << check.op << " " << check.label << ": " << result.max_error << " " << result.failure;
}

INSTANTIATE_TEST_SUITE_P(AllOps, CudaGradcheck, ::testing::Range<size_t>(0, ag::builtin_gradchecks().cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = ag::builtin_gradchecks().cases()[info.param].op + "_" + std::to_string(info.param);
                           for (char& c : n) if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });
