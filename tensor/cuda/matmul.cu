// Batched matrix product on cuBLAS (cublas{S,D}gemmStridedBatched), the contract of
// stripes::matmul: a [..., m, k] @ b [..., k, n] -> [..., m, n], batch dims broadcast.
//
// cuBLAS is column-major; a row-major C = A B is the column-major Cᵀ = Bᵀ Aᵀ, so we call
// gemm(B, A) with n and m swapped. A row-major operand (strides [ld, 1]) is passed untransposed,
// a column-major one (a transposed view, strides [1, ld]) with CUBLAS_OP_T — views are read in
// place. Batch dims that one stride can describe (contiguous, or broadcast with stride 0) are
// passed as the batch stride; anything else is made contiguous first.
#include "tensor/cuda/indexer.cuh"

namespace stripes::cuda {

namespace {

cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h;
    STRIPES_CUBLAS_CHECK(cublasCreate(&h));
    // Exact float32 products (no TF32), so GPU and CPU agree to float32 rounding.
    STRIPES_CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    return h;
  }();
  return handle;
}

struct GemmOperand {
  Tensor tensor;
  bool transposed = false;  // column-major in memory
  int64_t leading = 1;
  int64_t batch_stride = 0;
};

// `t` expanded to batch + [rows, cols].
GemmOperand gemm_operand(Tensor t, const Shape& batch) {
  Shape full = batch;
  full.push_back(t.size(-2));
  full.push_back(t.size(-1));
  t = t.expand(full);
  const int64_t d = t.dim(), rows = t.size(-2), cols = t.size(-1);
  auto layout_ok = [&](const Tensor& x, GemmOperand& op) {
    const int64_t rs = x.strides()[size_t(d - 2)], cs = x.strides()[size_t(d - 1)];
    if ((cs == 1 || cols == 1) && rs >= std::max<int64_t>(cols, 1)) {
      op.transposed = false;
      op.leading = std::max<int64_t>(rs, std::max<int64_t>(cols, 1));
    } else if ((rs == 1 || rows == 1) && cs >= std::max<int64_t>(rows, 1)) {
      op.transposed = true;
      op.leading = std::max<int64_t>(cs, std::max<int64_t>(rows, 1));
    } else {
      return false;
    }
    // one stride for all batch dims?
    const Strides batch_strides(x.strides().begin(), x.strides().end() - 2);
    const StridedLayout<1> merged = merge_dimensions<1>(batch, {batch_strides});
    if (merged.shape.size() > 1) return false;
    op.batch_stride = merged.strides[0][0];
    op.tensor = x;
    return true;
  };
  GemmOperand op;
  if (layout_ok(t, op)) return op;
  const bool ok = layout_ok(t.contiguous(), op);
  STRIPES_CHECK(ok, "matmul (cuda): could not lay out operand {}", t.description());
  return op;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
  const Shape batch = broadcast_shapes("matmul (batch dimensions)", Shape(a.shape().begin(), a.shape().end() - 2),
                                       Shape(b.shape().begin(), b.shape().end() - 2));
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(out_shape, a.dtype(), Device::CUDA);
  const int64_t batch_count = shape_numel(batch);
  if (out.numel() == 0) return out;
  if (k == 0) return out.fill_(0.0);
  const GemmOperand left = gemm_operand(a, batch), right = gemm_operand(b, batch);
  const cublasOperation_t op_right = right.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t op_left = left.transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
  STRIPES_CHECK(batch_count <= INT32_MAX && m <= INT32_MAX && n <= INT32_MAX && k <= INT32_MAX,
                "matmul (cuda): sizes exceed cuBLAS's 32-bit limits");
  if (a.dtype() == DType::Float32) {
    const float one = 1.0f, zero = 0.0f;
    STRIPES_CUBLAS_CHECK(cublasSgemmStridedBatched(
        cublas_handle(), op_right, op_left, int(n), int(m), int(k), &one, right.tensor.raw_data<float>(), int(right.leading),
        right.batch_stride, left.tensor.raw_data<float>(), int(left.leading), left.batch_stride, &zero,
        out.raw_mutable_data<float>(), int(n), m * n, int(batch_count)));
  } else if (a.dtype() == DType::Float64) {
    const double one = 1.0, zero = 0.0;
    STRIPES_CUBLAS_CHECK(cublasDgemmStridedBatched(
        cublas_handle(), op_right, op_left, int(n), int(m), int(k), &one, right.tensor.raw_data<double>(), int(right.leading),
        right.batch_stride, left.tensor.raw_data<double>(), int(left.leading), left.batch_stride, &zero,
        out.raw_mutable_data<double>(), int(n), m * n, int(batch_count)));
  } else {
    throw_error("matmul: expected a float32 or float64 tensor, got {}", dtype_name(a.dtype()));
  }
  return out;
}

}  // namespace stripes::cuda
