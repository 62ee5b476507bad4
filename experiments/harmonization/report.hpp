// `stripes report`: harmonization runs aggregated into the paper's Tables II / III and Figure 4
// (method.md §4.7, §4.8, §5).
//
//   runs  = run directories (each with RUN_DIR/metrics.json, written by `stripes eval`)
//   group = (preset, context, PE [, attention when not linear]); within a group one run per seed
//   cell  = mean and std over seeds of one metric (CS ↑, SSMD ↓, GS ↑, NDD ↓) in one setting
//           (ID: in-domain test T; LG: length generalization, the longer test T)
//   block = the rows of one context; within a block and column the best mean is underlined and
//           marked as the paper does (stats::rank_methods: Levene → Student/Welch, `*` best vs 2nd,
//           `†` not vs 2nd but vs 3rd, p < 0.05); bold = best mean of the column over the whole table
//
// Layout (Markdown and CSV): one table per preset (presets are never averaged together), the
// paper's column groups (ID CS SSMD GS NDD | LG CS SSMD GS NDD), context blocks of PE rows, and
// for each PE two adjacent rows: "ours" then "paper" (the paper's Table II/III numbers; with the
// paper's printed underline/bold/marks when the block holds exactly the rows of one of its tables).
//
// Figure 4: one panel per metric, x = mutual information content–context per context (log), y =
// in-domain mean ± std, one series per PE: ours (circles, solid) at our MI, the paper's Table III
// (squares, dashed) at its Table I MI.
#pragma once

#include "experiments/harmonization/training.hpp"
#include "experiments/plot/svg_plot.hpp"
#include "experiments/stats/seed_statistics.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace stripes::harmonization {

// ---- metrics and settings --------------------------------------------------------------------------

inline constexpr int kMetricCount = 4;
const std::array<std::string, kMetricCount>& metric_names();  // CS, SSMD, GS, NDD (the paper's order)
stats::Direction metric_direction(int metric);                 // CS, GS ↑; SSMD, NDD ↓
std::string metric_header(int metric);                         // "CS↑", "SSMD↓", ...

enum class Setting { kInDomain = 0, kLengthGeneralization = 1 };
inline constexpr int kSettingCount = 2;
const char* setting_key(Setting setting);    // "in_domain", "length_generalization" (metrics.json keys)
const char* setting_short(Setting setting);  // "ID", "LG"

// ---- the paper's printed tables --------------------------------------------------------------------

// One printed cell of Table II or III (method.md §4.8): mean, std and the typography.
struct PrintedCell {
  double mean = 0, std = 0;
  bool underline = false, bold = false;
  stats::SignificanceMark mark = stats::SignificanceMark::kNone;
};
struct PrintedRow {
  int table = 3;        // 2 or 3
  std::string context;  // TIME, REP, KEY, BIN
  std::string pe;       // our PE name (rope-a, rope-b, rope-c, fstripe1, ropepool)
  std::array<std::array<PrintedCell, kMetricCount>, kSettingCount> cells;  // [setting][metric]
};
// Every row of Tables II and III as printed (parsed from a copy of method.md §4.8).
const std::vector<PrintedRow>& printed_paper_tables();
// The (context, PE) rows of table 2 or 3, in the paper's order: Table II = RoPE(A/B/C) per context,
// Table III = the chosen RoPE baseline (C; B on REP), F-StrIPE1, RoPEPool.
std::vector<std::pair<std::string, std::string>> paper_table_rows(int table);

// ---- runs ------------------------------------------------------------------------------------------

struct SettingScores {
  std::array<std::optional<double>, kMetricCount> values;  // nullopt: absent or null in the file
  int sequence_length = 0;
  int64_t windows = 0;
};

struct RunRecord {
  std::string run_dir;
  std::string preset, context, pe, attention = "linear";
  uint64_t seed = 0;
  std::array<std::optional<SettingScores>, kSettingCount> settings;
  nlohmann::json scoring;  // metrics.json "scoring" (null when absent)
};

// True when `path` holds one of config.json, train_summary.json, checkpoint.h5, metrics.json.
bool is_run_directory(const std::string& path);

// RUN_DIR/metrics.json (the format of docs/harmonization.md; the older flat format with the scores
// directly under "in_domain" is read too). Identity fields missing from metrics.json are taken from
// config.json. Throws stripes::Error naming the file when it is not valid JSON or lacks a field.
RunRecord read_run_record(const std::string& run_dir);

struct CollectedRuns {
  std::vector<RunRecord> runs;        // runs with metrics.json, sorted by (preset, context, pe, seed)
  std::vector<std::string> warnings;  // runs skipped (and what they miss), duplicate seeds
};
// Each path is a run directory or a folder of run directories (searched two levels down). Throws
// when a path does not exist or holds no run directory, and on malformed metrics.json (naming it).
CollectedRuns collect_runs(const std::vector<std::string>& paths);

// ---- tables ----------------------------------------------------------------------------------------

enum class TableSelection { kAll, kTable2, kTable3 };
TableSelection parse_table_selection(const std::string& text);  // "2", "3", "all"

