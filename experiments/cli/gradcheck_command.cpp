// `stripes gradcheck`: run the finite-difference checker over every registered differentiable op.
// One line per op (its worst case over all shapes), then "N passed, M failed"; exit 1 on failure.
#include "attention/attention_gradchecks.hpp"
#include "autograd/gradcheck.hpp"
#include "nn/module_gradcheck.hpp"
#include "experiments/cli/command_registry.hpp"

#include <fmt/core.h>

#include <map>

namespace stripes::cli {

static void add_gradcheck_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("gradcheck", "Check every op's hand-written backward against finite differences (float64)");
  struct Options {
    uint64_t seed = 0;
    bool verbose = false;
    std::string only;
  };
  auto options = std::make_shared<Options>();
  cmd->add_option("--seed", options->seed, "Seed for inputs and output weights");
  cmd->add_flag("-v,--verbose", options->verbose, "Print every case (shape) instead of one line per op");
  cmd->add_option("--op", options->only, "Check only this op");
  cmd->callback([options] {
    struct OpSummary {
      int cases = 0, failed = 0;
      double worst = 0.0;
      double tolerance = 0.0;
      int64_t checked = 0, masked = 0;
      std::string failure;
    };
    std::map<std::string, OpSummary> ops;
    std::vector<std::string> order;
    // Every registry: core ops (autograd), modules (nn), attention, in the order of the layers.
    std::vector<const ag::GradcheckCase*> cases;
    for (const ag::GradcheckRegistry* registry :
         {&ag::builtin_gradchecks(), &nn::module_gradchecks(), &attention::attention_gradchecks()}) {
      for (const auto& check : registry->cases()) cases.push_back(&check);
    }
    for (const ag::GradcheckCase* case_pointer : cases) {
      const ag::GradcheckCase& check = *case_pointer;
      if (!options->only.empty() && check.op != options->only) continue;
      const ag::GradcheckResult result = ag::run_gradcheck(check, options->seed);
      if (!ops.count(check.op)) order.push_back(check.op);
      OpSummary& s = ops[check.op];
      s.cases += 1;
      s.failed += result.passed ? 0 : 1;
      s.checked += result.checked;
      s.masked += result.masked;
      s.tolerance = std::max(s.tolerance, check.tolerance);
      if (result.max_error >= s.worst) s.worst = result.max_error;
      if (!result.passed && s.failure.empty()) s.failure = fmt::format("{}: {}", check.label, result.failure);
      if (options->verbose) {
        fmt::print("  {:<34} {:<48} max rel err {:.2e}  {}\n", check.op, check.label, result.max_error,
                   result.passed ? "ok" : "FAIL " + result.failure);
      }
    }
    STRIPES_CHECK(!order.empty(), "gradcheck: no registered op is named '{}'", options->only);
    int passed = 0, failed = 0;
    for (const std::string& op : order) {
      const OpSummary& s = ops[op];
      const bool ok = s.failed == 0;
      (ok ? passed : failed) += 1;
      fmt::print("{:<34} {:>2} cases  {:>5} elements  max rel err {:.2e}  (tol {:.0e}{})  {}\n", op, s.cases, s.checked,
                 s.worst, s.tolerance, s.masked ? fmt::format(", {} masked at kinks", s.masked) : "",
                 ok ? "ok" : "FAIL  " + s.failure);
    }
    fmt::print("{} passed, {} failed\n", passed, failed);
    if (failed > 0) cli_exit_code() = 1;
  });
}
STRIPES_REGISTER_COMMANDS(add_gradcheck_command)

}  // namespace stripes::cli
