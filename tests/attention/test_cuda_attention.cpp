// The attention kernels on the GPU against the CPU, the attention cases of the generic checker run
// on the GPU in float64, and the attention layer with every PE on the GPU against the same layer on
// the CPU. Skips with a message when there is no device.
#include "attention/attention_gradchecks.hpp"
#include "attention/causal_product.hpp"
#include "attention/feature_maps.hpp"
#include "attention/linear_attention.hpp"
#include "attention/positional_attention.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tests/support/skip_without_gpu.hpp"
#include "tests/support/tensor_compare.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cmath>

using namespace stripes;
using namespace stripes::attention;

TEST(CudaAttention, CausalProductKernelMatchesTheCpu) {
  STRIPES_SKIP_WITHOUT_GPU();
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

TEST(CudaAttention, ChunkedCausalProductMatchesTheCpu) {
  // The GPU's chunked kernel (chunk 64, attention/cuda/causal_product_kernels.cuh) and the composed
  // form (cuBLAS over every chunk, a cumsum of the chunk states) against the CPU's chunked kernel,
  // through causal_product_chunked_forward and the accumulating form the backward uses. P = 128
  // needs 81 KiB of shared memory in float64: the launcher's opt-in above 48 KiB.
  STRIPES_SKIP_WITHOUT_GPU();
  cuda::set_poison_new_allocations(true);
  struct Sizes {
    int64_t p, q;
  };
  for (const Sizes sizes : {Sizes{16, 9}, Sizes{40, 37}, Sizes{128, 65}}) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (bool reverse : {false, true}) {
        Generator g(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
        // 150 = 2·64 + 22: a partial last chunk
        const Tensor a = Tensor::randn({2, 3, 150, sizes.p}, g, dtype), b = Tensor::randn({2, 3, 150, sizes.p}, g, dtype);
        const Tensor c = Tensor::randn({2, 3, 150, sizes.q}, g, dtype);
        const Tensor a_gpu = a.to(Device::CUDA), b_gpu = b.to(Device::CUDA), c_gpu = c.to(Device::CUDA);
        const double bound = dtype == DType::Float32 ? 1e-5 : 1e-10;
        const std::string label = fmt::format("P {} Q {} {} reverse {}", sizes.p, sizes.q, dtype_name(dtype), reverse);
        const Tensor cpu = causal_product_chunked_forward(a, b, c, reverse, 64);
        const Tensor gpu = causal_product_chunked_forward(a_gpu, b_gpu, c_gpu, reverse, 64);
        EXPECT_EQ(gpu.device(), Device::CUDA);
        EXPECT_LT(test::norm_relative_error(gpu, cpu), bound) << "kernel " << label;
        Tensor accumulated = c_gpu.clone();
        causal_product_chunked_accumulate(accumulated, a_gpu, b_gpu, c_gpu, reverse, 64);
        EXPECT_LT(test::norm_relative_error(accumulated, cpu + c), bound) << "kernel, accumulating " << label;
#ifdef STRIPES_HAVE_CUDA  // (the launcher exists in CUDA builds only)
        for (int64_t groups : {1, 2, 3}) {  // the sequence in 1, 2 and 3 groups of chunks (the launcher's choice above)
          Tensor grouped = Tensor::empty(c_gpu.shape(), dtype, Device::CUDA);
          cuda_kernels::causal_product_chunked_cuda(grouped, a_gpu, b_gpu, c_gpu, reverse, false, groups);
          EXPECT_LT(test::norm_relative_error(grouped, cpu), bound) << "kernel, " << groups << " groups, " << label;
        }
#endif
        const Tensor composed = causal_product_chunked_composed(a_gpu, b_gpu, c_gpu, reverse, 64);
        EXPECT_EQ(composed.device(), Device::CUDA);
        EXPECT_LT(test::norm_relative_error(composed, cpu), bound) << "composed " << label;
      }
    }
  }
  cuda::set_poison_new_allocations(false);
}

