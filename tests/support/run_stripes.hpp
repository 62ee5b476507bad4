// Running the built `stripes` program from a test (CLI tests): the exit code and everything it
// printed, stdout and stderr together. STRIPES_BINARY is defined by tests/CMakeLists.txt.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>
#include <utility>

namespace stripes::test {

// `stripes ARGUMENTS` (in `directory` when given): {exit code, output}. A signal gives 128 + signal.
inline std::pair<int, std::string> run_stripes(const std::string& arguments, const std::string& directory = "") {
#ifdef STRIPES_BINARY
  const std::string program = STRIPES_BINARY;
#else
  const std::string program = "stripes";
#endif
  const std::string command =
      (directory.empty() ? "" : "cd '" + directory + "' && ") + program + " " + arguments + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, output};
  std::array<char, 4096> buffer{};
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

// The same result with names, for tests that read it field by field.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
  CommandResult(const std::pair<int, std::string>& run) : exit_code(run.first), output(run.second) {}
};

}  // namespace stripes::test