struct OurCell {
  std::vector<double> values;             // one per seed that has the value
  std::optional<stats::Summary> summary;  // nullopt: no value; std NaN with one value
  bool best = false;                      // underline: best mean of its context block
  bool best_overall = false;              // bold: best mean of its column over the table
  stats::SignificanceMark mark = stats::SignificanceMark::kNone;
};

struct ReportRow {
  std::string context, pe, attention = "linear";
  std::string label;  // "RoPE(C)", "F-StrIPE1", ... (the PE name when the paper has no row)
  std::vector<uint64_t> seeds;
  std::vector<std::string> run_dirs;
  std::array<std::array<OurCell, kMetricCount>, kSettingCount> ours;
  // The paper's row (Tables II-III), when it has one; `printed` when the row's block holds exactly
  // the rows of one of the paper's tables, so that its underline/bold/marks mean the same thing.
  std::optional<std::array<std::array<PrintedCell, kMetricCount>, kSettingCount>> paper;
  bool paper_typography = false;
};

// The outcome of one (context, setting, metric) comparison, for OUT/significance.csv.
struct BlockComparison {
  std::string context;
  Setting setting = Setting::kInDomain;
  int metric = 0;
  std::vector<size_t> order;  // row indices (into ReportTable::rows), best first
  std::optional<stats::MethodRanking> ranking;  // when every compared row has ≥ 2 seeds
};

struct ReportTable {
  std::string preset;
  TableSelection selection = TableSelection::kAll;
  std::vector<ReportRow> rows;  // grouped by context (TIME, REP, KEY, BIN, MCP), PEs in the paper's order
  std::vector<BlockComparison> comparisons;
  std::array<std::set<int>, kSettingCount> sequence_lengths;  // test T seen per setting
  std::vector<nlohmann::json> scorings;                        // distinct "scoring" blocks
};

struct ReportOptions {
  TableSelection table = TableSelection::kAll;
  stats::ComparisonOptions comparison;
  int ddof = 1;      // std over seeds (docs/metrics.md)
  int decimals = 2;  // as the paper
};

// One table per preset ("paper" first, then alphabetical). kTable2/kTable3: exactly the paper's
// rows of that table (rows without runs stay, with "–"); kAll: every group that has runs.
std::vector<ReportTable> build_report_tables(const std::vector<RunRecord>& runs, const ReportOptions& options = {});

std::string format_markdown(const ReportTable& table, const ReportOptions& options = {});
// Every table, one line per (preset, context, PE, source ∈ {ours, paper}); per setting × metric:
// mean, std, n, best (0/1), bold (0/1), mark.
std::string format_csv(const std::vector<ReportTable>& tables, const ReportOptions& options = {});
// One line per compared block and column: the best, the second and third, Levene, t-test, p.
std::string format_significance_csv(const std::vector<ReportTable>& tables);

// ---- Figure 4 --------------------------------------------------------------------------------------

struct MutualInformationValues {
  std::map<std::string, double> nats;  // TIME, REP, KEY, BIN
  bool computed = false;               // false: the paper's Table I values
  std::string description;             // how they were obtained (for the caption and stdout)
  std::string cache_path;              // the cache file they were read from ("" : not from a cache)
};
MutualInformationValues paper_mutual_information_values();
// data::content_context_mutual_information with its defaults (as `stripes data mi`).
MutualInformationValues compute_mutual_information(const HarmonizationData& data);
// OUT/mutual_information.json: read (nullopt when absent or not a complete computed cache) and write.
std::optional<MutualInformationValues> read_mutual_information_cache(const std::string& path);
void write_mutual_information_cache(const std::string& path, const MutualInformationValues& values);

// 2×2 panels CS, GS, SSMD, NDD; ours at `ours_mi`, the paper's Table III at its Table I values.
plot::Figure make_figure4(const ReportTable& table, const MutualInformationValues& ours_mi);

// ---- the whole report ------------------------------------------------------------------------------

enum class MutualInformationSource {
  kAuto,   // OUT/mutual_information.json if present, else computed when the data is found, else the paper's
  kPaper,  // the paper's Table I values; no data is loaded
};

struct ReportRunOptions {
  std::vector<std::string> paths;
  std::string out_dir;   // "" : default_report_directory(paths)
  ReportOptions report;
  std::string data_dir;  // for the mutual information ("" : the usual search)
  MutualInformationSource mutual_information = MutualInformationSource::kAuto;
  const HarmonizationData* data = nullptr;  // already loaded (reproduce): used for the MI
};

struct ReportOutput {
  std::vector<ReportTable> tables;
  std::string markdown;               // what `stripes report` prints
  std::vector<std::string> warnings;  // skipped runs, MI source, mixed scoring
  std::vector<std::string> files;     // written
  MutualInformationValues mutual_information;
  std::string out_dir;
};

// PATH/report for a folder of runs, the parent's report/ for a single run directory.
std::string default_report_directory(const std::vector<std::string>& paths);

// collect_runs + build_report_tables + OUT/table.md, table.csv, significance.csv, figure4.svg
// (figure4-<preset>.svg for further presets), mutual_information.json.
ReportOutput write_report(const ReportRunOptions& options);

}  // namespace stripes::harmonization
