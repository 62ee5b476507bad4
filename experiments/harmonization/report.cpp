#include "experiments/harmonization/report.hpp"

#include "data/contexts.hpp"
#include "data/mutual_information.hpp"
#include "data/pop909/data_root.hpp"
#include "experiments/harmonization/paper_results.hpp"
#include "tensor/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

namespace stripes::harmonization {

namespace fs = std::filesystem;

// ---- metrics and settings --------------------------------------------------------------------------

const std::array<std::string, kMetricCount>& metric_names() {
  static const std::array<std::string, kMetricCount> names = {"CS", "SSMD", "GS", "NDD"};
  return names;
}

stats::Direction metric_direction(int metric) {
  return metric == 0 || metric == 2 ? stats::Direction::kHigherIsBetter : stats::Direction::kLowerIsBetter;
}

std::string metric_header(int metric) {
  return metric_names()[size_t(metric)] + (metric_direction(metric) == stats::Direction::kHigherIsBetter ? "↑" : "↓");
}

const char* setting_key(Setting setting) {
  return setting == Setting::kInDomain ? "in_domain" : "length_generalization";
}

const char* setting_short(Setting setting) { return setting == Setting::kInDomain ? "ID" : "LG"; }

namespace {

constexpr std::array<Setting, kSettingCount> kSettings = {Setting::kInDomain, Setting::kLengthGeneralization};

// ---- the paper's printed tables (a verbatim copy of method.md §4.8) ---------------------------------

constexpr const char* kPrintedTableII = R"(
| TIME | A | 2.44 0.06 | _14.65 0.0_ | 7.46 0.05 | 94.1 0.04 | 5.83 3.27 | 13.8 0.0 | 18.27 9.1 | 91.79 0.84 |
| TIME | B | 1.61 0.74 | 14.66 0.01 | 6.72 0.71 | 94.38 0.27 | 2.23 0.09 | 13.8 0.0 | 8.44 0.21 | 92.72 0.03 |
| TIME | C | _4.5 4.16_ | _14.65 0.02_ | _10.42 5.32_ | _93.82 1.01_ | _9.1 0.49†_ | _13.79 0.0*_ | _26.78 1.19†_ | _91.26 0.2†_ |
| REP | A | 5.42 5.51 | 14.61 0.06 | 10.89 6.65 | 92.75 2.27 | 15.42 1.18 | 13.67 0.01 | 42.4 3.23 | 86.77 0.92 |
| REP | B | _18.37 1.11*_ | _14.36 0.03*_ | _25.63 1.76*_ | _86.13 0.57*_ | _18.17 1.92*_ | _13.46 0.02*_ | _49.56 3.12*_ | _82.9 0.54*_ |
| REP | C | 4.59 5.16 | 14.59 0.11 | 9.76 5.6 | 92.84 2.57 | 9.46 7.28 | 13.62 0.15 | 27.27 20.17 | 88.35 4.06 |
| KEY | A | 11.05 5.62 | _14.49 0.09_ | 16.89 6.59 | _89.64 2.56_ | 14.59 5.24 | 13.63 0.08 | 39.02 12.34 | 86.82 2.35 |
| KEY | B | 11.85 4.6 | 14.5 0.07 | 18.49 5.52 | 89.85 1.99 | _16.2 2.21_ | 13.63 0.01 | _43.67 3.95_ | _85.87 0.39_ |
| KEY | C | _12.03 4.51_ | _14.49 0.07_ | _18.57 5.37_ | 89.87 1.93 | 15.84 1.09 | _13.62 0.02_ | 42.04 2.65 | 86.68 0.85 |
| BIN | A | 1.81 0.34 | 14.64 0.01 | 6.76 0.35 | 94.3 0.14 | 10.04 4.21 | 13.74 0.02 | 30.39 11.72 | 89.44 1.69 |
| BIN | B | 1.9 0.18 | 14.66 0.01 | 7.07 0.18 | 94.29 0.07 | 3.51 2.56 | 13.8 0.0 | 11.93 7.12 | 92.31 0.73 |
| BIN | C | _22.14 0.56*_ | _13.98 0.01*_ | _26.45 0.52*_ | _79.25 0.29*_ | _26.27 0.44*_ | _13.13 0.01*_ | _66.81 0.6*_ | _75.02 0.34*_ |
)";

constexpr const char* kPrintedTableIII = R"(
| TIME | RoPE(C) | 4.5 4.16 | 14.65 0.02 | _10.42 5.32_ | 93.82 1.01 | _9.1 0.49*_ | 13.79 0.0 | _26.78 1.19*_ | 91.26 0.2 |
| TIME | F-StrIPE₁ | _6.01 2.67_ | _14.64 0.02_ | 11.9 3.24 | _93.2 0.76_ | 6.68 1.12 | 13.79 0.0 | 20.67 2.59 | 91.4 0.21 |
| TIME | RoPEPool | 2.49 2.64 | 14.66 0.01 | 7.79 3.32 | 94.28 0.68 | 7.23 0.62 | _13.79 0.0*_ | 22.13 1.65 | _91.18 0.2_ |
| REP | RoPE(B) | _18.37 1.11†_ | _14.36 0.03†_ | _25.63 1.76†_ | _86.13 0.57†_ | _18.17 1.92*_ | _13.46 0.02*_ | _49.56 3.12*_ | _82.9 0.54*_ |
| REP | F-StrIPE₁ | 17.71 0.97 | 14.37 0.03 | 24.82 1.22 | 86.81 0.71 | 13.85 1.18 | 13.59 0.03 | 37.66 1.93 | 86.47 0.66 |
| REP | RoPEPool | 14.23 1.13 | 14.47 0.02 | 20.87 1.86 | 88.81 0.29 | 11.67 0.58 | 13.7 0.01 | 34.11 1.12 | 88.04 0.52 |
| KEY | RoPE(C) | 12.03 4.51 | 14.49 0.07 | 18.57 5.37 | 89.87 1.93 | 15.84 1.09 | 13.62 0.02 | 42.04 2.65 | 86.68 0.85 |
| KEY | F-StrIPE₁ | 19.73 0.4 | _14.1 0.02*_ | 24.08 0.48 | _81.41 0.27†_ | _23.6 0.51†_ | _13.2 0.05†_ | _60.87 1.28†_ | _77.47 0.35†_ |
| KEY | RoPEPool | _21.05 1.22†_ | 14.18 0.06 | _26.05 1.53*_ | 82.46 0.96 | 23.11 1.43 | 13.28 0.09 | 59.74 2.46 | 78.69 1.37 |
| BIN | RoPE(C) | 22.14 0.56 | 13.98 0.01 | 26.45 0.52 | 79.25 0.29 | 26.27 0.44 | 13.13 0.01 | 66.81 0.6 | 75.02 0.34 |
| BIN | F-StrIPE₁ | 24.91 0.35 | **_13.73 0.03†_** | 28.19 0.31 | 77.15 0.33 | 28.3 0.81 | **_12.95 0.04†_** | 71.35 0.99 | 73.97 0.48 |
| BIN | RoPEPool | **_25.83 1.02†_** | 13.74 0.07 | **_29.11 0.97†_** | **_76.73 1.09†_** | **_28.6 0.8†_** | 12.99 0.06 | **_72.56 1.54†_** | **_73.77 1.23_** |
)";

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  const size_t end = text.find_last_not_of(" \t");
  return text.substr(begin, end - begin + 1);
}

