// Adam / AdamW on the GPU: one thread per parameter element (grid-stride), the per-element update
// of nn/optim/adam_update.hpp — the same function the CPU loop calls.
#include "nn/optim/adam_update.hpp"
#include "tensor/cuda/indexer.cuh"

namespace stripes::nn {

template <typename T>
__global__ void adam_update_kernel(T* param, T* m, T* v, const T* grad, int64_t n, AdamStep step) {
  STRIPES_GRID_STRIDE_LOOP(i, n) { adam_update_element<T>(param[i], m[i], v[i], grad[i], step); }
}

void adam_update_cuda(Tensor& param, Tensor& m, Tensor& v, const Tensor& grad, const AdamStep& step) {
  const Tensor* operands[] = {&param, &m, &v, &grad};
  for (const Tensor* t : operands) {
    STRIPES_CHECK(t->device() == Device::CUDA && t->is_contiguous() && t->shape() == param.shape() && t->dtype() == param.dtype(),
                  "adam (cuda): parameter {}, moments {} / {} and gradient {} must be contiguous CUDA tensors of one shape and dtype",
                  param.description(), m.description(), v.description(), grad.description());
  }
  const int64_t n = param.numel();
  if (n == 0) return;
  dispatch_floating(param.dtype(), "adam (cuda)", [&]<typename T>() {
    const cuda::LaunchShape launch = cuda::launch_shape(n);
    adam_update_kernel<T><<<launch.blocks, launch.threads>>>(param.raw_mutable_data<T>(), m.raw_mutable_data<T>(),
                                                             v.raw_mutable_data<T>(), grad.raw_data<T>(), n, step);
    STRIPES_CUDA_CHECK_LAUNCH(adam_update_kernel);
  });
}

}  // namespace stripes::nn