TEST(CudaAttention, FavorRotationCodeAndFilterKernelsMatchTheCpu) {
  // favor_features (cuBLAS u = x W, then attention/cuda/favor_features_kernels.cuh) and rotate_pairs
  // (attention/cuda/rotate_pairs_kernels.cuh) on the GPU against the CPU ops: values and gradients,
  // on a strided x and angles broadcast over the batch, as RoPE/RoPEPool and FAVOR+ have them.
  STRIPES_SKIP_WITHOUT_GPU();
  cuda::set_poison_new_allocations(true);
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const double bound = dtype == DType::Float32 ? 1e-5 : 1e-10;
    Generator g(uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
    for (bool stabilize : {false, true}) {
      const Tensor x = Tensor::randn({2, 37, 3, 16}, g, dtype).transpose(1, 2);  // [B, H, T, d], strided
      const Tensor w = draw_random_projection(16, 150, g, dtype);
      const Tensor grad_phi = Tensor::randn({2, 3, 37, 300}, g, dtype);
      ag::Var x_cpu(x, true), x_gpu(x.to(Device::CUDA), true);
      const ag::Var phi_cpu = favor_features(x_cpu, w, stabilize), phi_gpu = favor_features(x_gpu, w.to(Device::CUDA), stabilize);
      phi_cpu.backward(grad_phi);
      phi_gpu.backward(grad_phi.to(Device::CUDA));
      EXPECT_EQ(phi_gpu.value().device(), Device::CUDA);
      EXPECT_LT(test::norm_relative_error(phi_gpu.value(), phi_cpu.value()), bound) << "favor φ, stabilize " << stabilize;
      EXPECT_LT(test::norm_relative_error(x_gpu.grad(), x_cpu.grad()), bound) << "favor ∂x, stabilize " << stabilize;
    }
    for (bool pooled : {false, true}) {
      const Tensor x = Tensor::randn({2, 37, 3, 16}, g, dtype).transpose(1, 2);
      const Tensor c = Tensor::randn({1, 3, 37, 8}, g, dtype), s = Tensor::randn({1, 3, 37, 8}, g, dtype);
      const Tensor grad_y = Tensor::randn({2, 3, 37, pooled ? 8 : 16}, g, dtype);
      ag::Var xc(x, true), cc(c, true), sc(s, true);
      ag::Var xg(x.to(Device::CUDA), true), cg(c.to(Device::CUDA), true), sg(s.to(Device::CUDA), true);
      const ag::Var y_cpu = rotate_pairs(xc, cc, sc, pooled), y_gpu = rotate_pairs(xg, cg, sg, pooled);
      y_cpu.backward(grad_y);
      y_gpu.backward(grad_y.to(Device::CUDA));
      EXPECT_LT(test::norm_relative_error(y_gpu.value(), y_cpu.value()), bound) << "rotate y, pooled " << pooled;
      EXPECT_LT(test::norm_relative_error(xg.grad(), xc.grad()), bound) << "rotate ∂x, pooled " << pooled;
      EXPECT_LT(test::norm_relative_error(cg.grad(), cc.grad()), bound) << "rotate ∂c, pooled " << pooled;
      EXPECT_LT(test::norm_relative_error(sg.grad(), sc.grad()), bound) << "rotate ∂s, pooled " << pooled;
    }
    {  // convSPE's depthwise filter (attention/cuda/depthwise_filter_kernels.cuh), a strided noise view
      const Tensor filter = Tensor::randn({6, 32}, g, dtype);
      const Tensor noise = Tensor::randn({6, 37 + 31, 2 * 64}, g, dtype).slice(-1, 0, 2 * 64, 2);
      const Tensor grad_y = Tensor::randn({6, 37, 64}, g, dtype);
      ag::Var f_cpu(filter, true), f_gpu(filter.to(Device::CUDA), true);
      const ag::Var y_cpu = depthwise_filter(f_cpu, noise, 37), y_gpu = depthwise_filter(f_gpu, noise.to(Device::CUDA), 37);
      y_cpu.backward(grad_y);
      y_gpu.backward(grad_y.to(Device::CUDA));
      EXPECT_EQ(y_gpu.grad_fn()->op, "depthwise_filter");
      EXPECT_LT(test::norm_relative_error(y_gpu.value(), y_cpu.value()), bound) << "depthwise filter y";
      EXPECT_LT(test::norm_relative_error(f_gpu.grad(), f_cpu.grad()), bound) << "depthwise filter ∂f";
    }
    for (bool pooled : {false, true}) {  // per-dimension codes (attention/cuda/dimension_codes_kernels.cuh)
      for (int64_t sines : {1, 5}) {
        const Tensor a = Tensor::randn({2, 37, 3, 16}, g, dtype).transpose(1, 2);
        const Tensor c = Tensor::randn({1, 3, 37, 16 * sines}, g, dtype), s = Tensor::randn({1, 3, 37, 16 * sines}, g, dtype);
        const Tensor grad_y = Tensor::randn({2, 3, 37, pooled ? 2 * sines : 32 * sines}, g, dtype);
        ag::Var ac(a, true), cc(c, true), sc(s, true);
        ag::Var a_gpu(a.to(Device::CUDA), true), cg(c.to(Device::CUDA), true), sg(s.to(Device::CUDA), true);
        const ag::Var y_cpu = dimension_codes(ac, cc, sc, pooled), y_gpu = dimension_codes(a_gpu, cg, sg, pooled);
        y_cpu.backward(grad_y);
        y_gpu.backward(grad_y.to(Device::CUDA));
        EXPECT_EQ(y_gpu.grad_fn()->op, "dimension_codes");
        const std::string what = fmt::format("pooled {} K {}", pooled, sines);
        EXPECT_LT(test::norm_relative_error(y_gpu.value(), y_cpu.value()), bound) << "codes y, " << what;
        EXPECT_LT(test::norm_relative_error(a_gpu.grad(), ac.grad()), bound) << "codes ∂a, " << what;
        EXPECT_LT(test::norm_relative_error(cg.grad(), cc.grad()), bound) << "codes ∂c, " << what;
        EXPECT_LT(test::norm_relative_error(sg.grad(), sc.grad()), bound) << "codes ∂s, " << what;
      }
    }
  }
  cuda::set_poison_new_allocations(false);
}

