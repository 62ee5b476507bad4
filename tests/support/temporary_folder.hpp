// A temporary folder for tests that write files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace stripes::test {

// A fresh, empty folder under the system's temp dir, removed with everything in it at scope end.
// Unique per process and per object.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& name) {
    static int count = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("stripes-test-" + name + "-" + std::to_string(getpid()) + "-" + std::to_string(count++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TemporaryFolder() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace stripes::test
