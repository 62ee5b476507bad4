// The `stripes` program as a user runs it: exit codes and what it prints.
#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

using stripes::test::CommandResult;
using stripes::test::run_stripes;

namespace {

}  // namespace

TEST(Cli, GradcheckListsEveryOpAndPasses) {
  const CommandResult run = run_stripes("gradcheck");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (const char* op : {"matmul", "layer_norm", "cumsum", "cross_entropy", "binary_cross_entropy_with_logits", "dropout"}) {
    EXPECT_NE(run.output.find(op), std::string::npos) << op;
  }
  EXPECT_NE(run.output.find(" passed, 0 failed"), std::string::npos) << run.output;
}

TEST(Cli, GradcheckOfOneOpAndOfAnUnknownOp) {
  const CommandResult one = run_stripes("gradcheck --op softmax -v");
  EXPECT_EQ(one.exit_code, 0) << one.output;
  EXPECT_NE(one.output.find("1 passed, 0 failed"), std::string::npos) << one.output;
  const CommandResult unknown = run_stripes("gradcheck --op no_such_op");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("error: gradcheck: no registered op is named 'no_such_op'"), std::string::npos)
      << unknown.output;
}

TEST(Cli, UnknownOptionsAndCommandsAreRejected) {
  const CommandResult option = run_stripes("gradcheck --no-such-option");
  EXPECT_NE(option.exit_code, 0);
  EXPECT_NE(option.output.find("--no-such-option"), std::string::npos) << option.output;
  const CommandResult command = run_stripes("no-such-command");
  EXPECT_NE(command.exit_code, 0);
  const CommandResult none = run_stripes("");
  EXPECT_NE(none.exit_code, 0);
  const CommandResult bad_value = run_stripes("bench matmul --dtype float16");
  EXPECT_NE(bad_value.exit_code, 0);
  EXPECT_NE(bad_value.output.find("float16"), std::string::npos) << bad_value.output;
}

TEST(Cli, BenchMatmulPrintsRates) {
  const CommandResult run = run_stripes("bench matmul --sizes 64");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("GFLOP/s"), std::string::npos);
  EXPECT_NE(run.output.find("copy bandwidth"), std::string::npos);
}

TEST(Cli, KernelWritesTheMaterializedKernel) {
  const std::string path = ::testing::TempDir() + "stripes_kernel_test.h5";
  const CommandResult run = run_stripes("kernel --pe ropepool --T 16 --d-model 16 --heads 2 --features 32 --dump " + path);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("not lag-only"), std::string::npos) << run.output;
  const CommandResult listing = run_stripes("kernel --pe rope-z --dump " + path);
  EXPECT_NE(listing.exit_code, 0);
  const CommandResult bad_positions = run_stripes("kernel --pe rope-a --T 4 --positions 1,2,x,4 --dump " + path);
  EXPECT_EQ(bad_positions.exit_code, 1);
  EXPECT_NE(bad_positions.output.find("'x' is not a number"), std::string::npos) << bad_positions.output;
}
