// Tests of the POP909 song loader and windows against the StrIPE authors' own preprocessed windows
// (stripe-alignment/golden_windows.h5, songs 001-012): every dataset of every window must be equal,
// tick for tick. Also: the full-dataset load (866 songs, 692/86/88, in well under a minute), the
// two options that depart from the authors, window arithmetic and data-root resolution.
// The tests that need the data skip (GTEST_SKIP, with the reason) when no data root is found.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "tensor/error.hpp"
#include "tensor/io/hdf5_file.hpp"

namespace {

using namespace stripes::data;
using stripes::Error;
using stripes::io::Hdf5File;
using stripes::io::OpenMode;

#ifdef STRIPES_SOURCE_DIR
const char* const kRepoRoot = STRIPES_SOURCE_DIR;
#else
const char* const kRepoRoot = "";
#endif

// The data root, or "" with `why` set.
std::string find_data_root(std::string* why) {
  try {
    return resolve_data_root("", kRepoRoot);
  } catch (const Error& error) {
    *why = error.what();
    return "";
  }
}

#define SKIP_WITHOUT_DATA(root_variable)                                                                       \
  std::string why_no_data;                                                                                    \
  const std::string root_variable = find_data_root(&why_no_data);                                             \
  if (root_variable.empty()) GTEST_SKIP() << "POP909 data not available, skipping: " << why_no_data

const Pop909Catalog& catalog_of(const std::string& root) {
  static const Pop909Catalog catalog = load_pop909_catalog(root);
  return catalog;
}

// ---- golden windows -----------------------------------------------------------------------------

// Compares one (rows, ticks) row-major array of ours with the golden dataset; on a difference,
// reports the first differing cell and the number of differing cells.
template <typename Ours>
void expect_equal_to_golden(const Hdf5File& golden, const std::string& path, const std::vector<Ours>& ours,
                            int64_t rows, int64_t ticks) {
  ASSERT_EQ(golden.dataset_shape(path), (std::vector<int64_t>{rows, ticks})) << path;
  const std::vector<int64_t> theirs = golden.read_dataset<int64_t>(path);
  ASSERT_EQ(ours.size(), theirs.size()) << path;
  int64_t differing = 0;
  int64_t first = -1;
  for (size_t i = 0; i < theirs.size(); ++i) {
    if (static_cast<int64_t>(ours[i]) != theirs[i]) {
      if (first < 0) first = static_cast<int64_t>(i);
      ++differing;
    }
  }
  EXPECT_EQ(differing, 0) << path << ": " << differing << " cells differ; first at row " << first / ticks
                          << ", tick " << first % ticks << ": ours " << static_cast<int64_t>(ours[first])
                          << ", golden " << theirs[first];
}

class Pop909Golden : public ::testing::TestWithParam<int> {};

TEST_P(Pop909Golden, WindowsEqualTheAuthorsTickForTick) {
  SKIP_WITHOUT_DATA(root);
  const std::string golden_path = root + "/stripe-alignment/golden_windows.h5";
  if (!std::filesystem::exists(golden_path)) GTEST_SKIP() << "no " << golden_path;
  const int song_id = GetParam();
  const std::string song = fmt::format("{:03d}", song_id);

  const Pop909Song loaded = load_pop909_song(catalog_of(root), song_id);
  const std::vector<Pop909Window> windows = make_windows(loaded, 512, 64);
  const Hdf5File golden(golden_path, OpenMode::kRead);
  ASSERT_EQ(windows.size(), golden.list_children("/" + song).size()) << "window count of song " << song;

  for (const Pop909Window& window : windows) {
    SCOPED_TRACE("song " + song + " window " + std::to_string(window.index));
    const std::string group = fmt::format("/{}/{}/", song, window.index);
    EXPECT_EQ(golden.dataset_element_type(group + "pianoroll"), stripes::io::ElementType::kUInt8);
    expect_equal_to_golden(golden, group + "pianoroll", window.pianoroll, kPianorollRows, 513);
    expect_equal_to_golden(golden, group + "onset", window.onset, kPianorollRows, 513);
    expect_equal_to_golden(golden, group + "chord_ids", window.chord_ids, 1, 513);
    expect_equal_to_golden(golden, group + "melody", window.melody, 1, 513);
    expect_equal_to_golden(golden, group + "annotation_1", window.phrase_labels, 1, 513);
    expect_equal_to_golden(golden, group + "measure_order", window.measure_order, 1, 513);
    expect_equal_to_golden(golden, group + "note_order", window.note_order, 1, 513);
    EXPECT_TRUE(golden.dataset_info(group + "tempo_bucket").is_scalar());
    EXPECT_EQ(window.tempo_bucket, golden.read_scalar<int64_t>(group + "tempo_bucket"));
  }
}

INSTANTIATE_TEST_SUITE_P(Songs001To012, Pop909Golden, ::testing::Range(1, 13),
                         [](const ::testing::TestParamInfo<int>& info) { return fmt::format("song{:03d}", info.param); });

// ---- the whole dataset --------------------------------------------------------------------------

TEST(Pop909Dataset, LoadsThe866SongsOfTheStripeSplit) {
  SKIP_WITHOUT_DATA(root);
  const Pop909LoadResult result = load_all_pop909_songs(catalog_of(root), {}, /*keep_songs=*/true);
  const Pop909LoadSummary& summary = result.summary;
  std::cout << summary.report();
  EXPECT_EQ(summary.songs_in_index, 909);
  EXPECT_EQ(summary.songs_used, 866);
  EXPECT_EQ(summary.train_songs, 692);
  EXPECT_EQ(summary.validation_songs, 86);
  EXPECT_EQ(summary.test_songs, 88);
  EXPECT_EQ(summary.skipped_count(SkipReason::kNotFourFour), 43);
  EXPECT_EQ(summary.skipped_count(SkipReason::kNoAlignmentEntry), 0);
  EXPECT_EQ(summary.skipped_count(SkipReason::kMissingFiles), 0);
  EXPECT_EQ(summary.skipped_count(SkipReason::kUnreadable), 0) << summary.report();
  EXPECT_EQ(summary.used_despite_index_meter.size(), 9u);
  ASSERT_EQ(result.songs.size(), 866u);
  EXPECT_TRUE(std::is_sorted(result.songs.begin(), result.songs.end(),
                             [](const Pop909Song& a, const Pop909Song& b) { return a.song_id < b.song_id; }));
  for (const Pop909Song& song : result.songs) {
    ASSERT_EQ(song.chord_ids.size(), static_cast<size_t>(song.num_ticks)) << song.song_id;
    ASSERT_EQ(song.note_order.size(), static_cast<size_t>(song.num_ticks)) << song.song_id;
    ASSERT_GE(song.num_ticks, 513) << song.song_id;
  }
#ifdef NDEBUG
  EXPECT_LT(summary.seconds, 60.0) << "loading all of POP909 should take well under a minute";
#endif
}

// ---- the options that depart from the authors ---------------------------------------------------

TEST(Pop909Options, FixedBarGridFollowsTheAnnotatedBars) {
  SKIP_WITHOUT_DATA(root);
  // Song 010 starts its annotations 24 ticks after the first note.
  Pop909Options fixed;
  fixed.bar_grid_from_first_note = false;
  const Pop909Song authors = load_pop909_song(catalog_of(root), 10);
  const Pop909Song song = load_pop909_song(catalog_of(root), 10, fixed);
  ASSERT_EQ(song.start_position, 24);
  // The authors' grid: bar 1 starts at tick 64, and tick 24 (the first annotated beat) is 8.
  EXPECT_EQ(authors.measure_order[63], 0);
  EXPECT_EQ(authors.measure_order[64], 1);
  EXPECT_EQ(authors.note_order[24], 8);
  // The fixed grid: ticks 0..23 are a pickup bar 0, bar 1 starts at tick 24 with beat tick 0.
  EXPECT_EQ(song.measure_order[23], 0);
  EXPECT_EQ(song.measure_order[24], 1);
  EXPECT_EQ(song.measure_order[24 + 64], 2);
  EXPECT_EQ(song.note_order[23], 15);
  EXPECT_EQ(song.note_order[24], 0);
  EXPECT_EQ(song.note_order[24 + 16], 0);
  // Phrase boundaries (whole bars) now fall on bar boundaries.
  for (int64_t tick = 1; tick < song.num_ticks; ++tick) {
    if (song.phrase_labels[tick] != song.phrase_labels[tick - 1]) {
      EXPECT_NE(song.measure_order[tick], song.measure_order[tick - 1]) << "tick " << tick;
      EXPECT_EQ(song.note_order[tick], 0) << "tick " << tick;
    }
  }
  // Everything else is unchanged.
  EXPECT_EQ(song.chord_ids, authors.chord_ids);
  EXPECT_EQ(song.phrase_labels, authors.phrase_labels);
}

TEST(Pop909Options, OnsetsOfVanishedNotesCanBeDropped) {
  SKIP_WITHOUT_DATA(root);
  // Song 005 has notes shorter than half a tick: onsets where the pianoroll is silent.
  auto silent_onsets = [](const Pop909Song& song) {
    std::vector<uint8_t> roll(static_cast<size_t>(kPianorollRows * song.num_ticks));
    std::vector<uint8_t> onset(roll.size());
    render_pianoroll(song, 0, song.num_ticks, roll.data(), onset.data());
    int64_t count = 0;
    for (size_t i = 0; i < roll.size(); ++i) count += onset[i] == 1 && roll[i] == 0;
    return count;
  };
  Pop909Options drop;
  drop.onsets_of_vanished_notes = false;
  EXPECT_GT(silent_onsets(load_pop909_song(catalog_of(root), 5)), 0);
  EXPECT_EQ(silent_onsets(load_pop909_song(catalog_of(root), 5, drop)), 0);
}

TEST(Pop909Song, NegativeStartPositionPrependsSilence) {
  SKIP_WITHOUT_DATA(root);
  const Pop909Catalog& catalog = catalog_of(root);
  const auto negative = std::find_if(catalog.start_positions.begin(), catalog.start_positions.end(),
                                     [](const StartPosition& row) { return row.position_ticks < 0; });
  ASSERT_NE(negative, catalog.start_positions.end());
  const Pop909Song song = load_pop909_song(catalog, negative->song_id);
  const int64_t lead_in = -negative->position_ticks;
  std::vector<uint8_t> roll(static_cast<size_t>(kPianorollRows * (lead_in + 1)));
  render_pianoroll(song, 0, lead_in + 1, roll.data(), nullptr);
  for (int row = 0; row < kPianorollRows; ++row) {
    for (int64_t tick = 0; tick < lead_in; ++tick) ASSERT_EQ(roll[row * (lead_in + 1) + tick], 0);
  }
  int64_t sounding_at_first_note = 0;
  for (int row = 0; row < kPianorollRows; ++row) sounding_at_first_note += roll[row * (lead_in + 1) + lead_in];
  EXPECT_GT(sounding_at_first_note, 0);
  // The annotations start at tick 0, and so does the bar grid.
  EXPECT_NE(song.phrase_labels[0], kPhrasePadLabelId);
  EXPECT_EQ(song.note_order[0], 0);
}

// ---- windows and rendering (no data needed) -----------------------------------------------------

TEST(Pop909Windows, StartsHopAndDropTheLastPartialWindow) {
  EXPECT_EQ(default_window_overlap(512), 64);
  EXPECT_EQ(default_window_overlap(1024), 128);
  EXPECT_EQ(default_window_overlap(3072), 384);
  // 513-tick windows, hop 449: starts 0, 449, 898; the next (1347) would end at 1860 > 1800.
  EXPECT_EQ(window_starts(1800, 512, 64), (std::vector<int64_t>{0, 449, 898}));
  EXPECT_EQ(window_starts(513, 512, 64), (std::vector<int64_t>{0}));
  EXPECT_TRUE(window_starts(512, 512, 64).empty());
  EXPECT_EQ(window_starts(1860, 512, 64).size(), 4u);  // exactly fits
  EXPECT_THROW(window_starts(1000, 512, 513), Error);
  EXPECT_THROW(default_window_overlap(100), Error);
}

TEST(Pop909Windows, RenderingAndSlicing) {
  Pop909Song song;
  song.song_id = 1;
  song.num_ticks = 8;
  // MELODY pitch 60 over ticks [1, 4) and again from 3 (same pitch overlapping), PIANO pitch 0 over
  // [6, 8), and a BRIDGE note that vanished at tick 5 (onset only).
  song.notes = {{0, 60, 1, 4}, {0, 60, 3, 5}, {1, 72, 5, 5}, {2, 0, 6, 8}};
  for (auto* row : {&song.chord_ids, &song.melody, &song.phrase_labels, &song.measure_order, &song.note_order}) {
    row->resize(8);
    for (int tick = 0; tick < 8; ++tick) (*row)[static_cast<size_t>(tick)] = tick;
  }
  song.tempo_bucket = 2;
  std::vector<uint8_t> roll(kPianorollRows * 8), onset(kPianorollRows * 8);
  render_pianoroll(song, 0, 8, roll.data(), onset.data());
  auto cell = [](const std::vector<uint8_t>& values, int row, int tick, int length) {
    return static_cast<int>(values[static_cast<size_t>(row * length + tick)]);
  };
  for (int tick = 0; tick < 8; ++tick) {
    EXPECT_EQ(cell(roll, 60, tick, 8), tick >= 1 && tick < 5) << tick;
    EXPECT_EQ(cell(onset, 60, tick, 8), tick == 1 || tick == 3) << tick;
    EXPECT_EQ(cell(roll, 128 + 72, tick, 8), 0) << tick;
    EXPECT_EQ(cell(onset, 128 + 72, tick, 8), tick == 5) << tick;
    EXPECT_EQ(cell(roll, 256, tick, 8), tick >= 6) << tick;
  }
  // A window of T + 1 = 5 ticks with overlap 2: starts 0 and 3.
  const std::vector<Pop909Window> windows = make_windows(song, 4, 2);
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows[1].start_tick, 3);
  EXPECT_EQ(windows[1].length, 5);
  EXPECT_EQ(windows[1].chord_ids, (std::vector<int32_t>{3, 4, 5, 6, 7}));
  EXPECT_EQ(windows[1].tempo_bucket, 2);
  EXPECT_EQ(cell(windows[1].pianoroll, 60, 0, 5), 1);   // tick 3
  EXPECT_EQ(cell(windows[1].onset, 60, 0, 5), 1);       // the second note starts at 3
  EXPECT_EQ(cell(windows[1].pianoroll, 256, 4, 5), 1);  // tick 7
}

