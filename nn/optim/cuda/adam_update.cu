// The launcher of Adam's GPU kernel (nn/optim/cuda/adam_update_kernels.cuh): a 1-d grid-stride
// grid over the parameter's elements; the operands checked, the launch checked.
#include "nn/optim/adam_update.hpp"
#include "nn/optim/cuda/adam_update_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::nn {

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
