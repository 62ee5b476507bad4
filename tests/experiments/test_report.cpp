// `stripes report` (experiments/harmonization/report.{hpp,cpp}): hand-written metrics.json files in a
// temporary folder, with values chosen so that the means, stds, underlines and marks are computed by
// hand below. No data is needed (Figure 4 uses the paper's MI or a pre-written cache).
#include "experiments/harmonization/paper_results.hpp"
#include "experiments/harmonization/report.hpp"
#include "tensor/error.hpp"

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

// metrics.json in the new format; a metric's value x for CS, SSMD = 30 - x / 2, GS = x + 5,
// NDD = 100 - x (so the best CS is also the best of every metric).
nlohmann::json scores_of(double cs) {
  return {{"CS", cs}, {"SSMD", 30 - cs / 2}, {"GS", cs + 5}, {"NDD", 100 - cs}};
}

void write_run(const fs::path& runs, const std::string& preset, const std::string& context, const std::string& pe,
               int seed, double id_cs, std::optional<double> lg_cs = std::nullopt) {
  nlohmann::json json = {
      {"pe", pe},         {"context", context}, {"preset", preset}, {"seed", seed}, {"attention", "linear"},
      {"scoring", {{"tracks", "piano"}, {"ssmd_variant", "stripe-code-halved"}, {"ndd_normalization", "per-sixteenth"}}},
      {"in_domain",
       {{"sequence_length", 256}, {"windows", 64}, {"split", "test"}, {"seconds", 1.0}, {"scores", scores_of(id_cs)}}}};
  if (lg_cs) {
    json["length_generalization"] = {
        {"sequence_length", 1024}, {"windows", 16}, {"split", "test"}, {"seconds", 2.0}, {"scores", scores_of(*lg_cs)}};
  }
  const fs::path dir = runs / fmt::format("{}-{}-{}-s{}", preset, pe, context, seed);
  write_text_file(dir / "config.json", "{}\n");
  write_text_file(dir / "metrics.json", json.dump(2));
}

// The fixture (preset small):
//   TIME: fstripe1 {6}, ropepool {5}                       one seed each: underline, no marks
//   KEY:  rope-c {10,12,14}, fstripe1 {19,20,21}, ropepool {20,21,22}   (Table III's KEY rows)
//         ropepool best; vs fstripe1 t = 1.22 (p 0.29, n.s.), vs rope-c t = 6.97 (p 0.002) → †
//   BIN:  fstripe1 {10,11,12}, ropepool {24,25,26}         ropepool best, t = 17.1 → *
//         LG only for BIN: ropepool {30,31,32}, fstripe1 {20,22} (seed 2 has no LG)
// and preset paper: BIN ropepool {27} (one seed, its own table); a run without metrics.json.
void write_fixture(const fs::path& runs) {
  write_run(runs, "small", "TIME", "fstripe1", 0, 6);
  write_run(runs, "small", "TIME", "ropepool", 0, 5);
  for (int seed = 0; seed < 3; ++seed) {
    write_run(runs, "small", "KEY", "rope-c", seed, 10 + 2 * seed);
    write_run(runs, "small", "KEY", "fstripe1", seed, 19 + seed);
    write_run(runs, "small", "KEY", "ropepool", seed, 20 + seed);
    write_run(runs, "small", "BIN", "fstripe1", seed, 10 + seed, seed < 2 ? std::optional<double>(20 + 2 * seed) : std::nullopt);
    write_run(runs, "small", "BIN", "ropepool", seed, 24 + seed, 30 + seed);
  }
  write_run(runs, "paper", "BIN", "ropepool", 0, 27);
  write_text_file(runs / "small-ropepool-BIN-s9" / "config.json", "{}\n");
  write_text_file(runs / "small-ropepool-BIN-s9" / "train_summary.json", "{\"steps\": 10}\n");
}

const ReportRow& find_row(const ReportTable& table, const std::string& context, const std::string& pe) {
  for (const ReportRow& row : table.rows) {
    if (row.context == context && row.pe == pe) return row;
  }
  throw Error("no row " + context + " " + pe);
}