// ---- data root ----------------------------------------------------------------------------------

TEST(Pop909DataRoot, ExplicitPathMustBeADataRoot) {
  try {
    resolve_data_root("/no/such/folder");
    FAIL() << "expected stripes::Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("/no/such/folder"), std::string::npos) << message;
    EXPECT_NE(message.find("scripts/get-data.sh"), std::string::npos) << message;
  }
}

TEST(Pop909DataRoot, EnvironmentVariableIsUsedAndChecked) {
  const char* previous = std::getenv("STRIPES_DATA");
  const std::string saved = previous ? previous : "";
  ::setenv("STRIPES_DATA", "/no/such/folder", 1);
  EXPECT_THROW(resolve_data_root(), Error);
  std::string why;
  ::unsetenv("STRIPES_DATA");
  const std::string root = find_data_root(&why);
  if (!root.empty()) {
    ::setenv("STRIPES_DATA", root.c_str(), 1);
    EXPECT_EQ(resolve_data_root(), root);
    EXPECT_EQ(resolve_data_root(root), root);
    EXPECT_TRUE(is_data_root(root));
  }
  if (previous) {
    ::setenv("STRIPES_DATA", saved.c_str(), 1);
  } else {
    ::unsetenv("STRIPES_DATA");
  }
}

}  // namespace
