// Helpers shared by the harmonization tests (test_harmonization, test_report, test_reproduce):
// a temporary folder, the message of an expected error, and a handful of real POP909 songs.
#pragma once

#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "experiments/harmonization/training.hpp"
#include "tensor/error.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace stripes::harmonization::test {

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

 private:
  std::filesystem::path path_;
};

// The message of the stripes::Error `action` throws; "" when it throws none.
inline std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

// `per_split` songs of each split, loaded from the MIDI and annotation files under `root`.
inline HarmonizationData handful_of_songs(const std::string& root, int per_split) {
  const data::Pop909Catalog catalog = data::load_pop909_catalog(root);
  auto songs = std::make_shared<std::vector<data::Pop909Song>>();
  std::array<int, 3> taken{};
  for (const data::SongSplit& entry : catalog.splits) {
    int& count = taken[size_t(entry.split)];
    if (count >= per_split) continue;
    songs->push_back(data::load_pop909_song(catalog, entry.song_id));
    ++count;
  }
  HarmonizationData result;
  result.songs = songs;
  result.encoder = std::make_shared<const data::ContextEncoder>(catalog.chords);
  return result;
}

#ifdef STRIPES_SOURCE_DIR
inline const char* const kRepoRoot = STRIPES_SOURCE_DIR;
#else
inline const char* const kRepoRoot = "";
#endif

}  // namespace stripes::harmonization::test

// Declares `std::string root` = the POP909 data root, or skips the test with the reason.
#define SKIP_WITHOUT_DATA(root)                                                                      \
  std::string root;                                                                                  \
  try {                                                                                              \
    root = ::stripes::data::resolve_data_root("", ::stripes::harmonization::test::kRepoRoot);        \
  } catch (const ::stripes::Error& error) {                                                          \
    GTEST_SKIP() << "POP909 data not available, skipping: " << error.what();                         \
  }
