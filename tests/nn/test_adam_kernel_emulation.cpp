// Adam's GPU kernel (nn/optim/cuda/adam_update_kernels.cuh) run on the CPU by
// tensor/cuda/cpu_emulator.hpp against the CPU optimizer: three steps of Adam and of AdamW on a
// parameter of 1000 elements, on a grid of 3 blocks of 64 threads (so every thread walks the
// grid-stride loop several times), with the moments and the parameter compared after each step.
#include "autograd/ops.hpp"
#include "nn/optim/cuda/adam_update_kernels.cuh"
#include "nn/optim/optimizer.hpp"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <cmath>

using namespace stripes;
using namespace stripes::nn;

TEST(KernelEmulation, AdamKernelMatchesTheCpuOptimizer) {
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool decoupled : {false, true}) {
      const int64_t n = 1000;
      const AdamOptions options{.learning_rate = 0.01, .beta1 = 0.9, .beta2 = 0.99, .eps = 1e-8, .weight_decay = 0.1};
      const Tensor start = test::randn({n}, 700, dtype);
      ag::Var parameter(start.clone(), true, "p");
      std::unique_ptr<Adam> optimizer = decoupled ? std::make_unique<AdamW>(NamedParameters{{"p", parameter}}, options)
                                                  : std::make_unique<Adam>(NamedParameters{{"p", parameter}}, options);
      Tensor param = start.clone(), m = Tensor::zeros({n}, dtype), v = Tensor::zeros({n}, dtype);
      for (int step = 1; step <= 3; ++step) {
        const Tensor grad = test::randn({n}, 710 + uint64_t(step), dtype);
        parameter.zero_grad();
        ag::sum(parameter * ag::Var(grad)).backward();  // ∂/∂p Σ p·g = g
        optimizer->step();
        const AdamStep s{options.learning_rate, options.beta1, options.beta2, options.eps, options.weight_decay,
                         1.0 - std::pow(options.beta1, step), 1.0 - std::pow(options.beta2, step), decoupled};
        dispatch_floating(dtype, "test", [&]<typename T>() {
          cuda::emulator::launch({3}, {64}, 0, adam_update_kernel<T>, param.mutable_data<T>(), m.mutable_data<T>(),
                                 v.mutable_data<T>(), grad.data<T>(), n, s);
        });
        const std::string what = std::string(dtype_name(dtype)) + (decoupled ? " adamw" : " adam") + " step " +
                                 std::to_string(step);
        // The same function on the same numbers in the same order: equal to the bit.
        EXPECT_EQ(test::max_relative_error(param, parameter.value()), 0.0) << "parameter, " << what;
        EXPECT_EQ(test::max_relative_error(m, optimizer->first_moment(0)), 0.0) << "m, " << what;
        EXPECT_EQ(test::max_relative_error(v, optimizer->second_moment(0)), 0.0) << "v, " << what;
      }
    }
  }
}
