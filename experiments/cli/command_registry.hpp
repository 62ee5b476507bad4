// The `stripes` program is one CLI11 app; each file under experiments/cli/ contributes its
// subcommands by registering a function that adds them to the app:
//
//   static void add_gradcheck_command(CLI::App& app) { auto* cmd = app.add_subcommand(...); ... }
//   STRIPES_REGISTER_COMMANDS(add_gradcheck_command)
//
// A subcommand's callback returns by throwing stripes::Error (printed, exit 1) or by setting the
// process exit code through cli_exit_code().
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace stripes::cli {

using AddCommands = std::function<void(CLI::App&)>;

struct RegisteredCommands {
  std::string name;
  AddCommands add;
};

std::vector<RegisteredCommands>& command_registry();
bool register_commands(const std::string& name, AddCommands add);

// Exit code the program returns after the subcommand ran (0 unless a command sets it).
int& cli_exit_code();

}  // namespace stripes::cli

#define STRIPES_REGISTER_COMMANDS(function) \
  static const bool stripes_registered_##function = ::stripes::cli::register_commands(#function, function);
