// Batched matrix product on Eigen's GEMM.
//
//   out[b] = a[b] @ b[b]      a: [..., m, k]   b: [..., k, n]   out: [..., m, n]
//
// Batch dimensions broadcast (NumPy rules). Each operand's last two dims are read in place when
// they are row-major (stride [ld, 1]) or column-major (stride [1, ld], i.e. a transposed view), so
// `matmul(x, w.transpose(0, 1))` never copies w. Other layouts are made contiguous first.
// Threads: Eigen's GEMM always runs serially. Many small products are spread over the threads, one
// product per thread; a single large product is cut into one block of output rows (or columns)
// per thread (see the comment in matmul() for why not Eigen's own parallel GEMM).
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/elementwise.hpp"
#include "tensor/math.hpp"
#include "tensor/profile.hpp"

#include "tensor/eigen.hpp"

#include <chrono>

namespace stripes {

namespace {

struct MatrixOperand {
  Tensor tensor;        // possibly a contiguous copy
  bool row_major = true;
  int64_t leading = 0;  // leading dimension (outer stride)
};

MatrixOperand as_matrix_operand(const Tensor& t) {
  const int64_t d = t.dim();
  const int64_t rows = t.shape()[size_t(d - 2)], cols = t.shape()[size_t(d - 1)];
  const int64_t row_stride = t.strides()[size_t(d - 2)], col_stride = t.strides()[size_t(d - 1)];
  if ((col_stride == 1 || cols == 1) && row_stride >= cols) return {t, true, std::max<int64_t>(row_stride, 1)};
  if ((row_stride == 1 || rows == 1) && col_stride >= rows) return {t, false, std::max<int64_t>(col_stride, 1)};
  const Tensor c = t.contiguous();
  return {c, true, std::max<int64_t>(cols, 1)};
}

template <typename T, int Layout>
using MatrixMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Layout>, 0, Eigen::OuterStride<>>;

template <typename T, int LayoutA, int LayoutB>
void gemm(T* out, const T* a, const T* b, int64_t m, int64_t k, int64_t n, int64_t lda, int64_t ldb) {
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> c(out, m, n);
  c.noalias() = MatrixMap<T, LayoutA>(a, m, k, Eigen::OuterStride<>(lda)) *
                MatrixMap<T, LayoutB>(b, k, n, Eigen::OuterStride<>(ldb));
}

// c[m × n] (row stride ldc) = a[m × k] · b[k × n], each operand in its own layout.
template <typename T, int LayoutA, int LayoutB>
void gemm_strided(T* out, int64_t ldc, const T* a, const T* b, int64_t m, int64_t k, int64_t n, int64_t lda, int64_t ldb) {
  Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Eigen::OuterStride<>> c(
      out, m, n, Eigen::OuterStride<>(ldc));
  c.noalias() = MatrixMap<T, LayoutA>(a, m, k, Eigen::OuterStride<>(lda)) *
                MatrixMap<T, LayoutB>(b, k, n, Eigen::OuterStride<>(ldb));
}

template <typename T>
void gemm_block(T* out, int64_t ldc, const T* a, const T* b, int64_t m, int64_t k, int64_t n, const MatrixOperand& left,
                const MatrixOperand& right) {
  if (left.row_major && right.row_major) {
    gemm_strided<T, Eigen::RowMajor, Eigen::RowMajor>(out, ldc, a, b, m, k, n, left.leading, right.leading);
  } else if (left.row_major) {
    gemm_strided<T, Eigen::RowMajor, Eigen::ColMajor>(out, ldc, a, b, m, k, n, left.leading, right.leading);
  } else if (right.row_major) {
    gemm_strided<T, Eigen::ColMajor, Eigen::RowMajor>(out, ldc, a, b, m, k, n, left.leading, right.leading);
  } else {
    gemm_strided<T, Eigen::ColMajor, Eigen::ColMajor>(out, ldc, a, b, m, k, n, left.leading, right.leading);
  }
}

}  // namespace

// Shape checks shared by both backends; returns the output shape.
static Shape matmul_output_shape(const Tensor& a, const Tensor& b) {
  require_same_dtype("matmul", a, b);
  STRIPES_CHECK(a.device() == b.device(), "matmul: device mismatch between {} and {}", a.description(), b.description());
  STRIPES_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: both operands need at least 2 dimensions, got a{} and b{}",
                shape_str(a.shape()), shape_str(b.shape()));
  STRIPES_CHECK(b.size(-2) == a.size(-1), "matmul: inner dimensions differ: a{} @ b{} ({} vs {})", shape_str(a.shape()),
                shape_str(b.shape()), a.size(-1), b.size(-2));
  Shape out = broadcast_shapes("matmul (batch dimensions)", Shape(a.shape().begin(), a.shape().end() - 2),
                               Shape(b.shape().begin(), b.shape().end() - 2));
  out.push_back(a.size(-2));
  out.push_back(b.size(-1));
  return out;
}

