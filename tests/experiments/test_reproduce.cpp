// `stripes reproduce` (experiments/harmonization/reproduce.{hpp,cpp}): the plan read from run
// directories with fake finished runs, config overrides, and one tiny real grid (2 seeds, 3 steps,
// d_model 8, T = 32) run twice on a handful of POP909 songs — skipped when the data is absent.
#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "experiments/harmonization/reproduce.hpp"
#include "tensor/error.hpp"
#include "tensor/io/hdf5_file.hpp"

#include "tests/experiments/harmonization_fixtures.hpp"
#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>

namespace stripes::harmonization {
using stripes::test::CommandResult;
using stripes::test::run_stripes;
using namespace stripes::harmonization::test;

namespace {

namespace fs = std::filesystem;

ReproduceOptions small_bin_grid(const fs::path& runs) {
  ReproduceOptions options;
  options.table = 3;
  options.seeds = 2;
  options.preset = "small";
  options.runs_dir = runs.string();
  options.contexts = {"bin"};
  options.progress = false;
  return options;
}

// A finished training (config.json + train_summary.json with every step of the small preset).
void fake_trained(const ReproduceOptions& options, const std::string& pe, int seed) {
  const HarmonizationConfig config = reproduce_config(options, "BIN", pe, uint64_t(seed));
  const fs::path dir = fs::path(options.runs_dir) / fmt::format("{}-bin-s{}", pe, seed);
  nlohmann::json json;
  to_json(json, config);
  write_text_file(dir / "config.json", json.dump(2));
  const nlohmann::json summary = {{"steps", config.steps}, {"train_windows", 512}, {"seconds", 60.0}};
  write_text_file(dir / "train_summary.json", summary.dump(2));
}

void fake_metrics(const ReproduceOptions& options, const std::string& pe, int seed, bool length_generalization) {
  const fs::path dir = fs::path(options.runs_dir) / fmt::format("{}-bin-s{}", pe, seed);
  nlohmann::json json = {{"pe", pe}, {"context", "BIN"}, {"preset", "small"}, {"seed", seed},
                         {"in_domain", {{"sequence_length", 256}, {"seconds", 5.0}, {"scores", {{"CS", 1.0}}}}}};
  if (length_generalization) {
    json["length_generalization"] = {{"sequence_length", 1024}, {"seconds", 10.0}, {"scores", {{"CS", 2.0}}}};
  }
  write_text_file(dir / "metrics.json", json.dump(2));
}

TEST(Reproduce, DryRunListsExactlyTheRemainingWork) {
  TemporaryFolder folder("plan");
  const ReproduceOptions options = small_bin_grid(folder.path() / "runs");
  // ropepool s0: complete. fstripe1 s0: trained, ID only. rope-c s1: checkpoint at step 100.
  fake_trained(options, "ropepool", 0);
  fake_metrics(options, "ropepool", 0, true);
  fake_trained(options, "fstripe1", 0);
  fake_metrics(options, "fstripe1", 0, false);
  {
    fs::create_directories(folder.path() / "runs" / "rope-c-bin-s1");
    io::Hdf5File checkpoint((folder.path() / "runs" / "rope-c-bin-s1" / "checkpoint.h5").string(), io::OpenMode::kTruncate);
    checkpoint.write_attribute("/", "step", int64_t(100));
  }

  const ReproducePlan plan = plan_reproduction(options);
  ASSERT_EQ(plan.runs.size(), 6u);  // BIN: RoPE(C), F-StrIPE1, RoPEPool × seeds 0, 1 (seed-major)
  EXPECT_EQ(fs::path(plan.runs[0].run_dir).filename(), "rope-c-bin-s0");
  EXPECT_EQ(fs::path(plan.runs[2].run_dir).filename(), "ropepool-bin-s0");
  EXPECT_EQ(fs::path(plan.runs[3].run_dir).filename(), "rope-c-bin-s1");
  EXPECT_TRUE(plan.runs[2].done());
  EXPECT_TRUE(plan.runs[1].trained);
  EXPECT_TRUE(plan.runs[1].in_domain);
  EXPECT_FALSE(plan.runs[1].length_generalization);
  EXPECT_EQ(plan.runs[3].checkpoint_step, 100);
  EXPECT_EQ(plan.trainings_left(), 4);
  EXPECT_EQ(plan.resumed_trainings(), 1);
  EXPECT_EQ(plan.in_domain_left(), 4);
  EXPECT_EQ(plan.length_generalization_left(), 5);

  ReproduceOptions dry = options;
  dry.dry_run = true;
  std::ostringstream log;
  const ReproduceResult result = run_reproduction(dry, log);
  const std::string text = log.str();
  EXPECT_NE(text.find("reproduce Table III, preset small: 3 rows × 2 seeds = 6 runs"), std::string::npos) << text;
  EXPECT_NE(text.find("ropepool-bin-s0        train done (1500 steps), ID done, LG done  -> nothing to do"), std::string::npos)
      << text;
  EXPECT_NE(text.find("fstripe1-bin-s0        train done (1500 steps), ID done, LG todo (T = 1024)"), std::string::npos) << text;
  EXPECT_NE(text.find("rope-c-bin-s1          train: resume from step 100, ID todo"), std::string::npos) << text;
  EXPECT_NE(text.find("complete: 1 of 6 runs; remaining: 4 trainings (1 resumed from a checkpoint), 4 in-domain evals, 5 "
                      "length-generalization evals"),
            std::string::npos)
      << text;
  EXPECT_EQ(result.trained, 0);
  EXPECT_FALSE(result.report.has_value());
  EXPECT_FALSE(fs::exists(folder.path() / "runs" / "rope-c-bin-s0"));  // nothing created
}

TEST(Reproduce, OverridesAndConflictsAreChecked) {
  TemporaryFolder folder("config");
  ReproduceOptions options = small_bin_grid(folder.path() / "runs");
  options.overrides = {"steps=3", "feature_map=trig", "learning_rate=2e-3"};
  const HarmonizationConfig config = reproduce_config(options, "bin", "ropepool", 1);
  EXPECT_EQ(config.steps, 3);
  EXPECT_EQ(config.feature_map, "trig");
  EXPECT_DOUBLE_EQ(config.learning_rate, 2e-3);
  EXPECT_EQ(config.context, "BIN");
  EXPECT_EQ(config.seed, 1u);
  EXPECT_EQ(config.checkpoint_every, 500);

  options.overrides = {"seed=3"};
  EXPECT_NE(error_of([&] { reproduce_config(options, "BIN", "ropepool", 0); }).find("cannot change 'seed'"), std::string::npos);
  options.overrides = {"learning_rat=1"};
  EXPECT_NE(error_of([&] { reproduce_config(options, "BIN", "ropepool", 0); }).find("unknown config key 'learning_rat'"),
            std::string::npos);
  options.overrides = {"steps"};
  EXPECT_NE(error_of([&] { reproduce_config(options, "BIN", "ropepool", 0); }).find("KEY=VALUE"), std::string::npos);

  // A run directory of another configuration is refused, naming the differing key.
  options.overrides = {"steps=3"};
  fake_trained(options, "ropepool", 0);
  options.overrides = {};
  const std::string message = error_of([&] { plan_reproduction(options); });
  EXPECT_NE(message.find("ropepool-bin-s0 holds a run of another configuration (steps: 3 there, 1500 planned)"),
            std::string::npos)
      << message;

  // Filters must name the table's contexts and PEs.
  options.contexts = {"MCP"};
  EXPECT_NE(error_of([&] { plan_reproduction(options); }).find("has no context 'MCP' (it has TIME, REP, KEY, BIN)"),
            std::string::npos);
  options.contexts = {};
  options.pes = {"ape"};
  EXPECT_NE(error_of([&] { plan_reproduction(options); }).find("has no PE 'ape'"), std::string::npos);
  options.pes = {};
  options.table = 4;
  EXPECT_NE(error_of([&] { plan_reproduction(options); }).find("--table must be 2 or 3"), std::string::npos);
}

// ---- with data ---------------------------------------------------------------------------------------

TEST(Reproduce, TinyGridRunsThenASecondInvocationSkipsEverything) {
  SKIP_WITHOUT_DATA(root);
  const HarmonizationData data = handful_of_songs(root, 1);
  TemporaryFolder folder("tiny");
  ReproduceOptions options = small_bin_grid(folder.path() / "runs");
  options.pes = {"ropepool"};
  options.checkpoint_every = 2;
  options.data = &data;
  options.mutual_information = MutualInformationSource::kPaper;
  options.adjust = [](HarmonizationConfig& config) {
    config.d_model = 8;
    config.heads = 2;
    config.d_ff = 8;
    config.features = 4;
    config.dropout = 0.0;
    config.sequence_length = 32;
    config.batch_size = 2;
    config.max_train_windows = 4;
    config.steps = 3;
    config.warmup_steps = 1;
    config.curriculum_ramp_steps = 0;
    config.eval_sequence_length = 32;
    config.max_eval_windows = 2;
    config.max_val_windows = 2;
    config.grid_search = false;
  };
  std::ostringstream first_log;
  const ReproduceResult first = run_reproduction(options, first_log);
  EXPECT_EQ(first.trained, 2) << first_log.str();
  EXPECT_EQ(first.in_domain_evaluated, 2);
  EXPECT_EQ(first.length_generalization_evaluated, 2);
  EXPECT_NE(first_log.str().find("LG (T = 128)"), std::string::npos) << first_log.str();
  ASSERT_TRUE(first.report.has_value());
  const fs::path run = folder.path() / "runs" / "ropepool-bin-s1";
  for (const char* file : {"config.json", "checkpoint.h5", "train_summary.json", "metrics.json"}) {
    EXPECT_TRUE(fs::exists(run / file)) << file;
  }
  std::ifstream in(run / "metrics.json");
  const nlohmann::json metrics = nlohmann::json::parse(in);
  EXPECT_TRUE(metrics.contains("in_domain"));
  EXPECT_TRUE(metrics.contains("length_generalization"));
  EXPECT_TRUE(fs::exists(folder.path() / "runs" / "report" / "table.md"));
  EXPECT_NE(first.report->markdown.find("| | RoPEPool | ours | 2 |"), std::string::npos) << first.report->markdown;

  const auto checkpoint_time = fs::last_write_time(run / "checkpoint.h5");
  std::ostringstream second_log;
  const ReproduceResult second = run_reproduction(options, second_log);
  EXPECT_EQ(second.trained, 0);
  EXPECT_EQ(second.in_domain_evaluated, 0);
  EXPECT_EQ(second.length_generalization_evaluated, 0);
  EXPECT_NE(second_log.str().find("complete: 2 of 2 runs; remaining: 0 trainings"), std::string::npos) << second_log.str();
  EXPECT_EQ(fs::last_write_time(run / "checkpoint.h5"), checkpoint_time);
}

#ifdef STRIPES_BINARY
TEST(ReproduceCli, DryRunAndBadOptions) {
  TemporaryFolder folder("cli");
  const std::string runs = (folder.path() / "runs").string();
  auto [code, output] = run_stripes("reproduce --table 2 --seeds 3 --preset small --contexts KEY,bin --dry-run --runs-dir " + runs);
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("reproduce Table II, preset small: 6 rows × 3 seeds = 18 runs"), std::string::npos) << output;
  EXPECT_NE(output.find("rope-a-key-s0"), std::string::npos) << output;
  EXPECT_NE(output.find("remaining: 18 trainings (0 resumed from a checkpoint)"), std::string::npos) << output;
  EXPECT_FALSE(fs::exists(runs));

  std::tie(code, output) = run_stripes("reproduce --table 4 --dry-run");
  EXPECT_NE(code, 0);
  std::tie(code, output) = run_stripes("reproduce --table 3 --preset huge --dry-run");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("small"), std::string::npos) << output;
  std::tie(code, output) = run_stripes("reproduce --table 3 --dry-run --set d_model --runs-dir " + runs);
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("KEY=VALUE"), std::string::npos) << output;
}
#endif

}  // namespace
}  // namespace stripes::harmonization