bool strip_around(std::string& text, const std::string& marker) {
  if (text.size() >= 2 * marker.size() && text.starts_with(marker) && text.ends_with(marker)) {
    text = text.substr(marker.size(), text.size() - 2 * marker.size());
    return true;
  }
  return false;
}

bool strip_suffix(std::string& text, const std::string& suffix) {
  if (!text.ends_with(suffix)) return false;
  text.resize(text.size() - suffix.size());
  return true;
}

PrintedCell parse_printed_cell(std::string text) {
  PrintedCell cell;
  cell.bold = strip_around(text, "**");
  cell.underline = strip_around(text, "_");
  if (strip_suffix(text, "*")) cell.mark = stats::SignificanceMark::kBeatsSecond;
  else if (strip_suffix(text, "†")) cell.mark = stats::SignificanceMark::kBeatsThird;
  std::istringstream in(text);
  STRIPES_CHECK(bool(in >> cell.mean >> cell.std), "report: cannot parse the printed cell '{}'", text);
  return cell;
}

std::string pe_of_printed_label(const std::string& label) {
  static const std::map<std::string, std::string> names = {
      {"A", "rope-a"},       {"B", "rope-b"},          {"C", "rope-c"},        {"RoPE(A)", "rope-a"},
      {"RoPE(B)", "rope-b"}, {"RoPE(C)", "rope-c"},    {"F-StrIPE₁", "fstripe1"}, {"RoPEPool", "ropepool"}};
  const auto found = names.find(label);
  STRIPES_CHECK(found != names.end(), "report: unknown printed method '{}'", label);
  return found->second;
}

std::vector<PrintedRow> parse_printed_table(int table, const char* text) {
  std::vector<PrintedRow> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (trim(line).empty()) continue;
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string field; std::getline(cells, field, '|');) fields.push_back(trim(field));
    // "| a | b |" splits into "", a, b (the trailing empty field is not produced by getline).
    STRIPES_CHECK(fields.size() == 11, "report: a printed row has {} fields: {}", fields.size(), line);
    PrintedRow row;
    row.table = table;
    row.context = fields[1];
    row.pe = pe_of_printed_label(fields[2]);
    for (int s = 0; s < kSettingCount; ++s) {
      for (int m = 0; m < kMetricCount; ++m) row.cells[size_t(s)][size_t(m)] = parse_printed_cell(fields[size_t(3 + 4 * s + m)]);
    }
    rows.push_back(row);
  }
  return rows;
}

// ---- small helpers ---------------------------------------------------------------------------------

int context_rank(const std::string& context) {
  static const std::vector<std::string> order = {"TIME", "REP", "KEY", "BIN", "MCP"};
  const auto found = std::find(order.begin(), order.end(), context);
  return found == order.end() ? int(order.size()) : int(found - order.begin());
}

int pe_rank(const std::string& pe) {
  static const std::vector<std::string> order = {"rope-a", "rope-b", "rope-c", "fstripe1", "ropepool"};
  const auto found = std::find(order.begin(), order.end(), pe);
  return found == order.end() ? int(order.size()) : int(found - order.begin());
}

bool row_less(const std::string& context_a, const std::string& pe_a, const std::string& attention_a,
              const std::string& context_b, const std::string& pe_b, const std::string& attention_b) {
  return std::make_tuple(context_rank(context_a), context_a, pe_rank(pe_a), pe_a, attention_a) <
         std::make_tuple(context_rank(context_b), context_b, pe_rank(pe_b), pe_b, attention_b);
}

std::string pe_label(const std::string& context, const std::string& pe, const std::string& attention) {
  std::string label = pe;
  if (const auto row = find_paper_result(context == "MCP" ? "BIN" : context, pe)) label = row->label;
  if (attention != "linear") label += " [" + attention + "]";
  return label;
}

nlohmann::json read_json_file(const fs::path& path) {
  std::ifstream in(path);
  STRIPES_CHECK(in.good(), "report: cannot read {}", path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("report: {} is not valid JSON: {}", path.string(), error.what()));
  }
}

void write_text_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  STRIPES_CHECK(out.good(), "report: cannot write {}", path.string());
  out << text;
  STRIPES_CHECK(out.good(), "report: cannot write {}", path.string());
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) text += (i ? separator : "") + parts[i];
  return text;
}

std::string number(double value, int decimals) { return fmt::format("{:.{}f}", value, decimals); }

// "22.14 0.56*", "22.14 –" (one value), with _underline_ and **bold**.
std::string typeset(double mean, double std, stats::SignificanceMark mark, bool underline, bool bold, int decimals) {
  std::string text = number(mean, decimals) + " " + (std::isfinite(std) ? number(std, decimals) : "–") + stats::mark_symbol(mark);
  if (underline) text = "_" + text + "_";
  if (bold) text = "**" + text + "**";
  return text;
}

std::string selection_title(TableSelection selection) {
  switch (selection) {
    case TableSelection::kTable2: return "Table II layout (RoPE variants)";
    case TableSelection::kTable3: return "Table III layout (PE comparison)";
    case TableSelection::kAll: break;
  }
  return "all runs";
}

std::string selection_name(TableSelection selection) {
  switch (selection) {
    case TableSelection::kTable2: return "2";
    case TableSelection::kTable3: return "3";
    case TableSelection::kAll: break;
  }
  return "all";
}