constexpr int kCS = 0, kNDD = 3;

TEST(Report, PrintedPaperTablesMatchThePaperResults) {
  EXPECT_EQ(printed_paper_tables().size(), 24u);
  for (const PrintedRow& printed : printed_paper_tables()) {
    const auto row = find_paper_result(printed.context, printed.pe);
    ASSERT_TRUE(row.has_value()) << printed.context << " " << printed.pe;
    for (int m = 0; m < kMetricCount; ++m) {
      EXPECT_DOUBLE_EQ(printed.cells[0][size_t(m)].mean, row->in_domain[size_t(m)]);
      EXPECT_DOUBLE_EQ(printed.cells[0][size_t(m)].std, row->in_domain_std[size_t(m)]);
      EXPECT_DOUBLE_EQ(printed.cells[1][size_t(m)].mean, row->length_generalization[size_t(m)]);
      EXPECT_DOUBLE_EQ(printed.cells[1][size_t(m)].std, row->length_generalization_std[size_t(m)]);
    }
  }
  const std::vector<std::pair<std::string, std::string>> table3 = paper_table_rows(3);
  ASSERT_EQ(table3.size(), 12u);
  EXPECT_EQ(table3[3], (std::pair<std::string, std::string>{"REP", "rope-b"}));  // REP's baseline is RoPE(B)
  EXPECT_EQ(paper_table_rows(2).size(), 12u);
  // Typography: Table III BIN RoPEPool ID CS is "**_25.83 1.02†_**".
  const PrintedRow& bin_pool = printed_paper_tables().back();
  EXPECT_EQ(bin_pool.pe, "ropepool");
  EXPECT_TRUE(bin_pool.cells[0][0].bold);
  EXPECT_TRUE(bin_pool.cells[0][0].underline);
  EXPECT_EQ(bin_pool.cells[0][0].mark, stats::SignificanceMark::kBeatsThird);
}

