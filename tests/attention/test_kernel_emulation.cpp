// The attention layer's GPU kernels (attention/cuda/*_kernels.cuh) run on the CPU by
// tensor/cuda/cpu_emulator.hpp — one std::thread per CUDA thread, a barrier per __syncthreads —
// against the CPU ops: the causal product's against causal_product_reference (the masked T×T
// product), rotate_pairs', dimension_codes', FAVOR+'s and convSPE's filter's against the CPU ops' values and gradients. These run
// everywhere, GPU or not: they check the kernels' index math, partial tiles and barriers; the GPU
// tests (test_cuda_attention.cpp) check the same kernels on the hardware.
#include "attention/causal_product.hpp"
#include "attention/cuda/causal_product_kernels.cuh"
#include "attention/cuda/favor_features_kernels.cuh"
#include "attention/cuda/depthwise_filter_kernels.cuh"
#include "attention/cuda/dimension_codes_kernels.cuh"
#include "attention/cuda/rotate_pairs_kernels.cuh"
#include "attention/feature_maps.hpp"
#include "attention/positional_encoding.hpp"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

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

// The launcher's two launches, on the emulator: the groups' state totals (G > 1), then the product.
template <typename T>
Tensor run_chunked_kernel(const Tensor& a, const Tensor& b, const Tensor& c, bool reverse, const Tensor* base,
                          int64_t groups) {
  const int64_t sequences = a.size(0), steps = a.size(1), p = a.size(2), q = c.size(2);
  const int64_t chunks = (steps + cuda_kernels::kChunkRows - 1) / cuda_kernels::kChunkRows;
  const int64_t chunks_per_group = (chunks + groups - 1) / groups;
  EXPECT_EQ((chunks + chunks_per_group - 1) / chunks_per_group, groups) << "a test asked for an empty group";
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor out = base ? base->contiguous().clone() : Tensor::full(c.shape(), nan, c.dtype());
  Tensor group_states = Tensor::full({sequences, groups, p, q}, nan, c.dtype());
  const emulator::Dim3 grid{unsigned(sequences),
                            unsigned((q + cuda_kernels::kChunkColumnsPerBlock - 1) / cuda_kernels::kChunkColumnsPerBlock),
                            unsigned(groups)};
  const size_t shared = cuda_kernels::causal_product_chunked_shared_bytes(p, sizeof(T));
  if (groups > 1) {
    emulator::launch(grid, {cuda_kernels::kChunkThreads}, shared, cuda_kernels::causal_product_group_states_kernel<T>,
                     group_states.mutable_data<T>(), b.data<T>(), c.data<T>(), steps, p, q, chunks_per_group);
  }
  emulator::launch(grid, {cuda_kernels::kChunkThreads}, shared, cuda_kernels::causal_product_chunked_kernel<T>,
                   out.mutable_data<T>(), groups > 1 ? group_states.data<T>() : static_cast<const T*>(nullptr),
                   a.data<T>(), b.data<T>(), c.data<T>(), steps, p, q, chunks_per_group, reverse, base != nullptr);
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
  // Every shape with one group of chunks, and where there are several chunks, with two groups and
  // with one chunk per group: the groups' totals must carry the state across (either direction).
  uint64_t seed = 100;
  for (const ProductShape& s : kShapes) {
    const int64_t chunks = (s.steps + cuda_kernels::kChunkRows - 1) / cuda_kernels::kChunkRows;
    std::vector<int64_t> group_counts{1};
    if (chunks >= 2) group_counts.push_back(2);
    if (chunks >= 3) group_counts.push_back(chunks);
    for (int64_t groups : group_counts) {
      for (DType dtype : {DType::Float32, DType::Float64}) {
        for (bool reverse : {false, true}) {
          for (bool accumulate : {false, true}) {
            // (several groups: each direction once, in float64, to keep the emulation short)
            if (groups > 1 && (dtype == DType::Float32 || accumulate != reverse)) continue;
            const Tensor a = test::randn({s.sequences, s.steps, s.p}, ++seed, dtype);
            const Tensor b = test::randn({s.sequences, s.steps, s.p}, ++seed, dtype);
            const Tensor c = test::randn({s.sequences, s.steps, s.q}, ++seed, dtype);
            const Tensor base = test::randn({s.sequences, s.steps, s.q}, ++seed, dtype);
            Tensor reference =
                causal_product_reference(a.to(DType::Float64), b.to(DType::Float64), c.to(DType::Float64), reverse);
            if (accumulate) reference = reference + base.to(DType::Float64);
            const Tensor out = dispatch_floating(dtype, "test", [&]<typename T>() {
              return run_chunked_kernel<T>(a, b, c, reverse, accumulate ? &base : nullptr, groups);
            });
            EXPECT_LT(test::norm_relative_error(out, reference), tolerance(dtype))
                << "T " << s.steps << " P " << s.p << " Q " << s.q << " groups " << groups << " " << dtype_name(dtype)
                << " reverse " << reverse << " accumulate " << accumulate;
          }
        }
      }
    }
  }
}