std::string lengths_text(const std::set<int>& lengths) {
  if (lengths.empty()) return "–";
  std::vector<std::string> parts;
  for (const int length : lengths) parts.push_back(std::to_string(length));
  return join(parts, ", ");
}

}  // namespace

// ---- the paper's printed tables --------------------------------------------------------------------

const std::vector<PrintedRow>& printed_paper_tables() {
  static const std::vector<PrintedRow> rows = [] {
    std::vector<PrintedRow> all = parse_printed_table(2, kPrintedTableII);
    for (const PrintedRow& row : parse_printed_table(3, kPrintedTableIII)) all.push_back(row);
    return all;
  }();
  return rows;
}

std::vector<std::pair<std::string, std::string>> paper_table_rows(int table) {
  STRIPES_CHECK(table == 2 || table == 3, "the paper's tables are 2 and 3, got {}", table);
  std::vector<std::pair<std::string, std::string>> rows;
  for (const PrintedRow& row : printed_paper_tables()) {
    if (row.table == table) rows.emplace_back(row.context, row.pe);
  }
  return rows;
}

// ---- runs ------------------------------------------------------------------------------------------

bool is_run_directory(const std::string& path) {
  std::error_code error;
  if (!fs::is_directory(path, error)) return false;
  for (const char* file : {"config.json", "train_summary.json", "checkpoint.h5", "metrics.json"}) {
    if (fs::exists(fs::path(path) / file, error)) return true;
  }
  return false;
}

RunRecord read_run_record(const std::string& run_dir) {
  const fs::path file = fs::path(run_dir) / "metrics.json";
  const nlohmann::json json = read_json_file(file);
  const std::string name = file.string();
  STRIPES_CHECK(json.is_object(), "report: {} is not a JSON object", name);
  RunRecord record;
  record.run_dir = run_dir;
  try {
    // Identity: metrics.json, else config.json.
    nlohmann::json config;
    const auto identity = [&](const char* key) -> const nlohmann::json* {
      if (json.contains(key)) return &json.at(key);
      if (config.is_null() && fs::exists(fs::path(run_dir) / "config.json")) config = read_json_file(fs::path(run_dir) / "config.json");
      if (config.is_object() && config.contains(key)) return &config.at(key);
      return nullptr;
    };
    for (const char* key : {"pe", "context", "preset", "seed"}) {
      STRIPES_CHECK(identity(key) != nullptr, "report: {} has no '{}' (nor has config.json)", name, key);
    }
    record.pe = identity("pe")->get<std::string>();
    record.context = identity("context")->get<std::string>();
    std::transform(record.context.begin(), record.context.end(), record.context.begin(),
                   [](unsigned char c) { return char(std::toupper(c)); });
    record.preset = identity("preset")->get<std::string>();
    record.seed = identity("seed")->get<uint64_t>();
    if (const nlohmann::json* attention = identity("attention")) record.attention = attention->get<std::string>();
    if (json.contains("scoring")) record.scoring = json.at("scoring");

    for (const Setting setting : kSettings) {
      const char* key = setting_key(setting);
      if (!json.contains(key) || json.at(key).is_null()) continue;
      const nlohmann::json& block = json.at(key);
      STRIPES_CHECK(block.is_object(), "report: {}: '{}' is not an object", name, key);
      // New format: {"sequence_length", "windows", "scores": {...}}; older: the scores themselves,
      // with sequence_length / windows at the top level.
      const bool nested = block.contains("scores");
      const nlohmann::json& scores = nested ? block.at("scores") : block;
      const nlohmann::json& info = nested ? block : json;
      STRIPES_CHECK(scores.is_object(), "report: {}: '{}.scores' is not an object", name, key);
      SettingScores result;
      bool any = false;
      for (int m = 0; m < kMetricCount; ++m) {
        const std::string& metric = metric_names()[size_t(m)];
        if (!scores.contains(metric) || scores.at(metric).is_null()) continue;
        STRIPES_CHECK(scores.at(metric).is_number(), "report: {}: '{}' score {} is not a number", name, key, metric);
        result.values[size_t(m)] = scores.at(metric).get<double>();
        any = true;
      }
      STRIPES_CHECK(any, "report: {}: '{}' holds none of CS, SSMD, GS, NDD", name, key);
      if (info.contains("sequence_length")) result.sequence_length = info.at("sequence_length").get<int>();
      if (info.contains("windows")) result.windows = info.at("windows").get<int64_t>();
      record.settings[size_t(setting)] = result;
    }
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("report: {}: unexpected content: {}", name, error.what()));
  }
  return record;
}