class CudaAttentionGradcheck : public ::testing::TestWithParam<size_t> {};

TEST_P(CudaAttentionGradcheck, BackwardMatchesFiniteDifferencesOnTheGpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  // Module cases (pe/..., attention/...) build their module on the CPU and bind its parameters to
  // the checker's inputs, which live on the GPU: the PE or layer then computes on the GPU, with its
  // host-made positions, tables and random features copied over and its noise drawn there.
  const ag::GradcheckCase& check = attention_gradchecks().cases()[GetParam()];
  const ag::GradcheckResult result = ag::run_gradcheck(check, 5, Device::CUDA);
  EXPECT_TRUE(result.passed) << check.op << " " << check.label << ": " << result.max_error << " " << result.failure;
}

INSTANTIATE_TEST_SUITE_P(KernelCases, CudaAttentionGradcheck, ::testing::Range<size_t>(0, attention_gradchecks().cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string n = attention_gradchecks().cases()[info.param].op + "_" + std::to_string(info.param);
                           for (char& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

// ---- the whole layer, every PE: GPU against CPU ------------------------------------------------------

namespace {

// One layer configuration: a PE and an attention kind, and the variants whose code paths differ.
struct LayerCase {
  std::string pe;
  std::string kind;
  std::string feature_map = "favor";
  std::string causal_algorithm = "chunked";
  int64_t causal_chunk = 4;    // 64: the GPU's chunked kernel (any other size runs composed there)
  bool sff = false;            // fstripe: the noisy SFF form
  bool fstripe1_pooled = true;
  bool positions = true;       // false: undefined positions (the time index, built on the host)

  std::string name() const {
    std::string n = pe + "_" + kind;
    if (feature_map != "favor") n += "_" + feature_map;
    if (causal_algorithm != "chunked") n += "_" + causal_algorithm;
    if (causal_chunk != 4) n += "_chunk" + std::to_string(causal_chunk);
    if (sff) n += "_sff";
    if (!fstripe1_pooled) n += "_unpooled";
    if (!positions) n += "_time_index";
    for (char& ch : n) if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    return n;
  }
};

// gtest names a case by its name, not by its bytes (test listings and failure messages).
void PrintTo(const LayerCase& c, std::ostream* os) { *os << c.name(); }

// Every PE with both kinds (stripe: softmax only), and the variants that take other paths.
std::vector<LayerCase> every_layer_case() {
  std::vector<LayerCase> cases;
  for (const std::string& pe : positional_encoding_names()) {
    if (pe != "stripe") cases.push_back({.pe = pe, .kind = "linear"});
    cases.push_back({.pe = pe, .kind = "softmax"});
  }
  cases.push_back({.pe = "fstripe", .kind = "linear", .sff = true});
  cases.push_back({.pe = "fstripe1", .kind = "linear", .fstripe1_pooled = false});
  cases.push_back({.pe = "rope-b", .kind = "linear", .positions = false});
  cases.push_back({.pe = "rope-c", .kind = "linear", .feature_map = "trig"});
  cases.push_back({.pe = "nope", .kind = "linear", .feature_map = "elu"});
  cases.push_back({.pe = "ropepool", .kind = "linear", .causal_algorithm = "prefix"});
  cases.push_back({.pe = "ropepool", .kind = "linear", .causal_algorithm = "chunked-composed"});
  cases.push_back({.pe = "fstripe1", .kind = "linear", .causal_chunk = 64});
  cases.push_back({.pe = "spe-sine", .kind = "linear", .causal_chunk = 64});
  return cases;
}

constexpr int64_t kBatch = 2, kSteps = 13, kModelDim = 16;

AttentionConfig layer_config(const LayerCase& c, DType dtype) {
  AttentionConfig config;
  config.kind = c.kind;
  config.model_dim = kModelDim;
  config.heads = 2;  // D = 8
  config.feature_map = c.feature_map;
  config.features = 16;
  config.causal_algorithm = c.causal_algorithm;
  config.causal_chunk = c.causal_chunk;  // 4: T = 13 is three full chunks and a partial one on the CPU
  config.dtype = dtype;
  config.seed = 5;
  config.pe.name = c.pe;
  config.pe.position_dim = c.pe == "fstripe" ? 3 : 1;
  config.pe.num_sines = 3;
  config.pe.realizations = 6;
  config.pe.conv_kernel = 4;
  config.pe.sff = c.sff;
  config.pe.fstripe1_pooled = c.fstripe1_pooled;
  return config;
}

struct LayerRun {
  Tensor output;                                         // on the host
  std::vector<std::pair<std::string, Tensor>> gradients; // "x" and every parameter, on the host
};

// A fresh layer (the same seed: the same initial parameters, random features and PE noise) with its
// parameters on `device`, one training forward on inputs on `device` and the backward of
// Σ output ⊙ grad_output.
LayerRun run_layer(const AttentionConfig& config, const Tensor& x, const Tensor& positions, const Tensor& grad_output,
                   Device device) {
  PositionalAttention layer(config, 0);
  layer.to(device);
  ag::Var input(x.to(device), true);
  const ag::Var output = layer.forward(input, {positions.defined() ? positions.to(device) : Tensor(), true});
  EXPECT_EQ(output.value().device(), device);
  output.backward(grad_output.to(device));
  LayerRun run;
  run.output = output.value().to(Device::CPU);
  run.gradients.emplace_back("x", input.grad().to(Device::CPU));
  for (const auto& [name, parameter] : layer.named_parameters()) {
    const Tensor& grad = parameter.grad();
    if (grad.defined()) {
      EXPECT_EQ(grad.device(), device) << name;
    }
    run.gradients.emplace_back(name, grad.defined() ? grad.to(Device::CPU) : Tensor());
  }
  return run;
}

double norm(const Tensor& t) { return std::sqrt(sum(t.to(DType::Float64) * t.to(DType::Float64)).item()); }

}  // namespace

class CudaAttentionLayer : public ::testing::TestWithParam<LayerCase> {};

// The layer with its parameters and inputs on the GPU computes what it computes on the CPU: the
// same output, the same gradient of the input and of every parameter (relative errors below 1e-10
// in float64, 1e-5 in float32). Both runs see the same random draws (the counter-based generator).
TEST_P(CudaAttentionLayer, MatchesTheCpuWithParametersMovedToTheGpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  const LayerCase& c = GetParam();
  for (DType dtype : {DType::Float64, DType::Float32}) {
    const AttentionConfig config = layer_config(c, dtype);
    Generator g(41);
    const Tensor x = Tensor::randn({kBatch, kSteps, kModelDim}, g, dtype);
    const Shape positions_shape =
        config.pe.position_dim == 1 ? Shape{kBatch, kSteps} : Shape{kBatch, kSteps, config.pe.position_dim};
    const Tensor positions = c.positions ? Tensor::randn(positions_shape, g, dtype) * 3.0 : Tensor();
    const Tensor grad_output = Tensor::randn({kBatch, kSteps, kModelDim}, g, dtype);
    const LayerRun cpu = run_layer(config, x, positions, grad_output, Device::CPU);
    const LayerRun gpu = run_layer(config, x, positions, grad_output, Device::CUDA);

    const double tolerance = dtype == DType::Float64 ? 1e-10 : 1e-5;
    const std::string what = c.name() + " " + std::string(dtype_name(dtype));
    EXPECT_LT(stripes::test::norm_relative_error(gpu.output, cpu.output), tolerance) << "output, " << what;
    ASSERT_EQ(gpu.gradients.size(), cpu.gradients.size()) << what;
    double total = 0;  // ‖all gradients‖
    for (const auto& [name, grad] : cpu.gradients) total += grad.defined() ? std::pow(norm(grad), 2) : 0.0;
    total = std::sqrt(total);
    for (size_t i = 0; i < cpu.gradients.size(); ++i) {
      const auto& [name, reference] = cpu.gradients[i];
      const Tensor& value = gpu.gradients[i].second;
      ASSERT_EQ(value.defined(), reference.defined()) << "gradient of " << name << ", " << what;
      if (!reference.defined()) continue;
      ASSERT_EQ(value.shape(), reference.shape()) << "gradient of " << name << ", " << what;
      // Relative to the gradient's own norm, or to that of all gradients when its own is below 1e-3
      // of it: a gradient that is zero up to rounding (k_proj.bias under softmax, which is
      // invariant to a shift of every score in a row) has no digits to compare.
      const double own = norm(reference), scale = own >= 1e-3 * total ? own : total;
      const double error = norm(value - reference) / scale;
      EXPECT_LT(error, tolerance) << "gradient of " << name << ", " << what;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(EveryPe, CudaAttentionLayer, ::testing::ValuesIn(every_layer_case()),
                         [](const ::testing::TestParamInfo<LayerCase>& info) { return info.param.name(); });