TEST(KernelEmulation, ChunkGroupsFillTheDeviceWithoutEmptyGroups) {
  // The launcher's G: 8 sequences × 3 column tiles on 132 multiprocessors want 528 blocks: 22
  // groups, but 64 chunks in groups of K = 3 make 22 groups, none empty; never more than the chunks;
  // one when the sequences alone fill the device.
  EXPECT_EQ(cuda_kernels::causal_product_chunk_groups(8, 3, 64, 132), 22);
  EXPECT_EQ(cuda_kernels::causal_product_chunk_groups(8, 3, 5, 132), 5);
  EXPECT_EQ(cuda_kernels::causal_product_chunk_groups(64, 3, 16, 132), 3);
  EXPECT_EQ(cuda_kernels::causal_product_chunk_groups(1024, 3, 16, 132), 1);
  EXPECT_EQ(cuda_kernels::causal_product_chunk_groups(1, 1, 1, 132), 1);
  for (int64_t chunks = 1; chunks <= 70; ++chunks) {
    const int64_t groups = cuda_kernels::causal_product_chunk_groups(1, 1, chunks, 132);
    const int64_t per_group = (chunks + groups - 1) / groups;
    EXPECT_GT(chunks, (groups - 1) * per_group) << chunks << " chunks: group " << groups << " is empty";
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

namespace {

Tensor nan_tensor(const Shape& shape, DType dtype) {
  return Tensor::full(shape, std::numeric_limits<double>::quiet_NaN(), dtype);
}

// A 1-d launch of `threads` per block over n elements, as cuda::launch_shape sizes it (capped low
// here: the emulator's blocks run one after another, so the grid-stride loops are exercised too).
emulator::Dim3 grid_for(int64_t n, unsigned threads) {
  return {unsigned(std::max<int64_t>(1, std::min<int64_t>((n + threads - 1) / threads, 3)))};
}

}  // namespace

TEST(KernelEmulation, RotatePairsKernelsMatchTheCpuOp) {
  // x a strided view [B, H, T, D] (heads split off a [B, T, H·D] tensor), the angles broadcast over
  // the batch ([1, H, T, D/2]), as RoPE's encode has them.
  uint64_t seed = 300;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool pooled : {false, true}) {
      const int64_t batch = 2, heads = 3, steps = 7, dim = 6, pairs = dim / 2;
      const Tensor x = test::randn({batch, steps, heads, dim}, ++seed, dtype).transpose(1, 2);  // [B, H, T, D], strided
      const Tensor c = test::randn({1, heads, steps, pairs}, ++seed, dtype), s = test::randn({1, heads, steps, pairs}, ++seed, dtype);
      const Shape out_shape = {batch, heads, steps, pooled ? pairs : dim};
      const Tensor grad_y = test::randn(out_shape, ++seed, dtype);
      ag::Var xv(x, true), cv(c, true), sv(s, true);
      const ag::Var y = rotate_pairs(xv, cv, sv, pooled);
      y.backward(grad_y);

      const int64_t rows = batch * heads * steps;
      Tensor y_kernel = nan_tensor(out_shape, dtype), dx = nan_tensor(x.shape(), dtype);
      Tensor dc = nan_tensor({batch, heads, steps, pairs}, dtype), ds = nan_tensor({batch, heads, steps, pairs}, dtype);
      dispatch_floating(dtype, "test", [&]<typename T>() {
        const auto x_rows = row_offset_table(x.shape(), x);
        const auto c_rows = row_offset_table(x.shape(), c), s_rows = row_offset_table(x.shape(), s);
        emulator::launch(grid_for(rows * pairs, 32), {32}, 0, cuda_kernels::rotate_pairs_forward_kernel<T>,
                         y_kernel.mutable_data<T>(), x.raw_data<T>(), c.data<T>(), s.data<T>(), x_rows, c_rows, s_rows, rows,
                         pairs, pooled);
        emulator::launch(grid_for(rows * pairs, 32), {32}, 0, cuda_kernels::rotate_pairs_backward_kernel<T>,
                         dx.mutable_data<T>(), dc.mutable_data<T>(), ds.mutable_data<T>(), grad_y.data<T>(),
                         x.raw_data<T>(), c.data<T>(), s.data<T>(), x_rows, c_rows, s_rows, rows, pairs, pooled);
      });
      const std::string label = std::string(dtype_name(dtype)) + (pooled ? " pooled" : "");
      EXPECT_LT(test::norm_relative_error(y_kernel, y.value()), tolerance(dtype)) << "y " << label;
      EXPECT_LT(test::norm_relative_error(dx, xv.grad()), tolerance(dtype)) << "dx " << label;
      // the kernel writes ∂c, ∂s at x's leading shape; the op sums them over the broadcast batch
      EXPECT_LT(test::norm_relative_error(sum(dc, {0}, true), cv.grad()), tolerance(dtype)) << "dc " << label;
      EXPECT_LT(test::norm_relative_error(sum(ds, {0}, true), sv.grad()), tolerance(dtype)) << "ds " << label;
    }
  }
}

