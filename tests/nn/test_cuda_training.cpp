// Training on the GPU against the CPU: Module::to, Adam, clipping, checkpoints, and a whole toy
// Transformer trained on both devices from the same seed. Every test here skips with a message when
// no CUDA device is present (tests/nn/test_module.cpp checks Module::to without one).
#include "autograd/ops.hpp"
#include "nn/checkpoint.hpp"
#include "nn/optim/clip.hpp"
#include "nn/optim/optimizer.hpp"
#include "nn/toy_task.hpp"
#include "tests/nn/toy_fixtures.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tests/support/skip_without_gpu.hpp"
#include "tests/support/tensor_compare.hpp"
#include "tests/support/temporary_folder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

namespace {

using namespace stripes;
using namespace stripes::nn;

uint64_t fresh_seed() { return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()); }

TEST(CudaTraining, AdamAndClippingMatchTheCpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  cuda::set_poison_new_allocations(true);  // moments or outputs left unwritten show up as NaN
  for (DType dtype : {DType::Float32, DType::Float64}) {
    for (bool decoupled : {false, true}) {
      Generator g(fresh_seed());
      const Tensor theta = Tensor::randn({37, 11}, g, dtype), bias = Tensor::randn({11}, g, dtype);
      const Tensor upstream = Tensor::randn({5, 11}, g, dtype), x = Tensor::randn({5, 37}, g, dtype);
      NamedParameters cpu = {{"w", ag::Var(theta.clone(), true, "w")}, {"b", ag::Var(bias.clone(), true, "b")}};
      NamedParameters gpu = {{"w", ag::Var(theta.to(Device::CUDA), true, "w")}, {"b", ag::Var(bias.to(Device::CUDA), true, "b")}};
      const AdamOptions options{.learning_rate = 0.05, .beta1 = 0.8, .beta2 = 0.95, .eps = 1e-6, .weight_decay = 0.1};
      std::unique_ptr<Optimizer> cpu_adam, gpu_adam;
      if (decoupled) {
        cpu_adam = std::make_unique<AdamW>(cpu, options);
        gpu_adam = std::make_unique<AdamW>(gpu, options);
      } else {
        cpu_adam = std::make_unique<Adam>(cpu, options);
        gpu_adam = std::make_unique<Adam>(gpu, options);
      }
      for (int step = 0; step < 4; ++step) {
        for (NamedParameters* ps : {&cpu, &gpu}) {
          const Device device = (*ps)[0].second.value().device();
          for (auto& [name, p] : *ps) p.zero_grad();
          const ag::Var y = ag::matmul(ag::Var(x.to(device)), (*ps)[0].second) + (*ps)[1].second;
          ag::sum(y * ag::Var(upstream.to(device))).backward();
        }
        const double cpu_norm = clip_grad_norm(cpu, 0.5), gpu_norm = clip_grad_norm(gpu, 0.5);
        EXPECT_NEAR(gpu_norm, cpu_norm, 1e-6 * cpu_norm) << "step " << step;
        clip_grad_value(cpu, 0.02);
        clip_grad_value(gpu, 0.02);
        EXPECT_LT(test::norm_relative_error(gpu[0].second.grad(), cpu[0].second.grad()), dtype == DType::Float32 ? 1e-6 : 1e-13);
        cpu_adam->step();
        gpu_adam->step();
      }
      const double tolerance = dtype == DType::Float32 ? 1e-5 : 1e-12;
      for (size_t i = 0; i < cpu.size(); ++i) {
        EXPECT_EQ(gpu[i].second.value().device(), Device::CUDA);
        EXPECT_LT(test::norm_relative_error(gpu[i].second.value(), cpu[i].second.value()), tolerance)
            << cpu[i].first << " " << dtype_name(dtype) << (decoupled ? " adamw" : " adam");
      }
    }
  }
  cuda::set_poison_new_allocations(false);
}

