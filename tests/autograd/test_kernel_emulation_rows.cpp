// The GPU kernels of layer norm, softmax / log_softmax and BCE with logits
// (autograd/ops/cuda/*_kernels.cuh) run on the CPU by tensor/cuda/cpu_emulator.hpp — one std::thread
// per CUDA thread, a barrier per __syncthreads, shared memory poisoned with NaN — launched as their
// launchers (autograd/ops/cuda/*.cu) launch them, against the CPU ops. These run everywhere, GPU or
// not: they check the kernels' index math, partial blocks and barriers; the GPU tests
// (test_cuda.cpp, Cuda.Fused*) check the same kernels on the hardware.
#include "autograd/ops.hpp"
#include "autograd/ops/cuda/binary_cross_entropy_kernels.cuh"
#include "autograd/ops/cuda/layer_norm_kernels.cuh"
#include "autograd/ops/cuda/softmax_kernels.cuh"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

using namespace stripes;
namespace emulator = stripes::cuda::emulator;
namespace kernels = stripes::ag::cuda_kernels;

namespace {

double tolerance(DType dtype) { return dtype == DType::Float32 ? 1e-5 : 1e-12; }

// An output buffer every element of which a kernel must write: NaN until it does.
Tensor unwritten(const Shape& shape, DType dtype) {
  return Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), dtype);
}

// Rows that cut the kernels' blocks: a row shorter than a warp (C = 1, 7), one that leaves part of a
// 64-thread block idle (33), one longer than a 256-thread block (300: two strides per thread).
// Every emulated CUDA thread is a std::thread, each barrier wakes all of a block's: rows of more
// than a warp run over 5 rows only, to keep the tests within seconds. For ∂w/∂b, 5 rows fit one 64-row block of
// partial sums, 70 need two (the second partial), 130 three; the wide cases (several row blocks
// and column tiles at once) are LayerNormParameterSumsOverRowBlocksAndColumnTiles's.
struct RowShape {
  int64_t rows, length;
};
const RowShape kRowShapes[] = {{5, 1}, {5, 7}, {5, 33}, {5, 300}, {70, 7}};
const RowShape kLayerNormRowShapes[] = {{5, 1}, {5, 7}, {5, 33}, {5, 300}, {70, 7}, {130, 7}};

std::string label(const RowShape& s, DType dtype) {
  return "rows " + std::to_string(s.rows) + " C " + std::to_string(s.length) + " " + std::string(dtype_name(dtype));
}

// ---- layer norm ------------------------------------------------------------------------------------
// {∂w, ∂b} from the two column-sum kernels, on the grids layer_norm.cu launches them on.
template <typename T>
std::vector<Tensor> run_layer_norm_parameter_kernels(const Tensor& grad_y, const Tensor& x_hat) {
  const int64_t channels = grad_y.size(-1), rows = grad_y.numel() / channels;
  const unsigned threads = kernels::row_threads(channels);
  const int64_t row_blocks = kernels::layer_norm_row_blocks(rows);
  const unsigned column_tiles = unsigned((channels + threads - 1) / threads);
  Tensor partial_sums = unwritten({row_blocks, 2, channels}, DType::Float64);
  Tensor grad_weight = unwritten({channels}, grad_y.dtype()), grad_bias = unwritten({channels}, grad_y.dtype());
  emulator::launch({unsigned(row_blocks), column_tiles}, {threads}, 0, kernels::layer_norm_parameter_partial_sums_kernel<T>,
                   partial_sums.mutable_data<double>(), grad_y.data<T>(), x_hat.data<T>(), rows, channels);
  emulator::launch({column_tiles}, {threads}, 0, kernels::layer_norm_parameter_sums_kernel<T>, grad_weight.mutable_data<T>(),
                   grad_bias.mutable_data<T>(), partial_sums.data<double>(), row_blocks, channels);
  return {grad_weight, grad_bias};
}

// {y, x̂, r, ∂x, ∂w, ∂b} from the four kernels, on the grids layer_norm.cu launches them on.
template <typename T>
std::vector<Tensor> run_layer_norm_kernels(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& grad_y,
                                           double eps) {
  const int64_t channels = x.size(-1), rows = x.numel() / channels;
  Shape stat_shape = x.shape();
  stat_shape.back() = 1;
  Tensor y = unwritten(x.shape(), x.dtype()), x_hat = unwritten(x.shape(), x.dtype()), r = unwritten(stat_shape, x.dtype());
  Tensor grad_x = unwritten(x.shape(), x.dtype());
  const unsigned threads = kernels::row_threads(channels);
  const size_t shared = kernels::row_shared_bytes(threads);
  emulator::launch({unsigned(rows)}, {threads}, shared, kernels::layer_norm_forward_rows_kernel<T>, y.mutable_data<T>(),
                   x_hat.mutable_data<T>(), r.mutable_data<T>(), x.data<T>(), weight.data<T>(), bias.data<T>(), channels, eps);
  emulator::launch({unsigned(rows)}, {threads}, shared, kernels::layer_norm_backward_input_rows_kernel<T>,
                   grad_x.mutable_data<T>(), grad_y.data<T>(), x_hat.data<T>(), r.data<T>(), weight.data<T>(), channels);
  const std::vector<Tensor> parameters = run_layer_norm_parameter_kernels<T>(grad_y, x_hat);
  return {y, x_hat, r, grad_x, parameters[0], parameters[1]};
}

