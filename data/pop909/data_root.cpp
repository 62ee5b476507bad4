// Data-root resolution; search order in data_root.hpp.
#include "data/pop909/data_root.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "tensor/error.hpp"

namespace stripes::data {

namespace fs = std::filesystem;

namespace {

std::string normalized(const fs::path& path) {
  std::error_code error;
  const fs::path absolute = fs::absolute(path, error);
  return (error ? path : absolute).lexically_normal().string();
}

// What is missing in `root` ("" if nothing).
std::string missing_part(const std::string& root) {
  std::error_code error;
  const fs::path base(root);
  if (!fs::is_directory(base, error)) return "not a directory";
  if (!fs::is_directory(base / "pop909" / "POP909", error)) return "no pop909/POP909 folder";
  if (!fs::is_directory(base / "structure" / "POP909", error)) return "no structure/POP909 folder";
  if (!fs::is_regular_file(base / "stripe-alignment" / "startpos.csv", error)) {
    return "no stripe-alignment/startpos.csv";
  }
  return "";
}

[[noreturn]] void throw_not_a_data_root(const std::string& how, const std::string& root) {
  throw_error(
      "POP909 data: {} '{}' is not a data root ({}). A data root holds pop909/POP909, structure/POP909 and "
      "stripe-alignment/; scripts/get-data.sh DIR creates one from the public repositories.",
      how, root, missing_part(root));
}

}  // namespace

bool is_data_root(const std::string& root) { return !root.empty() && missing_part(root).empty(); }

std::string resolve_data_root(const std::string& explicit_root, const std::string& repo_root) {
  if (!explicit_root.empty()) {
    if (!is_data_root(explicit_root)) throw_not_a_data_root("the data path", explicit_root);
    return normalized(explicit_root);
  }
  if (const char* from_environment = std::getenv("STRIPES_DATA"); from_environment != nullptr && *from_environment) {
    if (!is_data_root(from_environment)) throw_not_a_data_root("STRIPES_DATA", from_environment);
    return normalized(from_environment);
  }

  std::vector<std::string> tried;
  auto try_candidate = [&tried](const fs::path& candidate) -> bool {
    const std::string path = normalized(candidate);
    for (const std::string& seen : tried) {
      if (seen == path) return false;
    }
    tried.push_back(path);
    return is_data_root(path);
  };

  std::error_code error;
  fs::path directory = fs::current_path(error);
  if (!error) {
    for (fs::path at = directory; !at.empty(); at = at.parent_path()) {
      if (try_candidate(at / ".." / "shared" / "data")) return tried.back();
      if (at == at.parent_path()) break;
    }
  }
  // The running program's folder and its ancestors (build/stripes finds the data next to the
  // checkout whatever the current directory is).
  const fs::path program = fs::read_symlink("/proc/self/exe", error);
  if (!error && !program.empty()) {
    for (fs::path at = program.parent_path(); !at.empty(); at = at.parent_path()) {
      if (try_candidate(at / ".." / "shared" / "data")) return tried.back();
      if (at == at.parent_path()) break;
    }
  }
  std::string source_dir = repo_root;
#ifdef STRIPES_SOURCE_DIR
  if (source_dir.empty()) source_dir = STRIPES_SOURCE_DIR;
#endif
  if (!source_dir.empty() && try_candidate(fs::path(source_dir) / ".." / "shared" / "data")) return tried.back();

  std::string places;
  for (const std::string& path : tried) places += "\n  " + path;
  throw_error(
      "POP909 data not found. Looked in (no --data given, STRIPES_DATA unset):{}\n"
      "Get it with `scripts/get-data.sh DIR` (clones music-x-lab/POP909-Dataset, "
      "Dsqvival/hierarchical-structure-analysis and agarwalmanvi/structurePE into DIR with the expected layout), "
      "then pass --data DIR or set STRIPES_DATA=DIR.",
      places);
}

}  // namespace stripes::data
