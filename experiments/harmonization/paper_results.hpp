// The paper's Tables II and III (method.md §4.8): mean and std over 5 seeds of CS, SSMD, GS, NDD,
// in-domain (train 16 bars / test 16 bars) and length generalization (test 64 bars), for every
// (context, PE) combination the paper reports. Hard-coded as data; the numbers are copied from
// /work/shared/spec/method.md §4.8 (Table II for RoPE(A/B); Table III for RoPE(C) — identical in
// both tables where both report it —, F-StrIPE₁ and RoPEPool).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace stripes::harmonization {

struct PaperRow {
  std::string context;                 // "TIME", "REP", "KEY", "BIN"
  std::string pe;                      // our PE name: rope-a, rope-b, rope-c, fstripe1, ropepool
  std::string label;                   // as printed: "RoPE(C)", "RoPEPool", ...
  std::array<double, 4> in_domain;     // CS, SSMD, GS, NDD means
  std::array<double, 4> in_domain_std;
  std::array<double, 4> length_generalization;
  std::array<double, 4> length_generalization_std;
};

const std::vector<PaperRow>& paper_results();
// The row for (context, pe) (context case-insensitive), if the paper reports it.
std::optional<PaperRow> find_paper_result(const std::string& context, const std::string& pe);

}  // namespace stripes::harmonization
