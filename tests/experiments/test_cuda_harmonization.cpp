// The harmonization model on the GPU (`--device cuda`): every PE trains there as on the CPU, the
// train / eval / bench train / harmonize commands take --device, and without a GPU they stop with
// the runtime's reason. The GPU tests skip with a message when no device is present.
#include "attention/positional_encoding.hpp"
#include "experiments/harmonization/model.hpp"
#include "experiments/harmonization/training.hpp"
#include "nn/optim/clip.hpp"
#include "nn/optim/optimizer.hpp"
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"

#include "tests/experiments/harmonization_fixtures.hpp"
#include "tests/support/skip_without_gpu.hpp"
#include "tests/support/tensor_compare.hpp"
#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

namespace stripes::harmonization {
using stripes::test::CommandResult;
using stripes::test::run_stripes;
using namespace stripes::harmonization::test;

namespace {

// The tiny model for `pe` with dropout on (the masks must agree too); the context each PE takes.
HarmonizationConfig gpu_test_config(const std::string& pe) {
  HarmonizationConfig config = tiny_config(pe, pe == "ape" ? "TIME" : "BIN");
  if (pe == "stripe") config.attention = "softmax";  // exact S-RPE exists only there
  config.dropout = 0.1;
  config.validate();
  return config;
}

struct ShortRun {
  std::vector<double> losses;
  Tensor logits;  // eval-mode logits after the steps, on the host
};

// Three training steps (Adam, clipping, as `stripes train` takes them) and an eval forward.
ShortRun three_steps(const HarmonizationConfig& config, Device device) {
  Generator data(11);
  const Tensor input = Tensor::bernoulli({2, 24, 256}, 0.1, data), target = Tensor::bernoulli({2, 24, 384}, 0.1, data);
  const Tensor positions = config.position_dim() == 1 ? Tensor::arange(24, DType::Float32).unsqueeze(0).expand({2, 24}).contiguous()
                                                      : Tensor::bernoulli({2, 24, config.position_dim()}, 0.3, data);
  HarmonizationModel model(config);
  model.to(device);
  model.train();
  nn::Adam adam(model.named_parameters(), nn::AdamOptions{.learning_rate = 3e-3});
  ShortRun run;
  for (int step = 0; step < 3; ++step) {
    adam.zero_grad();
    const ag::Var loss = model.loss(input, target, positions);  // host batch: the model copies it to its device
    EXPECT_EQ(loss.value().device(), device);
    loss.backward();
    nn::clip_grad_norm(adam.parameters(), config.clip_grad_norm);
    adam.step();
    run.losses.push_back(loss.item());
  }
  model.eval();
  ag::NoGradGuard no_grad;
  run.logits = model.forward(input, positions).value().to(Device::CPU);
  return run;
}

TEST(CudaHarmonization, EveryPeTrainsOnTheGpuAsOnTheCpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  for (const std::string& pe : attention::positional_encoding_names()) {
    const HarmonizationConfig config = gpu_test_config(pe);
    const ShortRun cpu = three_steps(config, Device::CPU);
    ShortRun gpu;
    try {
      gpu = three_steps(config, Device::CUDA);
    } catch (const Error& error) {
      ADD_FAILURE() << pe << " on the GPU: " << error.what();
      continue;
    }
    for (size_t i = 0; i < cpu.losses.size(); ++i) {
      EXPECT_NEAR(gpu.losses[i], cpu.losses[i], 2e-4 * std::abs(cpu.losses[i])) << pe << " step " << i;
    }
    EXPECT_LT(stripes::test::norm_relative_error(gpu.logits, cpu.logits), 1e-3) << pe;
  }
}

TEST(CudaHarmonization, TrainAndEvalWithDeviceCudaMatchTheCpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  SKIP_WITHOUT_DATA(root);
  const HarmonizationData data = handful_of_songs(root, 1);
  HarmonizationConfig config = tiny_run_config("ropepool", "BIN");
  config.steps = 8;
  TemporaryFolder cpu_run("cuda-harmonization-cpu"), gpu_run("cuda-harmonization-gpu");
  TrainRunOptions options;
  options.progress = false;
  options.run_dir = cpu_run.path();
  const TrainResult cpu = train_harmonization(config, data, options);
  options.run_dir = gpu_run.path();
  options.device = Device::CUDA;
  const TrainResult gpu = train_harmonization(config, data, options);
  ASSERT_EQ(gpu.losses.size(), cpu.losses.size());
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(gpu.losses[i], cpu.losses[i], 2e-4 * cpu.losses[i]) << "step " << i;

  // The GPU run's checkpoint evaluates on either device to the same scores.
  EvalOptions eval;
  eval.progress = false;
  const EvalResult on_cpu = evaluate_run(gpu_run.path(), data, eval);
  eval.device = Device::CUDA;
  const EvalResult on_gpu = evaluate_run(gpu_run.path(), data, eval);
  EXPECT_EQ(on_gpu.windows, on_cpu.windows);
  EXPECT_NEAR(on_gpu.scores.chroma_similarity, on_cpu.scores.chroma_similarity, 0.5);
  EXPECT_NEAR(on_gpu.scores.grooving_similarity, on_cpu.scores.grooving_similarity, 0.5);
}

TEST(DeviceOption, CudaWithoutAGpuStopsWithTheReason) {
  if (cuda::available()) GTEST_SKIP() << "a GPU is present: " << cuda::device_description();
  // {arguments, the command's name in the message}: it stops before touching data or run folders.
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"train --steps 1 --run-dir /nonexistent/run", "train"},
      {"eval /nonexistent/run", "eval"},
      {"bench train --preset small --steps 1", "bench train"},
      {"harmonize /nonexistent/melody.mid", "harmonize"}};
  for (const auto& [arguments, name] : commands) {
    const CommandResult run = run_stripes(arguments + " --device cuda");
    EXPECT_EQ(run.exit_code, 1) << arguments << "\n" << run.output;
    EXPECT_NE(run.output.find(name + " --device cuda: " + cuda::device_description()), std::string::npos)
        << arguments << "\n" << run.output;
  }
  const CommandResult unknown = run_stripes("train --device tpu");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.output.find("tpu"), std::string::npos) << unknown.output;
  EXPECT_NE(unknown.output.find("cuda"), std::string::npos) << unknown.output;
}

TEST(DeviceOption, BenchTrainRunsOnTheGpu) {
  STRIPES_SKIP_WITHOUT_GPU();
  TemporaryFolder folder("cuda-bench-train");
  const std::string path = folder.file("train.json");
  const CommandResult run = run_stripes("bench train --device cuda --preset small --T 64 --batch 2 --steps 1 --json " + path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::ifstream in(path);
  const nlohmann::json json = nlohmann::json::parse(in);
  EXPECT_EQ(json["machine"]["device"], "cuda");
  ASSERT_EQ(json["results"].size(), 1u);
  const nlohmann::json& r = json["results"][0];
  EXPECT_GT(r["tokens_per_second"].get<double>(), 0.0) << r.dump();
  EXPECT_GT(r["peak_bytes"].get<double>(), 0.0) << r.dump();  // the CUDA allocator's high-water mark
  EXPECT_LT(std::abs(r["loss"].get<double>() - 0.69), 0.2) << r.dump();
}

}  // namespace
}  // namespace stripes::harmonization