CollectedRuns collect_runs(const std::vector<std::string>& paths) {
  STRIPES_CHECK(!paths.empty(), "report: give at least one run directory or folder of runs");
  CollectedRuns collected;
  std::vector<std::string> run_dirs;
  for (const std::string& path : paths) {
    STRIPES_CHECK(fs::exists(path), "report: '{}' does not exist", path);
    STRIPES_CHECK(fs::is_directory(path), "report: '{}' is not a directory", path);
    std::vector<std::string> found;
    const auto children = [](const fs::path& folder) {
      std::vector<fs::path> entries;
      for (const fs::directory_entry& entry : fs::directory_iterator(folder)) {
        if (entry.is_directory()) entries.push_back(entry.path());
      }
      std::sort(entries.begin(), entries.end());
      return entries;
    };
    if (is_run_directory(path)) {
      found.push_back(path);
    } else {
      for (const fs::path& child : children(path)) {
        if (is_run_directory(child.string())) {
          found.push_back(child.string());
          continue;
        }
        for (const fs::path& grandchild : children(child)) {
          if (is_run_directory(grandchild.string())) found.push_back(grandchild.string());
        }
      }
    }
    STRIPES_CHECK(!found.empty(),
                  "report: no run directories in '{}' (a run directory holds config.json, train_summary.json, "
                  "checkpoint.h5 and, after `stripes eval`, metrics.json; folders are searched two levels down)",
                  path);
    for (const std::string& dir : found) {
      const std::string canonical = fs::weakly_canonical(dir).string();
      if (std::find(run_dirs.begin(), run_dirs.end(), canonical) == run_dirs.end()) run_dirs.push_back(canonical);
    }
  }

  for (const std::string& dir : run_dirs) {
    if (!fs::exists(fs::path(dir) / "metrics.json")) {
      std::vector<std::string> has, missing;
      for (const char* file : {"config.json", "checkpoint.h5", "train_summary.json", "metrics.json"}) {
        (fs::exists(fs::path(dir) / file) ? has : missing).push_back(file);
      }
      collected.warnings.push_back(fmt::format("skipping {}: no metrics.json (has {}; missing {}){}", dir,
                                               has.empty() ? "nothing" : join(has, ", "), join(missing, ", "),
                                               fs::exists(fs::path(dir) / "train_summary.json")
                                                   ? fmt::format(" — evaluate it: stripes eval {}", dir)
                                                   : " — training did not finish"));
      continue;
    }
    RunRecord record = read_run_record(dir);
    if (!record.settings[0] && !record.settings[1]) {
      collected.warnings.push_back(
          fmt::format("skipping {}: metrics.json has neither in_domain nor length_generalization scores", dir));
      continue;
    }
    const auto duplicate = std::find_if(collected.runs.begin(), collected.runs.end(), [&](const RunRecord& other) {
      return other.preset == record.preset && other.context == record.context && other.pe == record.pe &&
             other.attention == record.attention && other.seed == record.seed;
    });
    if (duplicate != collected.runs.end()) {
      collected.warnings.push_back(fmt::format("skipping {}: same preset, context, PE and seed ({} {} {} seed {}) as {}",
                                               dir, record.preset, record.context, record.pe, record.seed,
                                               duplicate->run_dir));
      continue;
    }
    collected.runs.push_back(std::move(record));
  }
  std::sort(collected.runs.begin(), collected.runs.end(), [](const RunRecord& a, const RunRecord& b) {
    if (a.preset != b.preset) return a.preset < b.preset;
    if (a.context != b.context || a.pe != b.pe || a.attention != b.attention) {
      return row_less(a.context, a.pe, a.attention, b.context, b.pe, b.attention);
    }
    return a.seed < b.seed;
  });
  return collected;
}

// ---- tables ----------------------------------------------------------------------------------------

TableSelection parse_table_selection(const std::string& text) {
  if (text == "2" || text == "II") return TableSelection::kTable2;
  if (text == "3" || text == "III") return TableSelection::kTable3;
  if (text == "all") return TableSelection::kAll;
  throw Error(fmt::format("report: --table must be 2, 3 or all, got '{}'", text));
}

namespace {

// Underline and marks of one context block, one setting and one metric.
BlockComparison compare_block(std::vector<ReportRow>& rows, const std::vector<size_t>& block, Setting setting, int metric,
                              const ReportOptions& options) {
  BlockComparison comparison;
  comparison.context = rows[block.front()].context;
  comparison.setting = setting;
  comparison.metric = metric;
  std::vector<size_t> candidates;
  bool all_replicated = true;
  for (const size_t r : block) {
    const OurCell& cell = rows[r].ours[size_t(setting)][size_t(metric)];
    if (cell.values.empty()) continue;
    candidates.push_back(r);
    all_replicated = all_replicated && cell.values.size() >= 2;
  }
  const stats::Direction direction = metric_direction(metric);
  if (candidates.size() >= 2 && all_replicated) {
    std::vector<std::vector<double>> values;
    for (const size_t r : candidates) values.push_back(rows[r].ours[size_t(setting)][size_t(metric)].values);
    const stats::MethodRanking ranking = stats::rank_methods(values, direction, options.comparison, options.ddof);
    for (const size_t i : ranking.order) comparison.order.push_back(candidates[i]);
    comparison.ranking = ranking;
    OurCell& best = rows[comparison.order.front()].ours[size_t(setting)][size_t(metric)];
    best.best = true;
    best.mark = ranking.mark;
  } else {
    comparison.order = candidates;
    std::stable_sort(comparison.order.begin(), comparison.order.end(), [&](size_t a, size_t b) {
      const double ma = rows[a].ours[size_t(setting)][size_t(metric)].summary->mean;
      const double mb = rows[b].ours[size_t(setting)][size_t(metric)].summary->mean;
      return direction == stats::Direction::kHigherIsBetter ? ma > mb : ma < mb;
    });
    // A single row has nothing to be best against; one-seed rows get the underline but no mark.
    if (candidates.size() >= 2) rows[comparison.order.front()].ours[size_t(setting)][size_t(metric)].best = true;
  }
  // Rows whose mean equals the best mean are underlined too (as the paper does with ties); the mark
  // stays on the first of them.
  if (candidates.size() >= 2) {
    const double best_mean = rows[comparison.order.front()].ours[size_t(setting)][size_t(metric)].summary->mean;
    for (const size_t r : candidates) {
      OurCell& cell = rows[r].ours[size_t(setting)][size_t(metric)];
      if (cell.summary->mean == best_mean) cell.best = true;
    }
  }
  return comparison;
}

}  // namespace