// The CPU product; `out_shape` is matmul_output_shape(a, b) (the shapes are checked there).
static Tensor matmul_cpu(const Tensor& a, const Tensor& b, const Shape& out_shape) {
  require_cpu("matmul", a);
  require_cpu("matmul", b);
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const Shape batch_a(a.shape().begin(), a.shape().end() - 2), batch_b(b.shape().begin(), b.shape().end() - 2);
  const Shape batch(out_shape.begin(), out_shape.end() - 2);

  const MatrixOperand left = as_matrix_operand(a), right = as_matrix_operand(b);
  // Per-batch element offsets from the (broadcast) batch strides.
  const int64_t batch_count = shape_numel(batch);
  const Strides left_batch_strides =
      broadcast_strides(batch_a, Strides(left.tensor.strides().begin(), left.tensor.strides().end() - 2), batch);
  const Strides right_batch_strides =
      broadcast_strides(batch_b, Strides(right.tensor.strides().begin(), right.tensor.strides().end() - 2), batch);
  std::vector<int64_t> left_offsets(static_cast<size_t>(batch_count)), right_offsets(static_cast<size_t>(batch_count));
  for (int64_t i = 0; i < batch_count; ++i) {
    int64_t rest = i, offset_a = 0, offset_b = 0;
    for (size_t d = batch.size(); d-- > 0;) {
      const int64_t index = rest % batch[d];
      rest /= batch[d];
      offset_a += index * left_batch_strides[d];
      offset_b += index * right_batch_strides[d];
    }
    left_offsets[size_t(i)] = offset_a;
    right_offsets[size_t(i)] = offset_b;
  }

  Tensor out = Tensor::empty(out_shape, a.dtype());
  dispatch_floating(a.dtype(), "matmul", [&]<typename T>() {
    T* dst = out.mutable_data<T>();
    const T* pa = left.tensor.data<T>();
    const T* pb = right.tensor.data<T>();
    auto one_product = [&](int64_t i) {
      T* c = dst + i * m * n;
      const T* x = pa + left_offsets[size_t(i)];
      const T* y = pb + right_offsets[size_t(i)];
      if (k == 0) {
        for (int64_t j = 0; j < m * n; ++j) c[j] = T(0);
      } else if (left.row_major && right.row_major) {
        gemm<T, Eigen::RowMajor, Eigen::RowMajor>(c, x, y, m, k, n, left.leading, right.leading);
      } else if (left.row_major) {
        gemm<T, Eigen::RowMajor, Eigen::ColMajor>(c, x, y, m, k, n, left.leading, right.leading);
      } else if (right.row_major) {
        gemm<T, Eigen::ColMajor, Eigen::RowMajor>(c, x, y, m, k, n, left.leading, right.leading);
      } else {
        gemm<T, Eigen::ColMajor, Eigen::ColMajor>(c, x, y, m, k, n, left.leading, right.leading);
      }
    };
    const int64_t flops_per_product = 2 * m * n * std::max<int64_t>(k, 1);
    // Threads: Eigen's GEMM always runs serially; products are spread over the threads, and a large
    // product is cut into blocks of output rows (or columns), one serial GEMM per block. Eigen's
    // own parallel GEMM synchronizes its threads at every k-block with spin-waits: on a machine
    // whose cores are shared with other work, one preempted thread stalls the other (measured on
    // 2 shared cores: 1024³ float32 at 85 GFLOP/s with 1 or 2 Eigen threads, 160 with row blocks).
    Eigen::setNbThreads(1);
    const int threads = max_threads();
    const bool spread_batches = batch_count >= 2 * threads || flops_per_product < (int64_t(1) << 22);
    if (spread_batches && batch_count > 1) {
      parallel_for(batch_count, std::max<int64_t>(1, (int64_t(1) << 20) / flops_per_product),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t i = begin; i < end; ++i) one_product(i);
                   });
    } else if (threads > 1 && flops_per_product >= (int64_t(1) << 24) && std::max(m, n) >= 64 * threads) {
      // one product at a time, its output split into `threads` blocks of rows (columns when n > m)
      const bool split_rows = m >= n;
      const int64_t extent = split_rows ? m : n;
      const int64_t block = (extent + threads - 1) / threads;
      for (int64_t i = 0; i < batch_count; ++i) {
        T* c = dst + i * m * n;
        const T* x = pa + left_offsets[size_t(i)];
        const T* y = pb + right_offsets[size_t(i)];
        parallel_for(threads, 1, [&](int64_t begin, int64_t end) {
          for (int64_t part = begin; part < end; ++part) {
            const int64_t first = std::min(extent, part * block), count = std::min(extent, first + block) - first;
            if (count <= 0) continue;
            if (split_rows) {  // rows [first, first + count) of a and c
              const T* x_rows = x + first * (left.row_major ? left.leading : 1);
              gemm_block<T>(c + first * n, n, x_rows, y, count, k, n, left, right);
            } else {           // columns [first, first + count) of b and c
              const T* y_cols = y + first * (right.row_major ? 1 : right.leading);
              gemm_block<T>(c + first, n, x, y_cols, m, k, count, left, right);
            }
          }
        });
      }
    } else {
      for (int64_t i = 0; i < batch_count; ++i) one_product(i);
    }
  });
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  STRIPES_CHECK(a.defined() && b.defined(), "matmul: input tensor is undefined");
  const Shape shape = matmul_output_shape(a, b);
  // The work counter of tensor/profile.hpp (bench train prints it beside the matmul floor).
  const bool profiling = profile::enabled();
  const double flops = 2.0 * double(shape_numel(shape)) * double(a.size(-1));
  if (a.device() == Device::CUDA) {
    Tensor out = cuda::matmul(a, b);
    if (profiling) profile::add_matmul(flops, 0.0);
    return out;
  }
  const auto start = profiling ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  Tensor out = matmul_cpu(a, b, shape);
  if (profiling) profile::add_matmul(flops, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return out;
}

}  // namespace stripes
