// The CUDA backend against the CPU: every kernel on random inputs (fresh per run, never zeros),
// outputs poisoned with NaN before each run so unwritten elements show, relative error
// ‖gpu − cpu‖/‖cpu‖ under 1e-5 in float32 and 1e-10 in float64; and every differentiable op's
// gradient checked on the GPU in float64. Skips with a message when there is no device.
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"
#include "tests/support/skip_without_gpu.hpp"
#include "tests/support/tensor_compare.hpp"

#include <fmt/format.h>
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

// ---- the fused row kernels (autograd/ops/cuda/): layer norm, softmax / log_softmax, BCE ------------

namespace {

using OpOnVars = std::function<ag::Var(const std::vector<ag::Var>&)>;

// f on `inputs` made leaves on `device`, and the backward of Σ f ⊙ grad_output:
// {output, ∂/∂input 0, ∂/∂input 1, ...}, on the host.
std::vector<Tensor> run_with_gradients(const OpOnVars& f, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                                       Device device) {
  std::vector<ag::Var> leaves;
  for (const Tensor& t : inputs) leaves.emplace_back(t.to(device), true);
  const ag::Var output = f(leaves);
  EXPECT_EQ(output.value().device(), device);
  output.backward(grad_output.to(device));
  std::vector<Tensor> results{output.value().to(Device::CPU)};
  for (const ag::Var& leaf : leaves) {
    EXPECT_EQ(leaf.grad().device(), device);
    results.push_back(leaf.grad().to(Device::CPU));
  }
  return results;
}

// The op and its backward on the GPU against the CPU; the GPU results (fresh buffers, poisoned) must
// hold no NaN, and a second GPU run must give the same bits (no atomics in the kernels).
void expect_op_parity(const std::string& what, const OpOnVars& f, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                      double tol) {
  const std::vector<Tensor> cpu = run_with_gradients(f, inputs, grad_output, Device::CPU);
  const std::vector<Tensor> gpu = run_with_gradients(f, inputs, grad_output, Device::CUDA);
  const std::vector<Tensor> again = run_with_gradients(f, inputs, grad_output, Device::CUDA);
  for (size_t i = 0; i < cpu.size(); ++i) {
    const std::string name = what + (i == 0 ? ": output" : ": gradient of input " + std::to_string(i - 1));
    EXPECT_TRUE(all_finite(gpu[i])) << name << ": NaN in the GPU result (an unwritten element?)";
    EXPECT_LT(stripes::test::norm_relative_error(gpu[i], cpu[i]), tol) << name;
    EXPECT_EQ(gpu[i].to(DType::Float64).to_vector<double>(), again[i].to(DType::Float64).to_vector<double>())
        << name << ": two GPU runs differ";
  }
}

}  // namespace

TEST_F(Cuda, FusedLayerNormMatchesTheCpu) {
  // C = 7 (a partial warp), 33, 300 (more than a 256-thread block), 1030; 210 and 260 rows: several
  // 64-row blocks of ∂w/∂b's partial sums, the last one partial.
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& shape : {Shape{5, 7}, Shape{3, 70, 33}, Shape{2, 130, 300}, Shape{4, 1030}}) {
      Generator g(fresh_seed());
      const int64_t c = shape.back();
      const Tensor x = Tensor::randn(shape, g, dtype) * 2.0 + 0.5;
      expect_op_parity(fmt::format("layer_norm {} {}", shape_str(shape), dtype_name(dtype)),
                       [](const auto& v) { return ag::layer_norm(v[0], v[1], v[2]); },
                       {x, Tensor::randn({c}, g, dtype), Tensor::randn({c}, g, dtype)}, Tensor::randn(shape, g, dtype),
                       tolerance(dtype));
    }
  }
}

TEST_F(Cuda, FusedSoftmaxAndLogSoftmaxMatchTheCpu) {
  // The last axis of contiguous tensors runs the fused kernels: rows of 1, 33 and 1500 (attention
  // scores, T × T); the middle axis and a transposed view keep the composed form.
  struct Case {
    Shape shape;
    int64_t axis;
    bool transposed;
  };
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Case& c : {Case{{5, 1}, -1, false}, Case{{70, 33}, -1, false}, Case{{2, 3, 50, 1500}, -1, false},
                          Case{{4, 9, 6}, 1, false}, Case{{33, 70}, -1, true}}) {
      for (bool log : {false, true}) {
        Generator g(fresh_seed());
        const Tensor x = Tensor::randn(c.shape, g, dtype) * 4.0;
        const Shape out_shape = c.transposed ? Shape{c.shape[1], c.shape[0]} : c.shape;
        const std::string what = fmt::format("{} {} axis {}{} {}", log ? "log_softmax" : "softmax", shape_str(c.shape),
                                             c.axis, c.transposed ? " transposed" : "", dtype_name(dtype));
        expect_op_parity(what,
                         [&](const auto& v) {
                           const ag::Var input = c.transposed ? ag::transpose(v[0], 0, 1) : v[0];
                           return log ? ag::log_softmax(input, c.axis) : ag::softmax(input, c.axis);
                         },
                         {x}, Tensor::randn(out_shape, g, dtype), tolerance(dtype));
      }
    }
  }
}

TEST_F(Cuda, FusedBinaryCrossEntropyMatchesTheCpu) {
  // 35000 = 8·4096 + 2232 elements: a partial last block of the forward's partial sums; 3·4096: none.
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (const Shape& shape : {Shape{7}, Shape{5, 1000, 7}, Shape{3, 4096}}) {
      Generator g(fresh_seed());
      const Tensor targets = Tensor::rand(shape, g, dtype);
      expect_op_parity(fmt::format("binary_cross_entropy_with_logits {} {}", shape_str(shape), dtype_name(dtype)),
                       [&](const auto& v) { return ag::binary_cross_entropy_with_logits(v[0], targets); },
                       {Tensor::randn(shape, g, dtype) * 8.0}, Tensor::scalar(0.7, dtype), tolerance(dtype));
    }
  }
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