TEST(KernelEmulation, FavorKernelsMatchTheCpuOp) {
  // φ, and ∂L/∂x assembled as the GPU op does (the kernels plus ∂L/∂(xW) Wᵀ and −σ s² x), against
  // the CPU op. h = 150 features per sign spans two rounds of the 128 threads. A tie in max |u_j|
  // (φ and ∂L/∂x do not depend on how it is broken) checks that the argmax goes to the smallest j,
  // as on the CPU.
  uint64_t seed = 400;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool stabilize : {false, true}) {
      const int64_t rows = 5, d = 6, half = 150;
      Generator generator(++seed);
      Tensor w = draw_random_projection(d, half, generator, dtype, false);
      // columns 3 and 7 opposite and ten times longer than the rest: max |u_j| is a tie of j = 3 and 7
      w.slice(1, 3, 4).copy_(w.slice(1, 3, 4) * 10.0);
      w.slice(1, 7, 8).copy_(w.slice(1, 3, 4) * -1.0);
      const Tensor x = test::randn({rows, d}, ++seed, dtype), grad_phi = test::randn({rows, 2 * half}, ++seed, dtype);
      ag::Var xv(x, true);
      const ag::Var phi = favor_features(xv, w, stabilize);
      phi.backward(grad_phi);

      const double scale = std::pow(double(d), -0.25), log_half_m = 0.5 * std::log(double(2 * half));
      const Tensor u = matmul(x, w);
      Tensor phi_kernel = nan_tensor({rows, 2 * half}, dtype), grad_u = nan_tensor({rows, half}, dtype);
      Tensor sigma = nan_tensor({rows, 1}, dtype);
      Tensor argmax = Tensor::full({rows}, -1.0, DType::Int64);
      dispatch_floating(dtype, "test", [&]<typename T>() {
        emulator::launch({2}, {cuda_kernels::kFavorThreads}, 0, cuda_kernels::favor_exponentials_kernel<T>,
                         phi_kernel.mutable_data<T>(), argmax.mutable_data<int64_t>(), u.data<T>(), x.data<T>(), rows,
                         half, d, T(scale), T(log_half_m), stabilize);
        emulator::launch({2}, {cuda_kernels::kFavorThreads}, 0, cuda_kernels::favor_backward_rows_kernel<T>,
                         grad_u.mutable_data<T>(), sigma.mutable_data<T>(), grad_phi.data<T>(), phi_kernel.data<T>(),
                         argmax.data<int64_t>(), rows, half, T(scale), stabilize);
      });
      Tensor grad_x = matmul(grad_u, w.transpose(0, 1));
      if (!stabilize) grad_x = grad_x + x * (sigma * (-scale * scale));
      const std::string label = std::string(dtype_name(dtype)) + (stabilize ? " stabilized" : " plain");
      EXPECT_LT(test::norm_relative_error(phi_kernel, phi.value()), tolerance(dtype)) << "phi " << label;
      EXPECT_LT(test::norm_relative_error(grad_x, xv.grad()), tolerance(dtype)) << "grad x " << label;
      if (stabilize) {  // k: the first j of the largest |u_j|, as an index of [u, −u]
        const Tensor u64 = u.to(DType::Float64);
        for (int64_t r = 0; r < rows; ++r) {
          const double* row = u64.data<double>() + r * half;
          int64_t best = 0;
          for (int64_t j = 1; j < half; ++j) best = std::abs(row[j]) > std::abs(row[best]) ? j : best;
          EXPECT_EQ(argmax.data<int64_t>()[r], row[best] >= 0 ? best : half + best) << "row " << r << " " << label;
        }
      }
    }
  }
}