std::vector<ReportTable> build_report_tables(const std::vector<RunRecord>& runs, const ReportOptions& options) {
  std::vector<std::string> presets;
  for (const RunRecord& run : runs) {
    if (std::find(presets.begin(), presets.end(), run.preset) == presets.end()) presets.push_back(run.preset);
  }
  std::sort(presets.begin(), presets.end(), [](const std::string& a, const std::string& b) {
    return std::make_pair(a != "paper", a) < std::make_pair(b != "paper", b);
  });

  std::vector<ReportTable> tables;
  for (const std::string& preset : presets) {
    ReportTable table;
    table.preset = preset;
    table.selection = options.table;

    // Rows: the paper's table, or every group with runs.
    using Key = std::tuple<std::string, std::string, std::string>;  // context, pe, attention
    std::vector<Key> keys;
    if (options.table == TableSelection::kAll) {
      for (const RunRecord& run : runs) {
        if (run.preset != preset) continue;
        const Key key{run.context, run.pe, run.attention};
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      }
    } else {
      for (const auto& [context, pe] : paper_table_rows(options.table == TableSelection::kTable2 ? 2 : 3)) {
        keys.emplace_back(context, pe, "linear");
      }
    }
    std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
      return row_less(std::get<0>(a), std::get<1>(a), std::get<2>(a), std::get<0>(b), std::get<1>(b), std::get<2>(b));
    });

    for (const auto& [context, pe, attention] : keys) {
      ReportRow row;
      row.context = context;
      row.pe = pe;
      row.attention = attention;
      row.label = pe_label(context, pe, attention);
      for (const RunRecord& run : runs) {
        if (run.preset != preset || run.context != context || run.pe != pe || run.attention != attention) continue;
        row.seeds.push_back(run.seed);
        row.run_dirs.push_back(run.run_dir);
        for (const Setting setting : kSettings) {
          const auto& scores = run.settings[size_t(setting)];
          if (!scores) continue;
          if (scores->sequence_length > 0) table.sequence_lengths[size_t(setting)].insert(scores->sequence_length);
          for (int m = 0; m < kMetricCount; ++m) {
            if (scores->values[size_t(m)]) row.ours[size_t(setting)][size_t(m)].values.push_back(*scores->values[size_t(m)]);
          }
        }
        if (!run.scoring.is_null() &&
            std::find(table.scorings.begin(), table.scorings.end(), run.scoring) == table.scorings.end()) {
          table.scorings.push_back(run.scoring);
        }
      }
      for (auto& setting_cells : row.ours) {
        for (OurCell& cell : setting_cells) {
          if (cell.values.empty()) continue;
          if (int(cell.values.size()) > options.ddof) cell.summary = stats::summarize(cell.values, options.ddof);
          else cell.summary = stats::Summary{stats::mean(cell.values), NAN, cell.values.size()};
        }
      }
      if (attention == "linear") {
        if (const auto paper = find_paper_result(context, pe)) {
          std::array<std::array<PrintedCell, kMetricCount>, kSettingCount> cells{};
          for (int m = 0; m < kMetricCount; ++m) {
            cells[0][size_t(m)] = PrintedCell{paper->in_domain[size_t(m)], paper->in_domain_std[size_t(m)]};
            cells[1][size_t(m)] = PrintedCell{paper->length_generalization[size_t(m)],
                                              paper->length_generalization_std[size_t(m)]};
          }
          row.paper = cells;
        }
      }
      table.rows.push_back(std::move(row));
    }

    // Context blocks: comparisons, and the paper's typography where the block is one of its tables'.
    std::vector<std::vector<size_t>> blocks;
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (r == 0 || table.rows[r].context != table.rows[r - 1].context) blocks.emplace_back();
      blocks.back().push_back(r);
    }
    for (const std::vector<size_t>& block : blocks) {
      std::set<std::string> pes;
      for (const size_t r : block) pes.insert(table.rows[r].attention == "linear" ? table.rows[r].pe : "");
      for (const int paper_table : {3, 2}) {
        std::set<std::string> printed;
        for (const auto& [context, pe] : paper_table_rows(paper_table)) {
          if (context == table.rows[block.front()].context) printed.insert(pe);
        }
        if (printed.empty() || printed != pes) continue;
        for (const size_t r : block) {
          ReportRow& row = table.rows[r];
          for (const PrintedRow& printed_row : printed_paper_tables()) {
            if (printed_row.table == paper_table && printed_row.context == row.context && printed_row.pe == row.pe) {
              row.paper = printed_row.cells;
              row.paper_typography = true;
            }
          }
        }
        break;
      }
      for (const Setting setting : kSettings) {
        for (int m = 0; m < kMetricCount; ++m) table.comparisons.push_back(compare_block(table.rows, block, setting, m, options));
      }
    }

    // Bold: the best mean of each column over the whole table (only with ≥ 2 context blocks).
    if (blocks.size() >= 2) {
      for (const Setting setting : kSettings) {
        for (int m = 0; m < kMetricCount; ++m) {
          std::optional<double> best;
          const bool higher = metric_direction(m) == stats::Direction::kHigherIsBetter;
          for (const ReportRow& row : table.rows) {
            const OurCell& cell = row.ours[size_t(setting)][size_t(m)];
            if (cell.summary && (!best || (higher ? cell.summary->mean > *best : cell.summary->mean < *best))) best = cell.summary->mean;
          }
          for (ReportRow& row : table.rows) {
            OurCell& cell = row.ours[size_t(setting)][size_t(m)];
            cell.best_overall = best && cell.summary && cell.summary->mean == *best;
          }
        }
      }
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

std::string format_markdown(const ReportTable& table, const ReportOptions& options) {
  std::string text = fmt::format("## {} — preset {}\n\n", selection_title(table.selection), table.preset);
  size_t runs = 0;
  for (const ReportRow& row : table.rows) runs += row.seeds.size();
  text += fmt::format("ours: {} run{}; test windows in-domain T = {}, length generalization T = {}", runs, runs == 1 ? "" : "s",
                      lengths_text(table.sequence_lengths[0]), lengths_text(table.sequence_lengths[1]));
  if (table.scorings.size() == 1) {
    std::vector<std::string> parts;
    for (const auto& [key, value] : table.scorings.front().items()) {
      parts.push_back(key + " " + (value.is_string() ? value.get<std::string>() : value.dump()));
    }
    text += "; scoring: " + join(parts, ", ");
  } else if (table.scorings.size() > 1) {
    text += fmt::format("; scoring: {} different settings (see the warnings)", table.scorings.size());
  }
  text += ".\npaper: Tables II-III of method.md §4.8 (5 seeds, full model, T = 1024 / 4096).\n\n";

  std::string header = "| context | PE | source | seeds |";
  std::string rule = "|---|---|---|---|";
  for (const Setting setting : kSettings) {
    for (int m = 0; m < kMetricCount; ++m) {
      header += fmt::format(" {} {} |", setting_short(setting), metric_header(m));
      rule += "---|";
    }
  }
  text += header + "\n" + rule + "\n";
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const ReportRow& row = table.rows[r];
    const bool first = r == 0 || table.rows[r - 1].context != row.context;
    std::string line = fmt::format("|{}| {} | ours | {} |", first ? " " + row.context + " " : " ", row.label, row.seeds.size());
    for (const Setting setting : kSettings) {
      for (int m = 0; m < kMetricCount; ++m) {
        const OurCell& cell = row.ours[size_t(setting)][size_t(m)];
        std::string value = "–";
        if (cell.summary) {
          value = typeset(cell.summary->mean, cell.summary->std, cell.mark, cell.best, cell.best_overall, options.decimals);
          if (cell.values.size() != row.seeds.size()) value += fmt::format(" (n={})", cell.values.size());
        }
        line += " " + value + " |";
      }
    }
    text += line + "\n";
    line = fmt::format("| | | paper | {} |", row.paper ? "5" : "–");
    for (const Setting setting : kSettings) {
      for (int m = 0; m < kMetricCount; ++m) {
        std::string value = "–";
        if (row.paper) {
          const PrintedCell& cell = (*row.paper)[size_t(setting)][size_t(m)];
          value = typeset(cell.mean, cell.std, cell.mark, cell.underline, cell.bold, options.decimals);
        }
        line += " " + value + " |";
      }
    }
    text += line + "\n";
  }
  text += fmt::format(
      "\nmean std over seeds (std with ddof {}; \"–\" with one seed or no value; (n=k): k of the row's seeds have the "
      "value). Ours: _x_ = best mean of its context block (with ≥ 2 rows); * = it differs significantly (p < {}) from "
      "the 2nd best, † = not from the 2nd but from the 3rd (two-sided t-tests, Student's or Welch's by Levene's test "
      "centred on the {}; no marks when a row of the block has one seed); **x** = best mean of the column over the "
      "table. Paper rows carry the printed underline, bold and marks when the block holds exactly the rows of Table II "
      "or III, plain numbers otherwise.\n",
      options.ddof, options.comparison.alpha, stats::levene_center_name(options.comparison.levene_center));
  return text;
}