TEST(Report, MeansStdsUnderlinesAndMarksByHand) {
  TemporaryFolder folder("table");
  write_fixture(folder.path() / "runs");
  const CollectedRuns collected = collect_runs({(folder.path() / "runs").string()});
  EXPECT_EQ(collected.runs.size(), 18u);
  ASSERT_EQ(collected.warnings.size(), 1u);
  EXPECT_NE(collected.warnings[0].find("small-ropepool-BIN-s9: no metrics.json"), std::string::npos) << collected.warnings[0];
  EXPECT_NE(collected.warnings[0].find("missing checkpoint.h5, metrics.json"), std::string::npos) << collected.warnings[0];

  const std::vector<ReportTable> tables = build_report_tables(collected.runs);
  ASSERT_EQ(tables.size(), 2u);  // presets are never averaged together; "paper" first
  EXPECT_EQ(tables[0].preset, "paper");
  EXPECT_EQ(tables[1].preset, "small");
  const ReportTable& small = tables[1];
  ASSERT_EQ(small.rows.size(), 7u);
  // Blocks in the paper's order, PEs in the paper's order.
  EXPECT_EQ(small.rows[0].context, "TIME");
  EXPECT_EQ(small.rows[2].context, "KEY");
  EXPECT_EQ(small.rows[2].pe, "rope-c");
  EXPECT_EQ(small.rows[5].context, "BIN");

  // KEY: means 12, 20, 21; stds 2, 1, 1; ropepool underlined with †.
  const OurCell& key_rope = find_row(small, "KEY", "rope-c").ours[0][kCS];
  const OurCell& key_fstripe = find_row(small, "KEY", "fstripe1").ours[0][kCS];
  const OurCell& key_pool = find_row(small, "KEY", "ropepool").ours[0][kCS];
  EXPECT_DOUBLE_EQ(key_rope.summary->mean, 12.0);
  EXPECT_DOUBLE_EQ(key_rope.summary->std, 2.0);
  EXPECT_DOUBLE_EQ(key_fstripe.summary->mean, 20.0);
  EXPECT_DOUBLE_EQ(key_fstripe.summary->std, 1.0);
  EXPECT_DOUBLE_EQ(key_pool.summary->mean, 21.0);
  EXPECT_DOUBLE_EQ(key_pool.summary->std, 1.0);
  EXPECT_TRUE(key_pool.best);
  EXPECT_FALSE(key_fstripe.best);
  EXPECT_EQ(key_pool.mark, stats::SignificanceMark::kBeatsThird);
  // By hand: vs 2nd, Student (Levene W = 0), t = 1 / sqrt(2/3) = 1.2247, ν = 4 → n.s.;
  // vs 3rd, Levene W = 0.8 (p 0.43) → Student, s_p² = 2.5, t = 9 / sqrt(2.5 · 2/3) = 6.971, ν = 4 → p < 0.05.
  const stats::Comparison second = stats::compare_samples({20, 21, 22}, {19, 20, 21});
  EXPECT_NEAR(second.t_test.statistic, 1.0 / std::sqrt(2.0 / 3.0), 1e-12);
  EXPECT_FALSE(second.significant);
  const stats::Comparison third = stats::compare_samples({20, 21, 22}, {10, 12, 14});
  EXPECT_TRUE(third.equal_variances);
  EXPECT_NEAR(third.levene.statistic, 0.8, 1e-12);
  EXPECT_NEAR(third.t_test.statistic, 9.0 / std::sqrt(2.5 * 2.0 / 3.0), 1e-12);
  EXPECT_TRUE(third.significant);
  // Lower is better for NDD (= 100 − CS here): the same row wins with the same mark.
  EXPECT_TRUE(find_row(small, "KEY", "ropepool").ours[0][kNDD].best);
  EXPECT_DOUBLE_EQ(find_row(small, "KEY", "ropepool").ours[0][kNDD].summary->mean, 79.0);
  EXPECT_EQ(find_row(small, "KEY", "ropepool").ours[0][kNDD].mark, stats::SignificanceMark::kBeatsThird);

  // BIN: 25 vs 11, stds 1 → t = 14 / sqrt(2/3) = 17.1 → *; bold: the best of the whole table.
  const OurCell& bin_pool = find_row(small, "BIN", "ropepool").ours[0][kCS];
  EXPECT_DOUBLE_EQ(bin_pool.summary->mean, 25.0);
  EXPECT_TRUE(bin_pool.best);
  EXPECT_EQ(bin_pool.mark, stats::SignificanceMark::kBeatsSecond);
  EXPECT_TRUE(bin_pool.best_overall);
  EXPECT_FALSE(key_pool.best_overall);
  // LG: BIN fstripe1 has 2 of 3 seeds (20, 22): mean 21, std sqrt(2).
  const OurCell& bin_fstripe_lg = find_row(small, "BIN", "fstripe1").ours[1][kCS];
  EXPECT_EQ(bin_fstripe_lg.values.size(), 2u);
  EXPECT_DOUBLE_EQ(bin_fstripe_lg.summary->mean, 21.0);
  EXPECT_NEAR(bin_fstripe_lg.summary->std, std::sqrt(2.0), 1e-12);
  EXPECT_TRUE(find_row(small, "BIN", "ropepool").ours[1][kCS].best);
  EXPECT_FALSE(key_pool.summary->count == 0);
  EXPECT_FALSE(find_row(small, "KEY", "ropepool").ours[1][kCS].summary.has_value());  // no LG eval

  // TIME: one seed each → std NaN ("–"), fstripe1 (6) underlined, no mark.
  const OurCell& time_fstripe = find_row(small, "TIME", "fstripe1").ours[0][kCS];
  EXPECT_TRUE(std::isnan(time_fstripe.summary->std));
  EXPECT_TRUE(time_fstripe.best);
  EXPECT_EQ(time_fstripe.mark, stats::SignificanceMark::kNone);

  // The paper preset's table: one row, one seed, nothing underlined.
  ASSERT_EQ(tables[0].rows.size(), 1u);
  EXPECT_FALSE(tables[0].rows[0].ours[0][kCS].best);
  EXPECT_DOUBLE_EQ(tables[0].rows[0].ours[0][kCS].summary->mean, 27.0);

  // Markdown: ours and the paper's row beside each other; the paper's printed typography where the
  // block is exactly Table III's (KEY), plain numbers otherwise (BIN has no RoPE(C) row here).
  const std::string markdown = format_markdown(small);
  EXPECT_NE(markdown.find("| KEY | RoPE(C) | ours | 3 | 12.00 2.00 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| | RoPEPool | ours | 3 | _21.00 1.00†_ |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| | | paper | 5 | _21.05 1.22†_ |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| | RoPEPool | ours | 3 | **_25.00 1.00*_** |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| | | paper | 5 | 25.83 1.02 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("| TIME | F-StrIPE1 | ours | 1 | _6.00 –_ |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("21.00 1.41 (n=2)"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("scoring: "), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("in-domain T = 256, length generalization T = 1024"), std::string::npos) << markdown;
}

TEST(Report, TableSelectionKeepsThePapersRows) {
  TemporaryFolder folder("selection");
  write_fixture(folder.path() / "runs");
  ReportOptions options;
  options.table = TableSelection::kTable3;
  const std::vector<ReportTable> tables = build_report_tables(collect_runs({(folder.path() / "runs").string()}).runs, options);
  const ReportTable& small = tables[1];
  ASSERT_EQ(small.rows.size(), 12u);  // every Table III row, with or without runs
  const ReportRow& rep = find_row(small, "REP", "rope-b");
  EXPECT_TRUE(rep.seeds.empty());
  EXPECT_FALSE(rep.ours[0][kCS].summary.has_value());
  EXPECT_TRUE(rep.paper_typography);
  // BIN now holds Table III's rows: the paper's bold RoPEPool; ours still ranks the two with runs.
  EXPECT_TRUE(find_row(small, "BIN", "ropepool").paper_typography);
  EXPECT_TRUE((*find_row(small, "BIN", "ropepool").paper)[0][kCS].bold);
  EXPECT_EQ(find_row(small, "BIN", "ropepool").ours[0][kCS].mark, stats::SignificanceMark::kBeatsSecond);
  const std::string markdown = format_markdown(small);
  EXPECT_NE(markdown.find("| REP | RoPE(B) | ours | 0 | – |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("Table III layout"), std::string::npos);
}

TEST(Report, CsvHasOneLinePerRowAndSource) {
  TemporaryFolder folder("csv");
  write_fixture(folder.path() / "runs");
  const std::vector<ReportTable> tables = build_report_tables(collect_runs({(folder.path() / "runs").string()}).runs);
  const std::string csv = format_csv(tables);
  std::istringstream lines(csv);
  std::string header;
  std::getline(lines, header);
  std::vector<std::string> columns;
  std::stringstream header_stream(header);
  for (std::string column; std::getline(header_stream, column, ',');) columns.push_back(column);
  ASSERT_EQ(columns.size(), 8u + 2 * 4 * 6);
  EXPECT_EQ(columns[8], "ID_CS_mean");
  EXPECT_EQ(columns.back(), "LG_NDD_mark");
  std::map<std::string, std::vector<std::string>> rows;
  int count = 0;
  for (std::string line; std::getline(lines, line);) {
    ++count;
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, ',');) fields.push_back(field);
    if (line.back() == ',') fields.push_back("");
    ASSERT_EQ(fields.size(), columns.size()) << line;
    rows[fields[0] + "/" + fields[2] + "/" + fields[3] + "/" + fields[6]] = fields;
  }
  // 8 rows with runs (7 small + 1 paper), each with a paper line (every row here has one in the paper).
  EXPECT_EQ(count, 16);
  const auto column = [&](const std::string& name) {
    return size_t(std::find(columns.begin(), columns.end(), name) - columns.begin());
  };
  const std::vector<std::string>& key_pool = rows.at("small/KEY/ropepool/ours");
  EXPECT_EQ(key_pool[column("seeds")], "0 1 2");
  EXPECT_EQ(key_pool[column("ID_CS_mean")], "21");
  EXPECT_EQ(key_pool[column("ID_CS_std")], "1");
  EXPECT_EQ(key_pool[column("ID_CS_n")], "3");
  EXPECT_EQ(key_pool[column("ID_CS_best")], "1");
  EXPECT_EQ(key_pool[column("ID_CS_mark")], "†");
  EXPECT_EQ(key_pool[column("LG_CS_mean")], "");
  EXPECT_EQ(key_pool[column("LG_CS_n")], "0");
  const std::vector<std::string>& key_pool_paper = rows.at("small/KEY/ropepool/paper");
  EXPECT_EQ(key_pool_paper[column("ID_CS_mean")], "21.05");
  EXPECT_EQ(key_pool_paper[column("ID_CS_mark")], "†");
  const std::vector<std::string>& time_pool = rows.at("small/TIME/ropepool/ours");
  EXPECT_EQ(time_pool[column("ID_CS_std")], "");  // one seed
  EXPECT_EQ(rows.at("small/BIN/ropepool/ours")[column("ID_CS_bold")], "1");
}

TEST(Report, WritesFilesAndFigure4WithOneSeriesPerPE) {
  TemporaryFolder folder("files");
  write_fixture(folder.path() / "runs");
  ReportRunOptions options;
  options.paths = {(folder.path() / "runs").string()};
  options.mutual_information = MutualInformationSource::kPaper;
  const ReportOutput output = write_report(options);
  const fs::path out = folder.path() / "runs" / "report";
  EXPECT_EQ(output.out_dir, out.string());
  for (const char* file : {"table.md", "table.csv", "significance.csv", "figure4.svg", "figure4-small.svg"}) {
    EXPECT_TRUE(fs::exists(out / file)) << file;
  }
  EXPECT_FALSE(fs::exists(out / "mutual_information.json"));  // only computed values are cached
  EXPECT_FALSE(output.mutual_information.computed);
  EXPECT_EQ(read_text_file(out / "table.md"), output.markdown);
  EXPECT_NE(output.markdown.find("of our runs: not computed; the paper's Table I values"), std::string::npos) << output.markdown;

  // Preset small: three PEs (the one RoPE variant of KEY is "RoPE") + the paper's three series.
  const std::string svg = read_text_file(out / "figure4-small.svg");
  for (const char* label : {"RoPE (ours)", "F-StrIPE1 (ours)", "RoPEPool (ours)", "RoPE (paper)", "F-StrIPE1 (paper)",
                            "RoPEPool (paper)"}) {
    EXPECT_NE(svg.find(std::string(">") + label + "<"), std::string::npos) << label;
  }
  size_t ours = 0;
  for (size_t at = svg.find("(ours)<"); at != std::string::npos; at = svg.find("(ours)<", at + 1)) ++ours;
  EXPECT_EQ(ours, 3u * 4u);  // 3 series in each of the 4 panels' legends
  EXPECT_NE(svg.find("Table I MI (ours was not computed)"), std::string::npos);
  const std::string paper_svg = read_text_file(out / "figure4.svg");
  EXPECT_NE(paper_svg.find(">RoPEPool (ours)<"), std::string::npos);
  EXPECT_EQ(paper_svg.find(">F-StrIPE1 (ours)<"), std::string::npos);
  const std::string significance = read_text_file(out / "significance.csv");
  EXPECT_NE(significance.find("small,KEY,ID,CS,3,RoPEPool,21,F-StrIPE1,20,"), std::string::npos) << significance;

  // A cached MI is used (and said) without loading any data.
  write_text_file(out / "mutual_information.json",
             R"({"source": "computed", "description": "test values", "nats": {"TIME": 0.005, "REP": 0.04, "KEY": 0.041, "BIN": 0.95}})");
  options.mutual_information = MutualInformationSource::kAuto;
  const ReportOutput cached = write_report(options);
  EXPECT_TRUE(cached.mutual_information.computed);
  EXPECT_DOUBLE_EQ(cached.mutual_information.nats.at("BIN"), 0.95);
  EXPECT_NE(read_text_file(out / "figure4-small.svg").find("test values"), std::string::npos);
}

TEST(Report, ClearErrors) {
  TemporaryFolder folder("errors");
  // A folder without runs.
  fs::create_directories(folder.path() / "empty" / "toy");
  std::string message = error_of([&] { collect_runs({(folder.path() / "empty").string()}); });
  EXPECT_NE(message.find("no run directories in"), std::string::npos) << message;
  message = error_of([&] { collect_runs({(folder.path() / "missing").string()}); });
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  // Malformed JSON: the file is named.
  write_text_file(folder.path() / "bad" / "run" / "metrics.json", "{ \"pe\": ");
  message = error_of([&] { collect_runs({(folder.path() / "bad").string()}); });
  EXPECT_NE(message.find((folder.path() / "bad" / "run" / "metrics.json").string()), std::string::npos) << message;
  EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
  // A field of the wrong type, and a setting with no score.
  write_text_file(folder.path() / "typed" / "run" / "metrics.json",
             R"({"pe": "ropepool", "context": "BIN", "preset": "small", "seed": "zero", "in_domain": {"scores": {"CS": 1}}})");
  message = error_of([&] { collect_runs({(folder.path() / "typed").string()}); });
  EXPECT_NE(message.find("metrics.json"), std::string::npos) << message;
  write_text_file(folder.path() / "empty-scores" / "run" / "metrics.json",
             R"({"pe": "ropepool", "context": "BIN", "preset": "small", "seed": 0, "in_domain": {"scores": {}}})");
  message = error_of([&] { collect_runs({(folder.path() / "empty-scores").string()}); });
  EXPECT_NE(message.find("holds none of CS, SSMD, GS, NDD"), std::string::npos) << message;
  // Only runs without metrics: write_report says which and why.
  write_text_file(folder.path() / "untrained" / "run" / "config.json", "{}");
  ReportRunOptions options;
  options.paths = {(folder.path() / "untrained").string()};
  options.mutual_information = MutualInformationSource::kPaper;
  message = error_of([&] { write_report(options); });
  EXPECT_NE(message.find("no run with metrics.json"), std::string::npos) << message;
  EXPECT_NE(message.find("training did not finish"), std::string::npos) << message;
}

TEST(Report, ReadsTheOlderFlatMetricsFormat) {
  TemporaryFolder folder("flat");
  write_text_file(folder.path() / "run" / "metrics.json",
             R"({"pe": "ropepool", "context": "BIN", "preset": "small", "seed": 0, "sequence_length": 256, "setting": "in_domain",
                 "in_domain": {"CS": 1.5, "SSMD": 25.9, "GS": 2.4, "NDD": 100.0}, "seconds": 21.2})");
  const RunRecord record = read_run_record((folder.path() / "run").string());
  ASSERT_TRUE(record.settings[0].has_value());
  EXPECT_DOUBLE_EQ(*record.settings[0]->values[0], 1.5);
  EXPECT_EQ(record.settings[0]->sequence_length, 256);
  EXPECT_FALSE(record.settings[1].has_value());
}

#ifdef STRIPES_BINARY
TEST(ReportCli, PrintsTheTableAndWarnings) {
  TemporaryFolder folder("cli");
  write_fixture(folder.path() / "runs");
  const std::string out = (folder.path() / "out").string();
  auto [code, output] = run_stripes(fmt::format("report {} --out {} --paper-mi --table 3", (folder.path() / "runs").string(), out));
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("warning: skipping"), std::string::npos) << output;
  EXPECT_NE(output.find("| | | paper | 5 | _21.05 1.22†_ |"), std::string::npos) << output;
  EXPECT_TRUE(fs::exists(fs::path(out) / "figure4-small.svg"));

  write_text_file(folder.path() / "bad" / "run" / "metrics.json", "[1, 2");
  std::tie(code, output) = run_stripes(fmt::format("report {} --paper-mi", (folder.path() / "bad").string()));
  EXPECT_EQ(code, 1);
  EXPECT_NE(output.find("bad/run/metrics.json is not valid JSON"), std::string::npos) << output;
  std::tie(code, output) = run_stripes(fmt::format("report {} --table 4", (folder.path() / "runs").string()));
  EXPECT_NE(code, 0);
}
#endif

}  // namespace
}  // namespace stripes::harmonization