TEST(KernelEmulation, DimensionCodesKernelsMatchTheCpuOp) {
  // a a strided view [B, H, T, D], the cos/sin tables broadcast over the batch, as the PEs have them;
  // pooled and interleaved, K = 1 (F-StrIPE₁) and K = 3 (the spectral PEs).
  uint64_t seed = 500;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool pooled : {false, true}) {
      for (int64_t sines : {1, 3}) {
        const int64_t batch = 2, heads = 3, steps = 7, dims = 5;
        const Tensor a = test::randn({batch, steps, heads, dims}, ++seed, dtype).transpose(1, 2);
        const Tensor c = test::randn({1, heads, steps, dims * sines}, ++seed, dtype);
        const Tensor s = test::randn({1, heads, steps, dims * sines}, ++seed, dtype);
        const Shape out_shape = {batch, heads, steps, pooled ? 2 * sines : 2 * dims * sines};
        const Tensor grad_y = test::randn(out_shape, ++seed, dtype);
        ag::Var av(a, true), cv(c, true), sv(s, true);
        const ag::Var y = dimension_codes(av, cv, sv, pooled);
        y.backward(grad_y);

        const int64_t rows = batch * heads * steps;
        const Shape table_shape = {batch, heads, steps, dims * sines};
        Tensor y_kernel = nan_tensor(out_shape, dtype), da = nan_tensor(a.shape(), dtype);
        Tensor dc = nan_tensor(table_shape, dtype), ds = nan_tensor(table_shape, dtype);
        dispatch_floating(dtype, "test", [&]<typename T>() {
          const auto a_rows = row_offset_table(a.shape(), a);
          const auto c_rows = row_offset_table(a.shape(), c), s_rows = row_offset_table(a.shape(), s);
          emulator::launch(grid_for(pooled ? rows * sines : rows * dims * sines, 32), {32}, 0,
                           cuda_kernels::dimension_codes_forward_kernel<T>, y_kernel.mutable_data<T>(), a.raw_data<T>(),
                           c.data<T>(), s.data<T>(), a_rows, c_rows, s_rows, rows, dims, sines, pooled);
          emulator::launch(grid_for(rows * dims, 32), {32}, 0, cuda_kernels::dimension_codes_backward_kernel<T>,
                           da.mutable_data<T>(), dc.mutable_data<T>(), ds.mutable_data<T>(), grad_y.data<T>(),
                           a.raw_data<T>(), c.data<T>(), s.data<T>(), a_rows, c_rows, s_rows, rows, dims, sines, pooled);
        });
        const std::string label = std::string(dtype_name(dtype)) + (pooled ? " pooled" : "") + " K " + std::to_string(sines);
        EXPECT_LT(test::norm_relative_error(y_kernel, y.value()), tolerance(dtype)) << "y " << label;
        EXPECT_LT(test::norm_relative_error(da, av.grad()), tolerance(dtype)) << "da " << label;
        EXPECT_LT(test::norm_relative_error(sum(dc, {0}, true), cv.grad()), tolerance(dtype)) << "dc " << label;
        EXPECT_LT(test::norm_relative_error(sum(ds, {0}, true), sv.grad()), tolerance(dtype)) << "ds " << label;
      }
    }
  }
}

TEST(KernelEmulation, DepthwiseFilterKernelsMatchTheCpuOp) {
  // y and ∂f against the CPU op, on a noise tensor that is a strided view (a slice of a wider draw,
  // made contiguous by the launcher as here). C·K = 15 (channel, tap) pairs on 4 blocks exercise
  // the backward's grid-stride loop; T·R = 300 products per pair, more than one round of threads.
  uint64_t seed = 600;
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const int64_t channels = 3, taps = 5, steps = 20, realizations = 15;
    const Tensor filter = test::randn({channels, taps}, ++seed, dtype);
    const Tensor noise = test::randn({channels, steps + taps - 1, 2 * realizations}, ++seed, dtype).slice(-1, 0, 2 * realizations, 2);
    const Tensor grad_y = test::randn({channels, steps, realizations}, ++seed, dtype);
    ag::Var fv(filter, true);
    const ag::Var y = depthwise_filter(fv, noise, steps);
    y.backward(grad_y);

    const Tensor x = noise.contiguous();
    Tensor y_kernel = nan_tensor({channels, steps, realizations}, dtype), grad_filter = nan_tensor({channels, taps}, dtype);
    dispatch_floating(dtype, "test", [&]<typename T>() {
      emulator::launch(grid_for(channels * steps * realizations, 64), {64}, 0, cuda_kernels::depthwise_filter_forward_kernel<T>,
                       y_kernel.mutable_data<T>(), filter.data<T>(), x.data<T>(), channels, steps, taps, realizations);
      emulator::launch({4}, {cuda_kernels::kFilterThreads}, 0, cuda_kernels::depthwise_filter_backward_kernel<T>,
                       grad_filter.mutable_data<T>(), grad_y.data<T>(), x.data<T>(), channels, steps, taps, realizations);
    });
    EXPECT_LT(test::norm_relative_error(y_kernel, y.value()), tolerance(dtype)) << "y " << dtype_name(dtype);
    EXPECT_LT(test::norm_relative_error(grad_filter, fv.grad()), tolerance(dtype)) << "grad f " << dtype_name(dtype);
  }
}