std::string format_csv(const std::vector<ReportTable>& tables, const ReportOptions& options) {
  (void)options;
  std::string text = "preset,table,context,pe,attention,label,source,seeds";
  for (const Setting setting : kSettings) {
    for (int m = 0; m < kMetricCount; ++m) {
      for (const char* field : {"mean", "std", "n", "best", "bold", "mark"}) {
        text += fmt::format(",{}_{}_{}", setting_short(setting), metric_names()[size_t(m)], field);
      }
    }
  }
  text += "\n";
  const auto full = [](double value) { return std::isfinite(value) ? fmt::format("{:.6g}", value) : std::string(); };
  for (const ReportTable& table : tables) {
    for (const ReportRow& row : table.rows) {
      std::vector<std::string> seeds;
      for (const uint64_t seed : row.seeds) seeds.push_back(std::to_string(seed));
      std::string line = fmt::format("{},{},{},{},{},{},ours,{}", table.preset, selection_name(table.selection), row.context,
                                     row.pe, row.attention, row.label, join(seeds, " "));
      for (const Setting setting : kSettings) {
        for (int m = 0; m < kMetricCount; ++m) {
          const OurCell& cell = row.ours[size_t(setting)][size_t(m)];
          if (!cell.summary) {
            line += ",,,0,0,0,";
            continue;
          }
          line += fmt::format(",{},{},{},{},{},{}", full(cell.summary->mean), full(cell.summary->std), cell.values.size(),
                              int(cell.best), int(cell.best_overall), stats::mark_symbol(cell.mark));
        }
      }
      text += line + "\n";
      if (!row.paper) continue;
      line = fmt::format("{},{},{},{},{},{},paper,", table.preset, selection_name(table.selection), row.context, row.pe,
                         row.attention, row.label);
      for (const Setting setting : kSettings) {
        for (int m = 0; m < kMetricCount; ++m) {
          const PrintedCell& cell = (*row.paper)[size_t(setting)][size_t(m)];
          line += fmt::format(",{},{},5,{},{},{}", full(cell.mean), full(cell.std), int(cell.underline), int(cell.bold),
                              stats::mark_symbol(cell.mark));
        }
      }
      text += line + "\n";
    }
  }
  return text;
}

std::string format_significance_csv(const std::vector<ReportTable>& tables) {
  std::string text =
      "preset,context,setting,metric,rows,best,best_mean,second,second_mean,levene_p_2nd,test_2nd,t_2nd,dof_2nd,p_2nd,"
      "third,third_mean,levene_p_3rd,test_3rd,t_3rd,dof_3rd,p_3rd,mark,note\n";
  const auto full = [](double value) { return std::isfinite(value) ? fmt::format("{:.6g}", value) : std::string(); };
  for (const ReportTable& table : tables) {
    for (const BlockComparison& c : table.comparisons) {
      if (c.order.empty()) continue;
      const auto row_name = [&](size_t k) { return k < c.order.size() ? table.rows[c.order[k]].label : std::string(); };
      const auto row_mean = [&](size_t k) {
        return k < c.order.size() ? full(table.rows[c.order[k]].ours[size_t(c.setting)][size_t(c.metric)].summary->mean)
                                  : std::string();
      };
      const auto comparison_fields = [&](const std::optional<stats::Comparison>& comparison) {
        if (!comparison) return std::string(",,,,");
        return fmt::format("{},{},{},{},{}", full(comparison->levene.p_value), comparison->equal_variances ? "student" : "welch",
                           full(comparison->t_test.statistic), full(comparison->t_test.degrees_of_freedom),
                           full(comparison->t_test.p_value));
      };
      std::string note;
      if (c.order.size() < 2) note = "one row: nothing to compare";
      else if (!c.ranking) note = "a row has one seed: no test";
      const std::optional<stats::Comparison> none;
      text += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", table.preset, c.context, setting_short(c.setting),
                          metric_names()[size_t(c.metric)], c.order.size(), row_name(0), row_mean(0), row_name(1),
                          row_mean(1), comparison_fields(c.ranking ? c.ranking->best_vs_second : none), row_name(2),
                          row_mean(2), comparison_fields(c.ranking ? c.ranking->best_vs_third : none),
                          c.ranking ? stats::mark_symbol(c.ranking->mark) : "", note);
    }
  }
  return text;
}

// ---- Figure 4 --------------------------------------------------------------------------------------

MutualInformationValues paper_mutual_information_values() {
  MutualInformationValues values;
  for (const data::ContextType context : data::kPaperContextTypes) {
    values.nats[data::context_name(context)] = data::paper_mutual_information(context);
  }
  values.computed = false;
  values.description = "the paper's Table I values (TIME 0.0085, REP 0.0436, KEY 0.0476, BIN 1.0075 nats)";
  return values;
}