// ---- softmax, log_softmax -------------------------------------------------------------------------
// {y, ∂x} from the forward and backward kernels, one block per row as softmax.cu launches them.
template <typename T>
std::vector<Tensor> run_softmax_kernels(const Tensor& x, const Tensor& grad_y, bool log) {
  const int64_t length = x.size(-1), rows = x.numel() / length;
  Tensor y = unwritten(x.shape(), x.dtype()), grad_x = unwritten(x.shape(), x.dtype());
  const unsigned threads = kernels::row_threads(length);
  const size_t shared = kernels::row_shared_bytes(threads);
  emulator::launch({unsigned(rows)}, {threads}, shared,
                   log ? kernels::log_softmax_forward_rows_kernel<T> : kernels::softmax_forward_rows_kernel<T>,
                   y.mutable_data<T>(), x.data<T>(), length);
  emulator::launch({unsigned(rows)}, {threads}, shared,
                   log ? kernels::log_softmax_backward_rows_kernel<T> : kernels::softmax_backward_rows_kernel<T>,
                   grad_x.mutable_data<T>(), grad_y.data<T>(), y.data<T>(), length);
  return {y, grad_x};
}

// ---- BCE with logits ------------------------------------------------------------------------------
// {ℓ, ∂ℓ/∂z ∂L/∂ℓ} from the three kernels; the backward over `backward_blocks` blocks of 256 (its
// grid-stride loop covers the rest).
template <typename T>
std::vector<Tensor> run_bce_kernels(const Tensor& logits, const Tensor& targets, double grad_loss, unsigned backward_blocks) {
  const int64_t count = logits.numel(), blocks = kernels::bce_partial_sum_blocks(count);
  const size_t shared = kernels::row_shared_bytes(kernels::kBceThreads);
  Tensor partial_sums = unwritten({blocks}, DType::Float64), loss = unwritten({}, logits.dtype());
  emulator::launch({unsigned(blocks)}, {kernels::kBceThreads}, shared, kernels::bce_with_logits_partial_sums_kernel<T>,
                   partial_sums.mutable_data<double>(), logits.data<T>(), targets.data<T>(), count);
  emulator::launch({1}, {kernels::kBceThreads}, shared, kernels::bce_with_logits_mean_kernel<T>, loss.mutable_data<T>(),
                   partial_sums.data<double>(), blocks, count);
  const Tensor scale = Tensor::scalar(grad_loss, logits.dtype());
  Tensor grad = unwritten(logits.shape(), logits.dtype());
  emulator::launch({backward_blocks}, {kernels::kBceThreads}, 0, kernels::bce_with_logits_backward_kernel<T>,
                   grad.mutable_data<T>(), scale.data<T>(), logits.data<T>(), targets.data<T>(), count);
  return {loss, grad};
}

}  // namespace

TEST(KernelEmulationRows, LayerNormKernelsMatchTheComposedForm) {
  uint64_t seed = 300;
  const char* names[] = {"y", "x_hat", "r", "grad_x", "grad_weight", "grad_bias"};
  for (const RowShape& s : kLayerNormRowShapes) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      const Tensor x = test::randn({s.rows, s.length}, ++seed, dtype) * 2.0 + 0.5;
      const Tensor weight = test::randn({s.length}, ++seed, dtype), bias = test::randn({s.length}, ++seed, dtype);
      const Tensor grad_y = test::randn({s.rows, s.length}, ++seed, dtype);
      const std::vector<Tensor> reference = ag::compare_layer_norm_fused_with_composed(x, weight, bias, grad_y).composed;
      const std::vector<Tensor> out = dispatch_floating(
          dtype, "test", [&]<typename T>() { return run_layer_norm_kernels<T>(x, weight, bias, grad_y, 1e-5); });
      for (size_t i = 0; i < reference.size(); ++i) {
        EXPECT_LT(test::norm_relative_error(out[i], reference[i]), tolerance(dtype)) << names[i] << " " << label(s, dtype);
      }
    }
  }
}