TEST(CudaTraining, ModuleToMovesParametersAndTheOptimizerFollows) {
  STRIPES_SKIP_WITHOUT_GPU();
  ToyExperiment experiment(test::resumable_toy_options(), test::quiet_trainer());
  const NamedParameters before = experiment.model().named_parameters();
  std::vector<Tensor> values;
  for (const auto& [name, p] : before) values.push_back(p.value().clone());
  experiment.model().to(Device::CUDA);  // after the optimizer was made: its moments follow at the first step
  EXPECT_EQ(experiment.model().device(), Device::CUDA);
  const NamedParameters after = experiment.model().named_parameters();
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].second.data(), before[i].second.data()) << after[i].first;  // the same parameter, moved
    EXPECT_EQ(test::norm_relative_error(after[i].second.value(), values[i]), 0.0) << after[i].first;
  }
  experiment.train(2);
  for (const auto& [name, p] : experiment.model().named_parameters()) EXPECT_EQ(p.value().device(), Device::CUDA) << name;
  experiment.model().to(Device::CPU);
  EXPECT_EQ(experiment.model().device(), Device::CPU);
  experiment.train(1);  // and back: the moments follow again
}

TEST(CudaTraining, AToyTransformerTrainsOnTheGpuAsOnTheCpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  ToyExperiment cpu(test::resumable_toy_options(), test::quiet_trainer());
  ToyExperiment gpu(test::resumable_toy_options(), test::quiet_trainer());
  gpu.model().to(Device::CUDA);
  // Same seeds, same dropout masks (the GPU draws the CPU's Philox numbers): the loss curves agree
  // to float32 rounding for the first steps.
  const std::vector<double> cpu_losses = cpu.train(6), gpu_losses = gpu.train(6);
  ASSERT_EQ(gpu_losses.size(), cpu_losses.size());
  for (size_t i = 0; i < cpu_losses.size(); ++i) {
    EXPECT_NEAR(gpu_losses[i], cpu_losses[i], 1e-4 * std::abs(cpu_losses[i])) << "step " << i;
  }
  const NamedParameters a = cpu.model().named_parameters(), b = gpu.model().named_parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_LT(test::norm_relative_error(b[i].second.value(), a[i].second.value()), 1e-3) << a[i].first;
}

TEST(CudaTraining, CheckpointsMoveBetweenDevices) {
  STRIPES_SKIP_WITHOUT_GPU();
  const test::TemporaryFolder folder("cuda-checkpoint");
  const std::string path = folder.file("gpu.h5");
  ToyExperiment gpu(test::resumable_toy_options(), test::quiet_trainer());
  gpu.model().to(Device::CUDA);
  gpu.train(5);
  gpu.save_checkpoint(path);  // parameters and Adam moments written from host copies
  const std::vector<double> continued = gpu.train(3);

  ToyExperiment on_cpu(test::resumable_toy_options(), test::quiet_trainer());  // a GPU run resumed on the CPU
  on_cpu.load_checkpoint(path);
  ToyExperiment on_gpu(test::resumable_toy_options(), test::quiet_trainer());  // and on the GPU: the checkpoint is loaded into CUDA parameters
  on_gpu.model().to(Device::CUDA);
  on_gpu.load_checkpoint(path);
  EXPECT_EQ(on_gpu.model().device(), Device::CUDA);
  const std::vector<double> cpu_losses = on_cpu.train(3), gpu_losses = on_gpu.train(3);
  for (size_t i = 0; i < continued.size(); ++i) {
    // Same device and kernels, but scatter-adds (embedding backward) use atomics: not bit for bit.
    EXPECT_NEAR(gpu_losses[i], continued[i], 1e-5 * std::abs(continued[i])) << "step " << 5 + i;
    EXPECT_NEAR(cpu_losses[i], continued[i], 1e-4 * std::abs(continued[i])) << "step " << 5 + i;
  }
}

}  // namespace
