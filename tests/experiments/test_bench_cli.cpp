// `stripes bench attention` and `stripes bench train` on tiny configurations: they run, print
// their tables and write JSON with the documented keys. (No timing assertions: shared machines.)
#include "tensor/cuda/cuda_backend.hpp"
#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/wait.h>

using stripes::test::CommandResult;
using stripes::test::run_stripes;

namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace

TEST(BenchCli, AttentionWritesEveryCaseWithItsFloors) {
  const std::string path = ::testing::TempDir() + "stripes_bench_attention.json";
  const CommandResult run = run_stripes(
      "bench attention --T 32,64 --M 8 --D 4 --bh 2 --kinds softmax,linear-prefix,linear-chunked --pes nope,ropepool,stripe "
      "--chunk 16 --min-time 0 --min-runs 1 --softmax-max-elements 4096 --breakdown --json " + path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* text : {"matmul 1024³", "copy bandwidth", "x floor", "linear-chunked", "softmax skipped", "breakdown"}) {
    EXPECT_NE(run.output.find(text), std::string::npos) << text << "\n" << run.output;
  }
  const nlohmann::json json = read_json(path);
  EXPECT_EQ(json["benchmark"], "attention");
  for (const char* key : {"device", "threads", "matmul_gflops", "fma_peak_gflops", "copy_gbs", "load_average"}) EXPECT_TRUE(json["machine"].contains(key)) << key;
  // 3 PEs × 2 modes × 3 kinds × 2 lengths
  ASSERT_EQ(json["results"].size(), 36u);
  int skipped = 0, timed = 0;
  for (const auto& r : json["results"]) {
    for (const char* key : {"kind", "pe", "mode", "T", "M", "D", "bh", "flops", "bytes", "flop_floor_s", "byte_floor_s",
                            "floor_s", "skipped"}) {
      EXPECT_TRUE(r.contains(key)) << key << " in " << r.dump();
    }
    if (r["skipped"].get<bool>()) {
      ++skipped;
      EXPECT_TRUE(r.contains("note"));
      continue;
    }
    ++timed;
    for (const char* key : {"seconds", "gflops", "gbs", "times_floor", "ns_per_token", "peak_bytes", "components"}) {
      EXPECT_TRUE(r.contains(key)) << key << " in " << r.dump();
    }
    EXPECT_GT(r["seconds"].get<double>(), 0.0);
    EXPECT_GT(r["flops"].get<double>(), 0.0);
  }
  // skipped: stripe with both linear kinds (8 cases), softmax at T = 64 (2·64² > 4096) for nope, ropepool, stripe × 2 modes
  EXPECT_EQ(skipped, 8 + 6);
  EXPECT_EQ(timed, 36 - 14);
}

// Without a GPU: a clear error naming the option and why, exit code 1. With one: the nope cases
// run on it (timed, with device peak memory) and the JSON says so.
TEST(BenchCli, AttentionOnCudaRunsOrSaysWhyNot) {
  const std::string path = ::testing::TempDir() + "stripes_bench_attention_cuda.json";
  const CommandResult run = run_stripes(
      "bench attention --device cuda --T 32 --M 8 --D 4 --bh 2 --kinds softmax,linear-prefix,linear-chunked --pes nope "
      "--modes forward,forward+backward --min-time 0 --min-runs 1 --json " + path);
  if (!stripes::cuda::available()) {
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find("bench attention --device cuda: "), std::string::npos) << run.output;
    EXPECT_NE(run.output.find(stripes::cuda::device_description()), std::string::npos) << run.output;
    return;
  }
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("cuBLAS"), std::string::npos) << run.output;
  const nlohmann::json json = read_json(path);
  EXPECT_EQ(json["device"], "cuda");
  EXPECT_EQ(json["machine"]["device"], "cuda");
  ASSERT_EQ(json["results"].size(), 6u);
  for (const auto& r : json["results"]) {
    ASSERT_FALSE(r["skipped"].get<bool>()) << r.dump();
    EXPECT_GT(r["seconds"].get<double>(), 0.0);
    EXPECT_GT(r["peak_bytes"].get<double>(), 0.0);
  }
}

TEST(BenchCli, AttentionRejectsUnknownNames) {
  const CommandResult kind = run_stripes("bench attention --T 16 --kinds linear-scan --min-time 0");
  EXPECT_EQ(kind.exit_code, 1);
  EXPECT_NE(kind.output.find("unknown kind 'linear-scan'"), std::string::npos) << kind.output;
  const CommandResult pe = run_stripes("bench attention --T 16 --pes rope-z --min-time 0");
  EXPECT_EQ(pe.exit_code, 1);
  EXPECT_NE(pe.output.find("rope-z"), std::string::npos) << pe.output;
}