TEST(KernelEmulationRows, LayerNormParameterSumsOverRowBlocksAndColumnTiles) {
  // ∂w and ∂b alone, from the composed form's x̂: grids of several 64-row blocks (the last partial)
  // by several column tiles (the last partial), which the row kernels above would make slow.
  uint64_t seed = 350;
  for (const RowShape& s : {RowShape{70, 300}, RowShape{200, 600}, RowShape{129, 257}}) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      const Tensor x = test::randn({s.rows, s.length}, ++seed, dtype) * 2.0 + 0.5;
      const Tensor weight = test::randn({s.length}, ++seed, dtype), bias = test::randn({s.length}, ++seed, dtype);
      const Tensor grad_y = test::randn({s.rows, s.length}, ++seed, dtype);
      const std::vector<Tensor> reference = ag::compare_layer_norm_fused_with_composed(x, weight, bias, grad_y).composed;
      const std::vector<Tensor> out = dispatch_floating(
          dtype, "test", [&]<typename T>() { return run_layer_norm_parameter_kernels<T>(grad_y, reference[1]); });
      EXPECT_LT(test::norm_relative_error(out[0], reference[4]), tolerance(dtype)) << "grad_weight " << label(s, dtype);
      EXPECT_LT(test::norm_relative_error(out[1], reference[5]), tolerance(dtype)) << "grad_bias " << label(s, dtype);
    }
  }
}

TEST(KernelEmulationRows, SoftmaxAndLogSoftmaxKernelsMatchTheCpu) {
  uint64_t seed = 400;
  for (const RowShape& s : kRowShapes) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      for (bool log : {false, true}) {
        // + 100, and + 800 on one element of every other row, each at another thread's position: e^x
        // overflows past 88 in float32 and past 709 in float64, so only the shift by the row's true
        // maximum keeps these finite (softmax is shift-invariant: a maximum off by a little would pass)
        Tensor x = test::randn({s.rows, s.length}, ++seed, dtype) * 4.0 + 100.0;
        for (int64_t row = 0; row < s.rows; row += 2) {
          const int64_t column = (row * 7 + 1) % s.length;
          x.select(0, row).slice(0, column, column + 1).add_(Tensor::scalar(800.0, dtype));
        }
        const Tensor grad_y = test::randn({s.rows, s.length}, ++seed, dtype);
        ag::Var input(x, true);
        const ag::Var y = log ? ag::log_softmax(input, -1) : ag::softmax(input, -1);
        y.backward(grad_y);
        const std::vector<Tensor> out =
            dispatch_floating(dtype, "test", [&]<typename T>() { return run_softmax_kernels<T>(x, grad_y, log); });
        const std::string what = std::string(log ? "log_softmax " : "softmax ") + label(s, dtype);
        EXPECT_LT(test::norm_relative_error(out[0], y.value()), tolerance(dtype)) << "y " << what;
        EXPECT_LT(test::norm_relative_error(out[1], input.grad()), tolerance(dtype)) << "grad_x " << what;
      }
    }
  }
}

TEST(KernelEmulationRows, BinaryCrossEntropyKernelsMatchTheComposedForm) {
  uint64_t seed = 500;
  // 12305 = 3·4096 + 17: a partial last block of the forward's partial sums
  for (int64_t count : {1, 7, 4096, 12305}) {
    for (DType dtype : {DType::Float32, DType::Float64}) {
      const Tensor logits = test::randn({count}, ++seed, dtype) * 8.0;  // far into both tails
      Generator generator(++seed);
      const Tensor targets = Tensor::rand({count}, generator, dtype);
      const ag::BceComparison reference = ag::compare_bce_fused_with_composed(logits, targets);
      const double grad_loss = 0.7;
      // the launcher's grid (one thread per element) for the short ones, a grid-stride loop over the longer
      const unsigned launcher_blocks = unsigned((count + kernels::kBceThreads - 1) / kernels::kBceThreads);
      for (unsigned backward_blocks : {std::min(launcher_blocks, 16u), 3u}) {
        const std::vector<Tensor> out = dispatch_floating(
            dtype, "test", [&]<typename T>() { return run_bce_kernels<T>(logits, targets, grad_loss, backward_blocks); });
        const std::string what = "N " + std::to_string(count) + " " + std::string(dtype_name(dtype)) + " backward blocks " +
                                 std::to_string(backward_blocks);
        EXPECT_LT(test::norm_relative_error(out[0], reference.composed[0]), tolerance(dtype)) << "loss " << what;
        EXPECT_LT(test::norm_relative_error(out[1], reference.composed[1] * grad_loss), tolerance(dtype)) << "gradient " << what;
      }
    }
  }
}