MutualInformationValues compute_mutual_information(const HarmonizationData& data) {
  STRIPES_CHECK(data.songs && data.encoder, "report: no data loaded for the mutual information");
  const data::MutualInformationOptions options;  // the defaults of `stripes data mi`
  const data::MutualInformationReport report = data::content_context_mutual_information(*data.songs, *data.encoder, options);
  MutualInformationValues values;
  for (const data::MutualInformationResult& result : report.results) values.nats[data::context_name(result.context)] = result.nats;
  values.computed = true;
  values.description = fmt::format(
      "computed as `stripes data mi`: train split, {} songs, {} windows of T = {} (overlap {}), active cells of {}",
      report.songs, report.windows, options.sequence_length, report.overlap, data::track_set_name(options.tracks));
  return values;
}

std::optional<MutualInformationValues> read_mutual_information_cache(const std::string& path) {
  if (!fs::exists(path)) return std::nullopt;
  const nlohmann::json json = read_json_file(path);
  if (!json.is_object() || json.value("source", "") != "computed" || !json.contains("nats")) return std::nullopt;
  MutualInformationValues values;
  values.computed = true;
  values.description = json.value("description", "ours (cached)");
  values.cache_path = path;
  for (const data::ContextType context : data::kPaperContextTypes) {
    const std::string name = data::context_name(context);
    if (!json.at("nats").contains(name) || !json.at("nats").at(name).is_number()) return std::nullopt;
    values.nats[name] = json.at("nats").at(name).get<double>();
  }
  return values;
}

void write_mutual_information_cache(const std::string& path, const MutualInformationValues& values) {
  nlohmann::json json = {{"source", values.computed ? "computed" : "paper"}, {"description", values.description}};
  for (const auto& [context, nats] : values.nats) json["nats"][context] = nats;
  write_text_file(path, json.dump(2) + "\n");
}

namespace {

// Figure 4's series of a row: one series per PE; the one RoPE variant of a block (Table III's
// baseline) joins the "RoPE" series.
std::string series_key(const ReportTable& table, const ReportRow& row) {
  const bool rope = row.pe.starts_with("rope-");
  if (rope) {
    int variants = 0;
    for (const ReportRow& other : table.rows) {
      variants += other.context == row.context && other.attention == row.attention && other.pe.starts_with("rope-");
    }
    if (variants == 1) return row.attention == "linear" ? "rope" : "rope [" + row.attention + "]";
  }
  return row.attention == "linear" ? row.pe : row.pe + " [" + row.attention + "]";
}

std::string series_label(const std::string& key) {
  if (key == "rope") return "RoPE";
  if (key.starts_with("rope [")) return "RoPE" + key.substr(4);
  const auto space = key.find(' ');
  const std::string pe = key.substr(0, space);
  const std::string suffix = space == std::string::npos ? "" : key.substr(space);
  for (const PaperRow& row : paper_results()) {
    if (row.pe == pe) return row.label + suffix;
  }
  return key;
}

plot::Color series_color(const std::string& key, std::vector<std::string>& others) {
  static const std::map<std::string, int> fixed = {{"rope", 0}, {"fstripe1", 1}, {"ropepool", 2},
                                                   {"rope-a", 4}, {"rope-b", 5}, {"rope-c", 9}};
  if (const auto found = fixed.find(key); found != fixed.end()) return plot::colors::category(found->second);
  auto position = std::find(others.begin(), others.end(), key);
  if (position == others.end()) position = others.insert(others.end(), key);
  static const int free_colors[] = {3, 6, 7, 8};
  return plot::colors::category(free_colors[size_t(position - others.begin()) % 4]);
}

}  // namespace

plot::Figure make_figure4(const ReportTable& table, const MutualInformationValues& ours_mi) {
  const MutualInformationValues paper_mi = paper_mutual_information_values();
  struct Point {
    std::string context;
    double mi, mean, std;
  };
  struct SeriesData {
    std::string key;
    bool paper = false;
    std::array<std::vector<Point>, kMetricCount> points;
  };
  std::vector<SeriesData> all;
  const auto series_of = [&](const std::string& key, bool paper) -> SeriesData& {
    for (SeriesData& s : all) {
      if (s.key == key && s.paper == paper) return s;
    }
    all.push_back(SeriesData{key, paper, {}});
    return all.back();
  };
  // Ours: in-domain means of the table's rows.
  for (const ReportRow& row : table.rows) {
    const auto mi = ours_mi.nats.find(row.context);
    if (mi == ours_mi.nats.end()) continue;
    for (int m = 0; m < kMetricCount; ++m) {
      const OurCell& cell = row.ours[0][size_t(m)];
      if (!cell.summary) continue;
      series_of(series_key(table, row), false)
          .points[size_t(m)]
          .push_back({row.context, mi->second, cell.summary->mean, std::isfinite(cell.summary->std) ? cell.summary->std : 0.0});
    }
  }
  // The paper's Table III at its Table I values.
  for (const auto& [context, pe] : paper_table_rows(3)) {
    const auto paper = find_paper_result(context, pe);
    if (!paper) continue;
    const std::string key = pe.starts_with("rope-") ? "rope" : pe;
    for (int m = 0; m < kMetricCount; ++m) {
      series_of(key, true).points[size_t(m)].push_back(
          {context, paper_mi.nats.at(context), paper->in_domain[size_t(m)], paper->in_domain_std[size_t(m)]});
    }
  }
  // Ours first, then the paper's, each in a stable PE order.
  std::stable_sort(all.begin(), all.end(), [](const SeriesData& a, const SeriesData& b) {
    const auto rank = [](const std::string& key) { return key.starts_with("rope") && !key.starts_with("ropepool") ? -1 : pe_rank(key); };
    return std::make_tuple(a.paper, rank(a.key), a.key) < std::make_tuple(b.paper, rank(b.key), b.key);
  });

  double low = INFINITY, high = 0;
  for (const auto* values : {&ours_mi.nats, &paper_mi.nats}) {
    for (const auto& [context, nats] : *values) {
      if (nats > 0) {
        low = std::min(low, nats);
        high = std::max(high, nats);
      }
    }
  }
  plot::Figure figure(2, 2, 470, 330);
  figure.title = fmt::format("Figure 4: in-domain metric vs mutual information content–context (preset {})", table.preset);
  const int order[kMetricCount] = {0, 2, 1, 3};  // CS, GS / SSMD, NDD
  std::vector<std::string> other_colors;
  const double spread = 0.025;  // decades between neighbouring series at one context
  for (int panel_index = 0; panel_index < kMetricCount; ++panel_index) {
    const int m = order[panel_index];
    plot::Panel& panel = figure.panel(panel_index / 2, panel_index % 2);
    panel.title = metric_header(m) + " (in-domain)";
    panel.x.label = "mutual information (nats, log)";
    panel.x.log = true;
    panel.x.min = low / 1.8;
    panel.x.max = high * 1.8;
    panel.y.label = metric_names()[size_t(m)] + " mean ± std";
    panel.grid = true;
    for (size_t s = 0; s < all.size(); ++s) {
      const SeriesData& data = all[s];
      plot::Series series;
      series.label = series_label(data.key) + (data.paper ? " (paper)" : " (ours)");
      series.color = series_color(data.key, other_colors);
      series.edge = series.color;
      series.marker = data.paper ? plot::Marker::Square : plot::Marker::Circle;
      series.marker_size = data.paper ? 3.5 : 4.0;
      series.line = true;
      series.dashed = data.paper;
      series.line_width = 1.2;
      std::vector<Point> points = data.points[size_t(m)];
      std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.mi < b.mi; });
      const double shift = std::pow(10.0, spread * (double(s) - double(all.size() - 1) / 2));
      for (const Point& p : points) {
        series.x.push_back(p.mi * shift);
        series.y.push_back(p.mean);
        series.y_error.push_back(p.std);
      }
      panel.series.push_back(std::move(series));
    }
    // Where each context lies (ours and the paper's MI), labelled above the plot.
    for (const auto& [label, contexts] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"TIME", {"TIME"}}, {"REP·KEY", {"REP", "KEY"}}, {"BIN", {"BIN"}}}) {
      double begin = INFINITY, end = 0;
      for (const std::string& context : contexts) {
        for (const auto* values : {&ours_mi.nats, &paper_mi.nats}) {
          if (const auto found = values->find(context); found != values->end() && found->second > 0) {
            begin = std::min(begin, found->second);
            end = std::max(end, found->second);
          }
        }
      }
      if (end > 0) panel.x_bands.push_back(plot::Band{begin / 1.08, end * 1.08, plot::colors::gray, label});
    }
  }
  figure.caption = fmt::format(
      "x: mutual information between content (active pitches) and context (nats, log scale); y: in-domain mean ± std over "
      "seeds.\nOurs (preset {}): circles, solid lines, at {}.\n{}\nPaper: Table III, squares, dashed lines, at its Table I "
      "MI. RoPE = the one RoPE variant of each context block (Table III's baseline).\nSeries are shifted {} decades apart "
      "so that error bars do not overlap; the grey strips mark where each context lies.",
      table.preset, ours_mi.computed ? "our MI" : "the paper's Table I MI (ours was not computed)",
      "MI of our points: " + ours_mi.description + ".", spread);
  return figure;
}

