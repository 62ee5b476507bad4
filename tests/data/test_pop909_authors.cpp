// All 866 songs against the StrIPE authors' pipeline: per-song checksums of the authors' full-song
// arrays (tests/data/fixtures/authors_song_checksums.tsv, made by replaying structurePE's
// preprocessing.py with muspy; see authors_song_checksums.py there) must equal ours for every song
// and every array. Also: what the MIDI overlap policy changes (docs/data.md, "same-pitch overlaps").
// Skipped without the data.
#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/data/data_test_support.hpp"

namespace stripes::data {
namespace {

constexpr int64_t kModulus = 1000000007;

// (nonzero count, sum, sum_i (v_i mod p) ((i * 7919 + 1) mod p) mod p) over a flat array; the
// fixture's checksum.
struct Checksum {
  int64_t nonzero = 0;
  int64_t sum = 0;
  int64_t weighted = 0;
  void add(int64_t flat_index, int64_t value) {
    if (value == 0) return;
    ++nonzero;
    sum += value;
    weighted = (weighted + (value % kModulus) * ((flat_index * 7919 + 1) % kModulus)) % kModulus;
  }
  bool operator==(const Checksum&) const = default;
};

Checksum row_checksum(const std::vector<int32_t>& row) {
  Checksum checksum;
  for (size_t i = 0; i < row.size(); ++i) checksum.add(static_cast<int64_t>(i), row[i]);
  return checksum;
}

// The pianoroll (384, n) and onset (384, n) checksums, from the notes (no dense rendering).
std::pair<Checksum, Checksum> roll_checksums(const Pop909Song& song) {
  Checksum roll;
  for (const SoundingRun& run : sounding_runs(song)) {
    const int64_t row = static_cast<int64_t>(run.track) * kPitchCount + run.pitch;
    for (int64_t tick = run.start; tick < run.end; ++tick) roll.add(row * song.num_ticks + tick, 1);
  }
  std::set<std::pair<int64_t, int64_t>> onsets;
  for (const SongNote& note : song.notes) {
    if (note.start < song.num_ticks) {
      onsets.insert({static_cast<int64_t>(note.track) * kPitchCount + note.pitch, note.start});
    }
  }
  Checksum onset;
  for (const auto& [row, tick] : onsets) onset.add(row * song.num_ticks + tick, 1);
  return {roll, onset};
}

std::map<int, std::vector<int64_t>> read_fixture() {
  std::ifstream in(std::string(testing::kRepoRoot) + "/tests/data/fixtures/authors_song_checksums.tsv");
  std::map<int, std::vector<int64_t>> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::vector<int64_t> values;
    int64_t value = 0;
    while (fields >> value) values.push_back(value);
    if (values.size() == 26) rows[static_cast<int>(values[0])] = values;
  }
  return rows;
}

TEST(Pop909Authors, All866SongsEqualTheAuthorsPipeline) {
  STRIPES_SKIP_WITHOUT_DATA(root);
  const std::map<int, std::vector<int64_t>> authors = read_fixture();
  ASSERT_EQ(authors.size(), 866u) << "tests/data/fixtures/authors_song_checksums.tsv not found or incomplete";
  const Pop909LoadResult loaded = load_all_pop909_songs(testing::catalog_of(root), {}, true, 512);
  ASSERT_EQ(loaded.songs.size(), 866u);
  const char* const names[7] = {"pianoroll", "onset", "chord_ids", "melody", "annotation_1", "measure_order",
                                "note_order"};
  std::vector<std::string> failures(loaded.songs.size());
#pragma omp parallel for schedule(dynamic, 8)
  for (size_t i = 0; i < loaded.songs.size(); ++i) {
    const Pop909Song& song = loaded.songs[i];
    const auto found = authors.find(song.song_id);
    if (found == authors.end()) {
      failures[i] = "not in the fixture";
      continue;
    }
    const std::vector<int64_t>& theirs = found->second;
    const auto [roll, onset] = roll_checksums(song);
    const std::array<Checksum, 7> ours = {roll, onset, row_checksum(song.chord_ids), row_checksum(song.melody),
                                          row_checksum(song.phrase_labels), row_checksum(song.measure_order),
                                          row_checksum(song.note_order)};
    std::string failure;
    if (song.num_ticks != theirs[1]) failure += fmt::format(" ticks {} vs {};", song.num_ticks, theirs[1]);
    if (static_cast<int64_t>(window_starts(song.num_ticks, 512, 64).size()) != theirs[2]) failure += " windows;";
    for (size_t k = 0; k < 7; ++k) {
      const Checksum expected{theirs[4 + 3 * k], theirs[5 + 3 * k], theirs[6 + 3 * k]};
      if (!(ours[k] == expected)) {
        failure += fmt::format(" {} ({} vs {} nonzero);", names[k], ours[k].nonzero, expected.nonzero);
      }
    }
    if (song.tempo_bucket != theirs[25]) failure += " tempo bucket;";
    failures[i] = failure;
  }
  int differing = 0;
  for (size_t i = 0; i < failures.size(); ++i) {
    if (failures[i].empty()) continue;
    ++differing;
    ADD_FAILURE() << "song " << loaded.songs[i].song_id << ":" << failures[i];
  }
  EXPECT_EQ(differing, 0);
}

// With the re-trigger rule instead of muspy's FIFO pairing, exactly the nine songs with same-pitch
// overlaps lose pianoroll cells (docs/data.md); nothing else changes.
TEST(Pop909Authors, CutAtRetriggerLosesCellsInNineSongsOnly) {
  STRIPES_SKIP_WITHOUT_DATA(root);
  const Pop909Catalog& catalog = testing::catalog_of(root);
  Pop909Options cut;
  cut.midi_overlap = midi::OverlapPolicy::kCutAtRetrigger;
  const std::map<int, int64_t> lost = {{180, 823}, {218, 9}, {552, 15}, {683, 4}, {694, 8},
                                       {717, 16},  {792, 119}, {802, 22}, {896, 59}, {1, 0}, {100, 0}};
  int64_t total = 0;
  for (const auto& [song_id, cells] : lost) {
    const Pop909Song fifo_song = load_pop909_song(catalog, song_id);
    const Pop909Song cut_song = load_pop909_song(catalog, song_id, cut);
    const auto [fifo_roll, fifo_onset] = roll_checksums(fifo_song);
    const auto [cut_roll, cut_onset] = roll_checksums(cut_song);
    EXPECT_EQ(fifo_roll.nonzero - cut_roll.nonzero, cells) << "song " << song_id;
    EXPECT_TRUE(fifo_onset == cut_onset) << "song " << song_id;
    EXPECT_EQ(fifo_song.chord_ids, cut_song.chord_ids);
    total += fifo_roll.nonzero - cut_roll.nonzero;
  }
  EXPECT_EQ(total, 1075);
}

}  // namespace
}  // namespace stripes::data
