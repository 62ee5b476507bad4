// `stripes report RUNS...`: harmonization runs aggregated into the paper's Tables II / III (Markdown
// and CSV, ours beside the paper's numbers, significance marks as in method.md §4.7) and Figure 4
// (metric vs mutual information). The logic lives in experiments/harmonization/report.{hpp,cpp}.
//
//   stripes report RUNS... [--out DIR] [--table 2|3|all] [--data DIR] [--paper-mi]
//
// RUNS: run directories, or folders of run directories (two levels down). Writes OUT/table.md,
// table.csv, significance.csv, figure4.svg and mutual_information.json (default OUT: RUNS/report).
#include "experiments/cli/command_registry.hpp"
#include "experiments/harmonization/report.hpp"

#include <fmt/core.h>

#include <cstdio>

namespace stripes::cli {

namespace {

struct ReportCliOptions {
  std::vector<std::string> paths;
  std::string out;
  std::string table = "all";
  std::string data;
  bool paper_mi = false;
  int ddof = 1;
  std::string levene_center = "median";
};

void run_report(const ReportCliOptions& cli) {
  harmonization::ReportRunOptions options;
  options.paths = cli.paths;
  options.out_dir = cli.out;
  options.report.table = harmonization::parse_table_selection(cli.table);
  options.report.ddof = cli.ddof;
  options.report.comparison.levene_center =
      cli.levene_center == "mean" ? stats::LeveneCenter::kMean : stats::LeveneCenter::kMedian;
  options.data_dir = cli.data;
  options.mutual_information =
      cli.paper_mi ? harmonization::MutualInformationSource::kPaper : harmonization::MutualInformationSource::kAuto;
  const harmonization::ReportOutput output = harmonization::write_report(options);
  for (const std::string& warning : output.warnings) fmt::print(stderr, "warning: {}\n", warning);
  std::fflush(stderr);
  fmt::print("{}\n", output.markdown);
  fmt::print("written:");
  for (const std::string& file : output.files) fmt::print(" {}", file);
  fmt::print("\n");
}

}  // namespace

static void add_report_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "Aggregate harmonization runs into Table II/III (Markdown, CSV, beside the paper) and Figure 4 (SVG)");
  auto options = std::make_shared<ReportCliOptions>();
  cmd->add_option("runs", options->paths, "Run directories or folders of run directories")->required();
  cmd->add_option("--out", options->out, "Output folder (default: RUNS/report)");
  cmd->add_option("--table", options->table, "2 (RoPE variants), 3 (PE comparison) or all (every group with runs)")
      ->check(CLI::IsMember({"2", "3", "all"}))
      ->capture_default_str();
  cmd->add_option("--data", options->data,
                  "POP909 data root for our mutual information (default: STRIPES_DATA, else ../shared/data)");
  cmd->add_flag("--paper-mi", options->paper_mi, "Place our runs at the paper's Table I MI in Figure 4; load no data");
  cmd->add_option("--ddof", options->ddof, "Std over seeds: 1 (sample std) or 0")
      ->check(CLI::IsMember({0, 1}))
      ->capture_default_str();
  cmd->add_option("--levene-center", options->levene_center, "Levene's test centred on the median (scipy) or the mean")
      ->check(CLI::IsMember({"median", "mean"}))
      ->capture_default_str();
  cmd->callback([options] { run_report(*options); });
}
STRIPES_REGISTER_COMMANDS(add_report_command)

}  // namespace stripes::cli