// The GEMM work of a step, counted by matmul, against the count by hand. Small preset, pe nope (no
// PE product), N = B·T = 64 tokens; Linear weights: input 256×64, per layer q, k, v, out 64×64 and
// the FFN 64×128 + 128×64, output 64×384: Σ in·out = 16384 + 2·32768 + 24576 = 106496.
// Forward 2N·Σ, ∂W 2N·Σ, ∂x 2N·(Σ − 16384) (the input layer's x is data): 2·64·303104.
TEST(BenchCli, TrainCountsTheStepsMatmulWork) {
  const std::string path = ::testing::TempDir() + "stripes_bench_train_flops.json";
  const CommandResult run = run_stripes("bench train --preset small --pes nope --T 32 --batch 2 --steps 2 --json " + path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("GFLOP per step"), std::string::npos) << run.output;
  const nlohmann::json json = read_json(path);
  ASSERT_EQ(json["results"].size(), 1u);
  EXPECT_EQ(json["results"][0]["matmul_flops_per_step"].get<double>(), 2.0 * 64 * 303104);
  EXPECT_GT(json["results"][0]["matmul_seconds_per_step"].get<double>(), 0.0);
}

TEST(BenchCli, TrainReportsTokensMemoryAndComponents) {
  const std::string path = ::testing::TempDir() + "stripes_bench_train.json";
  const CommandResult run =
      run_stripes("bench train --preset small --pes ropepool,spe-sine --T 32 --batch 2 --steps 1 --causal prefix --json " + path);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* text : {"tokens/s", "peak", "attention core (backward)", "optimizer", "feature map"}) {
    EXPECT_NE(run.output.find(text), std::string::npos) << text << "\n" << run.output;
  }
  const nlohmann::json json = read_json(path);
  EXPECT_EQ(json["benchmark"], "train");
  ASSERT_EQ(json["results"].size(), 2u);
  for (const auto& r : json["results"]) {
    for (const char* key : {"preset", "pe", "T", "batch", "parameters", "seconds_per_step", "tokens_per_second",
                            "peak_bytes", "step_peak_bytes", "resident_bytes", "components", "causal_algorithm"}) {
      EXPECT_TRUE(r.contains(key)) << key << " in " << r.dump();
    }
    EXPECT_EQ(r["T"], 32);
    EXPECT_EQ(r["batch"], 2);
    EXPECT_EQ(r["causal_algorithm"], "prefix");
    EXPECT_GT(r["tokens_per_second"].get<double>(), 0.0);
    EXPECT_GT(r["step_peak_bytes"].get<double>(), 0.0);
    double share = 0;
    for (const auto& [label, component] : r["components"].items()) share += component["share"].get<double>();
    EXPECT_NEAR(share, 1.0, 1e-9);
    for (const char* label : {"projections", "pe", "feature map", "attention core", "ffn", "loss", "optimizer", "other"}) {
      EXPECT_TRUE(r["components"].contains(label)) << label << " in " << r["components"].dump();
    }
  }
  EXPECT_EQ(json["results"][1]["pe"], "spe-sine");
}

// No kernel of a training step reads memory it did not write: with STRIPES_POISON_MEMORY=1 every
// new CPU block starts as 0xFF bytes (NaN), and the step must give the same loss, bit for bit, as
// with ordinary (reused, zero-paged) memory, for every linear PE.
TEST(BenchCli, TrainingStepReadsNoUnwrittenMemory) {
  const std::string plain = ::testing::TempDir() + "stripes_bench_plain.json";
  const std::string poisoned = ::testing::TempDir() + "stripes_bench_poisoned.json";
  const std::string arguments = "bench train --preset small --pes all-linear --T 64 --batch 2 --steps 1 --json ";
  const CommandResult plain_run = run_stripes(arguments + plain);
  ASSERT_EQ(plain_run.exit_code, 0) << plain_run.output;
  setenv("STRIPES_POISON_MEMORY", "1", 1);
  const CommandResult poisoned_run = run_stripes(arguments + poisoned);
  unsetenv("STRIPES_POISON_MEMORY");
  ASSERT_EQ(poisoned_run.exit_code, 0) << poisoned_run.output;
  const nlohmann::json a = read_json(plain)["results"], b = read_json(poisoned)["results"];
  ASSERT_EQ(a.size(), b.size());
  ASSERT_GE(a.size(), 9u);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(a[i]["loss"].is_number()) << a[i].dump();
    ASSERT_TRUE(b[i]["loss"].is_number()) << "poisoned memory reached the loss: " << b[i].dump();
    EXPECT_EQ(a[i]["loss"].get<double>(), b[i]["loss"].get<double>()) << a[i]["pe"];
  }
}
