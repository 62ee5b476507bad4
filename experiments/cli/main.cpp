// build/stripes — the one command-line program. Subcommands are registered by the files beside
// this one (see command_registry.hpp). Errors the user caused print as one line and exit 1;
// unknown options are rejected by CLI11 with a usage message and exit non-zero.
#include "experiments/cli/command_registry.hpp"
#include "tensor/error.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>

#include <unistd.h>

namespace stripes::cli {

std::vector<RegisteredCommands>& command_registry() {
  static std::vector<RegisteredCommands> registry;
  return registry;
}

bool register_commands(const std::string& name, AddCommands add) {
  command_registry().push_back({name, std::move(add)});
  return true;
}

int& cli_exit_code() {
  static int code = 0;
  return code;
}

}  // namespace stripes::cli

int main(int argc, char** argv) {
  // OpenMP threads wait passively (sleep at a barrier) unless the user chose a policy: on cores
  // shared with other work, libgomp's default spin-waiting made a training step 2-11x slower
  // (docs/performance.md). libgomp reads OMP_WAIT_POLICY when it loads, before main, so the
  // program sets it and re-executes itself once; if that fails it carries on as it is.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && setenv("OMP_WAIT_POLICY", "PASSIVE", 1) == 0) {
    execv("/proc/self/exe", argv);
  }
  CLI::App app{"stripes: structure-informed positional encodings for efficient music generation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stripes 0.1.0");
  auto registry = stripes::cli::command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& entry : registry) entry.add(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const stripes::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error: {}\n", e.what());
    return 2;
  }
  return stripes::cli::cli_exit_code();
}
