// Launchers of the softmax and log_softmax GPU kernels (autograd/ops/cuda/softmax_kernels.cuh,
// where the kernels and their equations are): one block per row of the last axis; each launcher
// sizes the grid and checks the launch.
#include "autograd/ops/cuda/fused_row_ops.hpp"
#include "autograd/ops/cuda/softmax_kernels.cuh"
#include "tensor/cuda/cuda_check.hpp"

namespace stripes::ag::cuda_kernels {

namespace {

// A [..., n] tensor's rows as a grid: one block of row_threads(n) threads per row (at most 2³¹ - 1
// blocks along x).
struct RowGrid {
  unsigned rows = 0, threads = 0;
  size_t shared_bytes = 0;
  int64_t length = 0;
};
RowGrid row_grid(const Tensor& t, const char* op) {
  RowGrid grid;
  grid.rows = unsigned(row_count(t, op));
  grid.length = t.size(-1);
  grid.threads = row_threads(grid.length);
  grid.shared_bytes = row_shared_bytes(grid.threads);
  return grid;
}

}  // namespace

Tensor softmax_forward_cuda(const Tensor& x) {
  const RowGrid grid = row_grid(x, "softmax");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), Device::CUDA);
  if (x.numel() == 0) return y;
  dispatch_floating(x.dtype(), "softmax", [&]<typename T>() {
    softmax_forward_rows_kernel<T><<<grid.rows, grid.threads, grid.shared_bytes>>>(y.raw_mutable_data<T>(), x.raw_data<T>(),
                                                                                   grid.length);
    STRIPES_CUDA_CHECK_LAUNCH(softmax_forward_rows_kernel);
  });
  return y;
}

Tensor softmax_backward_cuda(const Tensor& grad_y, const Tensor& y) {
  const RowGrid grid = row_grid(grad_y, "softmax backward");
  Tensor grad_x = Tensor::empty(y.shape(), y.dtype(), Device::CUDA);
  if (y.numel() == 0) return grad_x;
  dispatch_floating(y.dtype(), "softmax backward", [&]<typename T>() {
    softmax_backward_rows_kernel<T><<<grid.rows, grid.threads, grid.shared_bytes>>>(
        grad_x.raw_mutable_data<T>(), grad_y.raw_data<T>(), y.raw_data<T>(), grid.length);
    STRIPES_CUDA_CHECK_LAUNCH(softmax_backward_rows_kernel);
  });
  return grad_x;
}

Tensor log_softmax_forward_cuda(const Tensor& x) {
  const RowGrid grid = row_grid(x, "log_softmax");
  Tensor y = Tensor::empty(x.shape(), x.dtype(), Device::CUDA);
  if (x.numel() == 0) return y;
  dispatch_floating(x.dtype(), "log_softmax", [&]<typename T>() {
    log_softmax_forward_rows_kernel<T><<<grid.rows, grid.threads, grid.shared_bytes>>>(y.raw_mutable_data<T>(),
                                                                                       x.raw_data<T>(), grid.length);
    STRIPES_CUDA_CHECK_LAUNCH(log_softmax_forward_rows_kernel);
  });
  return y;
}

Tensor log_softmax_backward_cuda(const Tensor& grad_y, const Tensor& y) {
  const RowGrid grid = row_grid(grad_y, "log_softmax backward");
  Tensor grad_x = Tensor::empty(y.shape(), y.dtype(), Device::CUDA);
  if (y.numel() == 0) return grad_x;
  dispatch_floating(y.dtype(), "log_softmax backward", [&]<typename T>() {
    log_softmax_backward_rows_kernel<T><<<grid.rows, grid.threads, grid.shared_bytes>>>(
        grad_x.raw_mutable_data<T>(), grad_y.raw_data<T>(), y.raw_data<T>(), grid.length);
    STRIPES_CUDA_CHECK_LAUNCH(log_softmax_backward_rows_kernel);
  });
  return grad_x;
}

}  // namespace stripes::ag::cuda_kernels
