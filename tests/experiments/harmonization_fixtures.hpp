// Helpers shared by the harmonization tests (test_harmonization, test_harmonize_midi, test_report,
// test_reproduce): a temporary folder, the message of an expected error, a handful of real POP909
// songs, the tiny model config and text files.
#pragma once

#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "experiments/harmonization/training.hpp"
#include "tensor/error.hpp"
#include "tests/support/temporary_folder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace stripes::harmonization::test {

using stripes::test::TemporaryFolder;

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

// The small model the harmonization tests build: the small preset at width 16, 2 heads, 8
// features, no dropout.
inline HarmonizationConfig tiny_config(const std::string& pe, const std::string& context) {
  HarmonizationConfig config = preset_config("small");
  config.pe = pe;
  config.context = context;
  config.d_model = 16;
  config.heads = 2;
  config.d_ff = 16;
  config.features = 8;
  config.dropout = 0.0;
  return config;
}

// tiny_config for a short training run on a handful of songs, evaluated on a few windows: T = 64,
// batch 4, 16 training windows, 4 test and 4 validation windows of T = 64.
inline HarmonizationConfig tiny_run_config(const std::string& pe, const std::string& context) {
  HarmonizationConfig config = tiny_config(pe, context);
  config.sequence_length = 64;
  config.batch_size = 4;
  config.max_train_windows = 16;
  config.eval_sequence_length = 64;
  config.max_eval_windows = 4;
  config.max_val_windows = 4;
  return config;
}

// Write `text` to `path`, creating its folders; read a whole file back.
inline void write_text_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  out << text;
}
inline std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
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
