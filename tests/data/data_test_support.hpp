// Helpers shared by the data tests: finding the data root (tests that need POP909 skip with the
// reason when it is absent) and hand-made songs. The temporary folder is
// tests/support/temporary_folder.hpp.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "tensor/error.hpp"
#include "tests/support/temporary_folder.hpp"

namespace stripes::data::testing {

#ifdef STRIPES_SOURCE_DIR
inline const char* const kRepoRoot = STRIPES_SOURCE_DIR;
#else
inline const char* const kRepoRoot = "";
#endif

// The data root, or "" with `why` set.
inline std::string find_data_root(std::string* why) {
  try {
    return resolve_data_root("", kRepoRoot);
  } catch (const Error& error) {
    *why = error.what();
    return "";
  }
}

#define STRIPES_SKIP_WITHOUT_DATA(root_variable)                                                              \
  std::string why_no_data;                                                                                    \
  const std::string root_variable = ::stripes::data::testing::find_data_root(&why_no_data);                   \
  if (root_variable.empty()) GTEST_SKIP() << "POP909 data not available, skipping: " << why_no_data

// The catalogue of `root`, parsed once per test program.
inline const Pop909Catalog& catalog_of(const std::string& root) {
  static const Pop909Catalog catalog = load_pop909_catalog(root);
  return catalog;
}

// A small data root under `directory` with only the songs `song_ids` of the real data root `root`
// (their MIDI and structure files copied, startpos.csv and split.csv cut down to them; chord_db.csv
// and index.csv copied whole), so that tests can load, cache and modify a data root in milliseconds.
// `splits` gives each song's split ("train", "val", "test").
inline std::string make_mini_data_root(const std::string& directory, const std::string& root,
                                       const std::vector<int>& song_ids, const std::vector<std::string>& splits) {
  namespace fs = std::filesystem;
  const fs::path out = fs::path(directory) / "data";
  fs::create_directories(out / "pop909" / "POP909");
  fs::create_directories(out / "structure" / "POP909");
  fs::create_directories(out / "stripe-alignment");
  fs::copy_file(fs::path(root) / "pop909" / "POP909" / "index.csv", out / "pop909" / "POP909" / "index.csv");
  fs::copy_file(fs::path(root) / "stripe-alignment" / "chord_db.csv", out / "stripe-alignment" / "chord_db.csv");
  const Pop909Catalog catalog = load_pop909_catalog(root);
  std::string startpos = "ID,Position,Beats\n";
  std::string split = "song_id,split\n";
  for (size_t i = 0; i < song_ids.size(); ++i) {
    const int id = song_ids[i];
    const std::string name = fmt::format("{:03d}", id);
    fs::create_directories(out / "pop909" / "POP909" / name);
    fs::copy_file(catalog.midi_path(id), out / "pop909" / "POP909" / name / (name + ".mid"));
    fs::copy(catalog.structure_directory(id), out / "structure" / "POP909" / name, fs::copy_options::recursive);
    const StartPosition* position = catalog.find_start_position(id);
    startpos += fmt::format("{},{},{}\n", id, position->position_ticks, position->position_ticks / 16.0);
    split += fmt::format("{},{}\n", id, splits[i]);
  }
  std::ofstream(out / "stripe-alignment" / "startpos.csv") << startpos;
  std::ofstream(out / "stripe-alignment" / "split.csv") << split;
  return out.string();
}

// A song of `ticks` ticks with the given chord ids (one per tick) and notes; other rows are simple.
inline Pop909Song make_song(int song_id, Split split, const std::vector<int32_t>& chord_ids,
                            const std::vector<SongNote>& notes, const std::string& key_name = "C:maj") {
  Pop909Song song;
  song.song_id = song_id;
  song.split = split;
  song.num_ticks = static_cast<int64_t>(chord_ids.size());
  song.notes = notes;
  song.chord_ids = chord_ids;
  const auto n = chord_ids.size();
  song.melody.assign(n, 0);
  song.phrase_labels.assign(n, kPhrasePadLabelId);
  song.measure_order.resize(n);
  song.note_order.resize(n);
  for (size_t t = 0; t < n; ++t) {
    song.melody[t] = 60 + static_cast<int32_t>(t % 5);
    song.phrase_labels[t] = static_cast<int32_t>(t / kTicksPerBar) % kPhraseLabelCount;
    song.measure_order[t] = static_cast<int32_t>(t / kTicksPerBar);
    song.note_order[t] = static_cast<int32_t>(t % kTicksPerQuarter);
  }
  song.tempo_bpm = 90;
  song.tempo_bucket = tempo_bucket(90);
  song.key = parse_key_name(key_name, "<test>", 1);
  song.key_changes = {song.key};
  return song;
}

}  // namespace stripes::data::testing
