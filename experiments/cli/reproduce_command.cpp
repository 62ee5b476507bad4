// `stripes reproduce`: the paper's full grid of harmonization runs (every (context, PE) row of
// Table II or III × seeds), resumable, then `stripes report` of the runs folder. The logic lives in
// experiments/harmonization/reproduce.{hpp,cpp}.
//
//   stripes reproduce --table 2|3 [--seeds 5] [--preset paper|small] [--runs-dir runs/table<N>-<preset>]
//                     [--contexts TIME,KEY] [--pes ropepool,fstripe1] [--dry-run] [--data DIR]
//                     [--checkpoint-every 500] [--set KEY=VALUE]... [--no-report] [--paper-mi] [-q]
#include "experiments/cli/command_registry.hpp"
#include "experiments/harmonization/reproduce.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace stripes::cli {

namespace {

struct ReproduceCliOptions {
  harmonization::ReproduceOptions options;
  std::string contexts, pes;
  bool no_report = false;
  bool paper_mi = false;
  bool quiet = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

void run_reproduce(ReproduceCliOptions cli) {
  harmonization::ReproduceOptions& options = cli.options;
  options.contexts = split_list(cli.contexts);
  options.pes = split_list(cli.pes);
  options.report = !cli.no_report;
  options.progress = !cli.quiet;
  options.mutual_information =
      cli.paper_mi ? harmonization::MutualInformationSource::kPaper : harmonization::MutualInformationSource::kAuto;
  const harmonization::ReproduceResult result = harmonization::run_reproduction(options, std::cout);
  std::cout.flush();
  if (result.report) {
    for (const std::string& warning : result.report->warnings) fmt::print(stderr, "warning: {}\n", warning);
    std::fflush(stderr);
    fmt::print("\n{}\n", result.report->markdown);
    fmt::print("report written to {}\n", result.report->out_dir);
  }
}

}  // namespace

static void add_reproduce_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "reproduce", "Train and evaluate every run of the paper's Table II or III (PE × context × seed), resumable, then report");
  auto cli = std::make_shared<ReproduceCliOptions>();
  harmonization::ReproduceOptions& options = cli->options;
  cmd->add_option("--table", options.table, "2 (RoPE variants) or 3 (PE comparison)")
      ->check(CLI::IsMember({2, 3}))
      ->capture_default_str();
  cmd->add_option("--seeds", options.seeds, "Seeds 0 .. N-1 per row")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--preset", options.preset, "paper (GPU) or small (CPU minutes)")->capture_default_str();
  cmd->add_option("--runs-dir", options.runs_dir, "Folder of the runs (default runs/table<N>-<preset>)");
  cmd->add_option("--contexts", cli->contexts, "Only these contexts of the table, e.g. BIN,KEY");
  cmd->add_option("--pes", cli->pes, "Only these PEs of the table, e.g. ropepool,fstripe1");
  cmd->add_flag("--dry-run", options.dry_run, "List the runs, what is done and what remains; train nothing");
  cmd->add_option("--data", options.data_dir, "POP909 data root (default: STRIPES_DATA, else ../shared/data)");
  cmd->add_option("--checkpoint-every", options.checkpoint_every, "Steps between checkpoints (0: the preset's)")
      ->capture_default_str();
  cmd->add_option("--set", options.overrides, "Config override KEY=VALUE for every run (repeatable), e.g. --set steps=2000");
  cmd->add_option("--eval-batch", options.eval_batch_size, "Windows per forward in evaluation")->capture_default_str();
  cmd->add_flag("--no-report", cli->no_report, "Do not write the report at the end");
  cmd->add_flag("--paper-mi", cli->paper_mi, "Report: place our runs at the paper's Table I MI in Figure 4");
  cmd->add_flag("-q,--quiet", cli->quiet, "No progress bars");
  cmd->callback([cli] { run_reproduce(*cli); });
}
STRIPES_REGISTER_COMMANDS(add_reproduce_command)

}  // namespace stripes::cli