// ---- the whole report ------------------------------------------------------------------------------

std::string default_report_directory(const std::vector<std::string>& paths) {
  STRIPES_CHECK(!paths.empty(), "report: no paths");
  const fs::path first(paths.front());
  if (is_run_directory(first.string())) {
    const fs::path parent = fs::weakly_canonical(first).parent_path();
    return (parent / "report").string();
  }
  return (first / "report").string();
}

ReportOutput write_report(const ReportRunOptions& options) {
  ReportOutput output;
  const CollectedRuns collected = collect_runs(options.paths);
  output.warnings = collected.warnings;
  STRIPES_CHECK(!collected.runs.empty(), "report: no run with metrics.json in {} ({} run directories skipped:\n  {})",
                join(options.paths, ", "), collected.warnings.size(), join(collected.warnings, "\n  "));
  output.tables = build_report_tables(collected.runs, options.report);
  for (const ReportTable& table : output.tables) {
    if (table.scorings.size() > 1) {
      std::vector<std::string> settings;
      for (const nlohmann::json& scoring : table.scorings) settings.push_back(scoring.dump());
      output.warnings.push_back(fmt::format("preset {}: runs scored with different settings, averaged together: {}",
                                            table.preset, join(settings, " | ")));
    }
  }

  output.out_dir = options.out_dir.empty() ? default_report_directory(options.paths) : options.out_dir;
  fs::create_directories(output.out_dir);
  const fs::path out(output.out_dir);

  // Mutual information for Figure 4.
  const std::string cache = (out / "mutual_information.json").string();
  std::optional<MutualInformationValues> mi;
  if (options.mutual_information == MutualInformationSource::kAuto) {
    mi = read_mutual_information_cache(cache);
    if (!mi) {
      try {
        if (options.data != nullptr) {
          mi = compute_mutual_information(*options.data);
        } else {
          const std::string root = data::resolve_data_root(options.data_dir);
          mi = compute_mutual_information(load_harmonization_data(root, true));  // progress on stderr
        }
        write_mutual_information_cache(cache, *mi);
        output.files.push_back(cache);
      } catch (const Error& error) {
        output.warnings.push_back(fmt::format(
            "mutual information not computed ({}): Figure 4 places our runs at the paper's Table I values", error.what()));
      }
    }
  }
  output.mutual_information = mi ? *mi : paper_mutual_information_values();

  std::string markdown = fmt::format("# Harmonization report\n\nruns: {} with metrics.json ({} skipped) from {}\n\n",
                                     collected.runs.size(), collected.warnings.size(), join(options.paths, ", "));
  for (const ReportTable& table : output.tables) markdown += format_markdown(table, options.report) + "\n";
  for (size_t t = 0; t < output.tables.size(); ++t) {
    const std::string name = t == 0 ? "figure4.svg" : fmt::format("figure4-{}.svg", output.tables[t].preset);
    make_figure4(output.tables[t], output.mutual_information).save((out / name).string());
    output.files.push_back((out / name).string());
    markdown += fmt::format("Figure 4 (preset {}): {}\n", output.tables[t].preset, (out / name).string());
  }
  const MutualInformationValues& used = output.mutual_information;
  markdown += fmt::format("mutual information of our runs: {}{}\n",
                          used.computed ? used.description : "not computed; " + used.description,
                          used.cache_path.empty() ? "" : fmt::format(" (cached in {})", used.cache_path));
  output.markdown = markdown;

  write_text_file(out / "table.md", markdown);
  write_text_file(out / "table.csv", format_csv(output.tables, options.report));
  write_text_file(out / "significance.csv", format_significance_csv(output.tables));
  for (const char* name : {"table.md", "table.csv", "significance.csv"}) output.files.push_back((out / name).string());
  return output;
}

}  // namespace stripes::harmonization
