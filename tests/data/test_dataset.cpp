// Tests of the window dataset and its batches (data/dataset.hpp), the HDF5 song cache
// (data/song_cache.hpp), the golden-layout window files (data/window_file.hpp, what `stripes data
// windows` writes) and `stripes data check` (data/data_check.hpp). Hand-made songs where possible;
// the POP909 tests skip without the data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "data/data_check.hpp"
#include "data/dataset.hpp"
#include "data/song_cache.hpp"
#include "data/window_file.hpp"
#include "tensor/io/hdf5_file.hpp"
#include "tests/data/data_test_support.hpp"

namespace stripes::data {
namespace {

using testing::make_song;
using stripes::test::TemporaryFolder;

ChordDatabase tiny_database() {
  ChordVector c_major;
  c_major.root_plus_one = 1;
  c_major.pitch_classes = {1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
  ChordVector a_minor;
  a_minor.root_plus_one = 10;
  a_minor.pitch_classes = {1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0};
  return ChordDatabase({ChordVector{}, c_major, a_minor});
}

// Two train songs and a test song, 20 and 12 and 9 ticks long.
std::shared_ptr<const std::vector<Pop909Song>> tiny_songs() {
  std::vector<Pop909Song> songs;
  std::vector<int32_t> chords(20, 1);
  for (int t = 8; t < 20; ++t) chords[static_cast<size_t>(t)] = 2;
  songs.push_back(make_song(1, Split::kTrain, chords,
                            {{0, 72, 3, 4},      // melody, one tick: 3
                             {1, 50, 5, 7},      // bridge, ticks 5 and 6
                             {2, 40, 0, 20},     // piano, the whole song
                             {0, 74, 9, 9}}));   // vanished: sounds nowhere
  songs.push_back(make_song(2, Split::kTest, std::vector<int32_t>(12, 0), {{2, 45, 2, 3}}));
  songs.push_back(make_song(3, Split::kTrain, std::vector<int32_t>(9, 2), {{0, 60, 0, 9}}, "A:min"));
  return std::make_shared<const std::vector<Pop909Song>>(std::move(songs));
}

float at(const Tensor& tensor, std::initializer_list<int64_t> index) { return static_cast<float>(tensor.at(index)); }

// ---- windows and batches ------------------------------------------------------------------------

TEST(WindowDataset, WindowsFollowTheAuthorsConvention) {
  const auto songs = tiny_songs();
  const auto encoder = std::make_shared<const ContextEncoder>(tiny_database());
  DatasetOptions options;
  options.sequence_length = 7;  // windows of 8 ticks
  options.overlap = 2;          // hop 6
  const WindowDataset train(songs, encoder, options);
  // Song 1 (20 ticks): starts 0, 6, 12 (12 + 8 = 20 fits, 18 does not). Song 3 (9 ticks): 0.
  ASSERT_EQ(train.size(), 4);
  EXPECT_EQ(train.song_count(), 2);
  EXPECT_EQ(train.window(0).start_tick, 0);
  EXPECT_EQ(train.window(1).start_tick, 6);
  EXPECT_EQ(train.window(2).start_tick, 12);
  EXPECT_EQ(train.window(2).window_index, 2);
  EXPECT_EQ(train.window(3).song_id, 3);
  EXPECT_THROW(train.window(4), Error);
  options.split = Split::kTest;
  EXPECT_EQ(WindowDataset(songs, encoder, options).size(), 1);
  options.overlap = -1;
  options.sequence_length = 16;  // T / 8 = 2
  EXPECT_EQ(WindowDataset(songs, encoder, options).overlap(), 2);
}

TEST(WindowDataset, BatchShapesAndNextTickTarget) {
  const auto songs = tiny_songs();
  const auto encoder = std::make_shared<const ContextEncoder>(tiny_database());
  DatasetOptions options;
  options.sequence_length = 7;
  options.overlap = 2;
  const WindowDataset dataset(songs, encoder, options);
  const std::vector<int64_t> indices = {0, 1};  // song 1 windows at ticks 0 and 6
  const Batch batch = dataset.batch(indices);
  EXPECT_EQ(batch.input.shape(), (Shape{2, 7, 256}));
  EXPECT_EQ(batch.target.shape(), (Shape{2, 7, 384}));
  EXPECT_EQ(batch.positions.shape(), (Shape{2, 7}));
  EXPECT_EQ(batch.input.dtype(), DType::Float32);
  ASSERT_EQ(batch.windows.size(), 2u);

  // Window 0, ticks 0..7. Melody 72 sounds at tick 3 only: input row 72 at t = 3, target (the
  // next tick) at t = 2.
  for (int64_t t = 0; t < 7; ++t) {
    EXPECT_EQ(at(batch.input, {0, t, 72}), t == 3 ? 1.0f : 0.0f) << t;
    EXPECT_EQ(at(batch.target, {0, t, 72}), t == 2 ? 1.0f : 0.0f) << t;
    // Bridge 50 at ticks 5, 6: input rows 128 + 50 at t = 5, 6; target at t = 4, 5.
    EXPECT_EQ(at(batch.input, {0, t, 128 + 50}), (t == 5 || t == 6) ? 1.0f : 0.0f) << t;
    EXPECT_EQ(at(batch.target, {0, t, 128 + 50}), (t == 4 || t == 5) ? 1.0f : 0.0f) << t;
    // Piano sounds throughout: in the target (rows 256..383), never in the input (256 rows).
    EXPECT_EQ(at(batch.target, {0, t, 256 + 40}), 1.0f) << t;
    EXPECT_EQ(at(batch.positions, {0, t}), static_cast<float>(t));  // TIME
  }
  // The vanished melody note (74 at tick 9) sounds nowhere.
  for (int64_t t = 0; t < 7; ++t) EXPECT_EQ(at(batch.input, {1, t, 74}), 0.0f);
  // Window 1 starts at tick 6: bridge tick 6 is t = 0; its target tick 6 would be t = -1 (absent).
  EXPECT_EQ(at(batch.input, {1, 0, 128 + 50}), 1.0f);
  EXPECT_EQ(at(batch.target, {1, 0, 128 + 50}), 0.0f);
  // Cell counts: the input holds the melody/bridge cells of ticks 0..6 only, the target those of 1..7.
  const std::vector<float> input = batch.input.to_vector<float>();
  EXPECT_EQ(std::count(input.begin(), input.begin() + 7 * 256, 1.0f), 1 + 2);
  const std::vector<float> target = batch.target.to_vector<float>();
  EXPECT_EQ(std::count(target.begin(), target.begin() + 7 * 384, 1.0f), 1 + 2 + 7);
}

TEST(WindowDataset, SameTickTargetAndContextPositions) {
  const auto songs = tiny_songs();
  const auto encoder = std::make_shared<const ContextEncoder>(tiny_database());
  DatasetOptions options;
  options.sequence_length = 7;
  options.overlap = 2;
  options.target = TargetAlignment::kSameTick;
  options.context = ContextType::kRep;
  const WindowDataset dataset(songs, encoder, options);
  const std::vector<int64_t> first = {0};
  const Batch batch = dataset.batch(first);
  for (int64_t t = 0; t < 7; ++t) {
    // With an aligned target, target = input on the melody and bridge rows.
    for (int64_t row : {int64_t{72}, int64_t{128 + 50}}) {
      EXPECT_EQ(at(batch.target, {0, t, row}), at(batch.input, {0, t, row}));
    }
    // REP over the window's 7 input ticks: chords 1 (ticks 0-7) -> only id 1 -> rank 0.
    EXPECT_EQ(at(batch.positions, {0, t}), 0.0f);
  }
  // Window at tick 6 (ticks 6..12): ids 1 1 2 2 2 2 2 -> ranks 0 0 1 1 1 1 1.
  const std::vector<int64_t> second = {1};
  EXPECT_EQ(dataset.batch(second).positions.to_vector<float>(), (std::vector<float>{0, 0, 1, 1, 1, 1, 1}));

  options.context = ContextType::kBin;
  const WindowDataset bin(songs, encoder, options);
  const Batch bins = bin.batch(first);
  EXPECT_EQ(bins.positions.shape(), (Shape{1, 7, 12}));
  EXPECT_EQ(at(bins.positions, {0, 0, 0}), 1.0f);   // C:maj has C
  EXPECT_EQ(at(bins.positions, {0, 0, 1}), 0.0f);
  options.context = ContextType::kMcp;
  EXPECT_EQ(WindowDataset(songs, encoder, options).batch(first).positions.shape(), (Shape{1, 7, 3}));
  options.context = ContextType::kKey;  // song 3 is in A minor: A:min -> C:min (an extension token)
  const std::vector<int64_t> song3 = {3};
  const WindowDataset key(songs, encoder, options);
  const auto token = static_cast<int>(key.batch(song3).positions.to_vector<float>()[0]);
  EXPECT_EQ(transpose_chord(encoder->key_token_chord(token), 9), tiny_database().chord(2));
  EXPECT_THROW(dataset.batch(std::vector<int64_t>{}), Error);
}

TEST(WindowDataset, SeededShuffleAndBatchIterator) {
  const std::vector<int64_t> a = shuffled_indices(1000, 7, 0);
  EXPECT_EQ(a, shuffled_indices(1000, 7, 0));  // deterministic
  EXPECT_NE(a, shuffled_indices(1000, 7, 1));  // another epoch, another order
  EXPECT_NE(a, shuffled_indices(1000, 8, 0));  // another seed, another order
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) EXPECT_EQ(sorted[static_cast<size_t>(i)], i);  // a permutation

  const auto songs = tiny_songs();
  const auto encoder = std::make_shared<const ContextEncoder>(tiny_database());
  DatasetOptions options;
  options.sequence_length = 7;
  options.overlap = 2;
  const WindowDataset dataset(songs, encoder, options);  // 4 windows
  BatchIterator iterator(dataset, 3, /*shuffle=*/true, /*seed=*/5);
  EXPECT_EQ(iterator.batches_per_epoch(), 2);
  Batch batch;
  std::multiset<int64_t> seen;
  int batches = 0;
  while (iterator.next(batch)) {
    ++batches;
    for (const WindowRef& ref : batch.windows) seen.insert(ref.song_id * 1000 + ref.start_tick);
  }
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(batch.input.size(0), 1);  // the last, partial batch
  EXPECT_EQ(seen, (std::multiset<int64_t>{1000, 1006, 1012, 3000}));
  const std::vector<int64_t> epoch0 = iterator.order();
  iterator.start_epoch(0);
  EXPECT_EQ(iterator.order(), epoch0);
  BatchIterator dropping(dataset, 3, true, 5, /*drop_last=*/true);
  EXPECT_EQ(dropping.batches_per_epoch(), 1);
  int kept = 0;
  while (dropping.next(batch)) ++kept;
  EXPECT_EQ(kept, 1);
  BatchIterator in_order(dataset, 4, false, 0);
  ASSERT_TRUE(in_order.next(batch));
  EXPECT_EQ(batch.windows[0].start_tick, 0);
  EXPECT_EQ(batch.windows[3].song_id, 3);
}

// ---- song cache ---------------------------------------------------------------------------------

TEST(SongCache, WriteAndReadBackHandMadeSongs) {
  TemporaryFolder directory("cache-roundtrip");
  std::vector<Pop909Song> songs = *tiny_songs();
  songs[2].key_changes = {parse_key_name("A:min", "<test>", 1), parse_key_name("C#:maj", "<test>", 2)};
  const std::string path = directory.file("songs.h5");
  write_song_cache(path, "0123456789abcdef", "test", songs);
  EXPECT_EQ(read_song_cache_key(path), "0123456789abcdef");
  const std::vector<Pop909Song> back = read_song_cache(path);
  ASSERT_EQ(back.size(), songs.size());
  for (size_t i = 0; i < songs.size(); ++i) {
    std::string difference;
    EXPECT_TRUE(songs_equal(songs[i], back[i], &difference)) << "song " << i << ": " << difference;
  }
  Pop909Song changed = songs[0];
  changed.notes[1].end += 1;
  std::string difference;
  EXPECT_FALSE(songs_equal(songs[0], changed, &difference));
  EXPECT_EQ(difference, "note 1");
  EXPECT_EQ(read_song_cache_key(directory.file("missing.h5")), "");
}

TEST(SongCachePop909, RebuildsWhenAnOptionOrTheDataChangesAndEqualsAFreshLoad) {
  STRIPES_SKIP_WITHOUT_DATA(real_root);
  TemporaryFolder directory("cache-mini");
  const std::string root =
      testing::make_mini_data_root(directory.path(), real_root, {1, 10, 180}, {"train", "test", "val"});
  SongCacheOptions cache;
  cache.directory = directory.file("cache");
  cache.progress = false;
  auto catalog = std::make_unique<Pop909Catalog>(load_pop909_catalog(root));

  const CachedSongs first = load_songs_cached(*catalog, {}, cache);
  EXPECT_TRUE(first.rebuilt);
  EXPECT_EQ(first.rebuild_reason, "no cache file");
  ASSERT_EQ(first.songs->size(), 3u);
  EXPECT_EQ(first.path, directory.file("cache/" + std::string(kSongCacheFileName)));

  const CachedSongs second = load_songs_cached(*catalog, {}, cache);
  EXPECT_FALSE(second.rebuilt) << second.rebuild_reason;
  EXPECT_EQ(second.key, first.key);

  // What the cache gives equals a fresh load, and so do the windows made from it.
  for (size_t i = 0; i < 3; ++i) {
    const Pop909Song fresh = load_pop909_song(*catalog, (*second.songs)[i].song_id);
    std::string difference;
    EXPECT_TRUE(songs_equal(fresh, (*second.songs)[i], &difference)) << fresh.song_id << ": " << difference;
    const std::vector<Pop909Window> a = make_windows(fresh, 1024, 128);
    const std::vector<Pop909Window> b = make_windows((*second.songs)[i], 1024, 128);
    ASSERT_EQ(a.size(), b.size());
    for (size_t w = 0; w < a.size(); ++w) {
      EXPECT_EQ(a[w].pianoroll, b[w].pianoroll);
      EXPECT_EQ(a[w].onset, b[w].onset);
      EXPECT_EQ(a[w].chord_ids, b[w].chord_ids);
      EXPECT_EQ(a[w].measure_order, b[w].measure_order);
    }
  }

  // Another option: another key, rebuilt, holding the new option's songs; then reused.
  Pop909Options other;
  other.bar_grid_from_first_note = false;
  const CachedSongs third = load_songs_cached(*catalog, other, cache);
  EXPECT_TRUE(third.rebuilt);
  EXPECT_NE(third.key, first.key);
  EXPECT_NE(third.rebuild_reason.find("other options"), std::string::npos) << third.rebuild_reason;
  EXPECT_TRUE(songs_equal((*third.songs)[1], load_pop909_song(*catalog, 10, other)));
  EXPECT_FALSE(songs_equal((*third.songs)[1], (*first.songs)[1]));  // song 010 starts at 24: its grid moved
  EXPECT_FALSE(load_songs_cached(*catalog, other, cache).rebuilt);

  // The key covers every option.
  Pop909Options cut;
  cut.midi_overlap = midi::OverlapPolicy::kCutAtRetrigger;
  Pop909Options vanished;
  vanished.onsets_of_vanished_notes = false;
  const std::set<std::string> keys = {song_cache_key(*catalog, {}), song_cache_key(*catalog, other),
                                      song_cache_key(*catalog, cut), song_cache_key(*catalog, vanished)};
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(song_cache_key(*catalog, {}), first.key);

  // A changed data file changes the key: the cache is rebuilt with the new content.
  const std::string tempo = root + "/structure/POP909/001/tempo.txt";
  std::ofstream(tempo, std::ios::trunc) << "140\n";
  const CachedSongs changed = load_songs_cached(*catalog, {}, cache);
  EXPECT_TRUE(changed.rebuilt);
  EXPECT_EQ((*changed.songs)[0].tempo_bpm, 140);
  // So does a changed release file (split.csv), once the catalogue is re-read.
  std::ofstream(root + "/stripe-alignment/split.csv", std::ios::trunc) << "song_id,split\n1,train\n10,train\n180,val\n";
  catalog = std::make_unique<Pop909Catalog>(load_pop909_catalog(root));
  const CachedSongs resplit = load_songs_cached(*catalog, {}, cache);
  EXPECT_TRUE(resplit.rebuilt);
  EXPECT_EQ((*resplit.songs)[1].split, Split::kTrain);

  // A damaged cache file is rebuilt.
  std::filesystem::resize_file(resplit.path, 1000);
  const CachedSongs repaired = load_songs_cached(*catalog, {}, cache);
  EXPECT_TRUE(repaired.rebuilt);
  EXPECT_FALSE(load_songs_cached(*catalog, {}, cache).rebuilt);

  // Never inside the data root; and the cache can be switched off.
  SongCacheOptions inside;
  inside.directory = root + "/stripe-alignment/cache";
  EXPECT_THROW(load_songs_cached(*catalog, {}, inside), Error);
  SongCacheOptions off;
  off.enabled = false;
  off.progress = false;
  const CachedSongs uncached = load_songs_cached(*catalog, {}, off);
  EXPECT_TRUE(uncached.path.empty());
  EXPECT_EQ(uncached.songs->size(), 3u);
}

TEST(SongCachePop909, TheFullCacheEqualsTheFreshLoad) {
  STRIPES_SKIP_WITHOUT_DATA(root);
  const Pop909Catalog& catalog = testing::catalog_of(root);
  TemporaryFolder directory("cache-full");
  SongCacheOptions cache;
  cache.directory = directory.path();
  cache.progress = false;
  const CachedSongs built = load_songs_cached(catalog, {}, cache);
  ASSERT_TRUE(built.rebuilt);
  EXPECT_EQ(built.songs->size(), 866u);
  const std::vector<Pop909Song> cached = read_song_cache(built.path);
  ASSERT_EQ(cached.size(), built.songs->size());
  for (size_t i = 0; i < cached.size(); ++i) {
    std::string difference;
    ASSERT_TRUE(songs_equal((*built.songs)[i], cached[i], &difference)) << cached[i].song_id << ": " << difference;
  }
}

TEST(SongCache, DefaultDirectoryIsNextToTheProgramOrStripesCache) {
  const char* previous = std::getenv("STRIPES_CACHE");
  const std::string saved = previous ? previous : "";
  ::unsetenv("STRIPES_CACHE");
  const std::string beside = song_cache_directory();
  EXPECT_EQ(std::filesystem::path(beside).filename(), "cache");
  ::setenv("STRIPES_CACHE", "/tmp/some-cache", 1);
  EXPECT_EQ(song_cache_directory(), "/tmp/some-cache");
  EXPECT_EQ(song_cache_directory("/tmp/explicit"), "/tmp/explicit");
  if (previous) ::setenv("STRIPES_CACHE", saved.c_str(), 1);
  else ::unsetenv("STRIPES_CACHE");
}

// ---- `stripes data windows`: golden layout ----------------------------------------------------

TEST(WindowFilePop909, Song001WindowsFileEqualsTheGoldenFile) {
  STRIPES_SKIP_WITHOUT_DATA(root);
  const std::string golden_path = root + "/stripe-alignment/golden_windows.h5";
  if (!std::filesystem::exists(golden_path)) GTEST_SKIP() << "no " << golden_path;
  const Pop909Song song = load_pop909_song(testing::catalog_of(root), 1);
  TemporaryFolder directory("windows");
  const std::string path = directory.file("w.h5");
  EXPECT_EQ(write_windows_file(path, {&song}, 512, 64, "test"), 10);

  // The file we wrote, dataset by dataset, against the golden file: names, types, shapes, values.
  const io::Hdf5File golden(golden_path, io::OpenMode::kRead);
  const io::Hdf5File ours(path, io::OpenMode::kRead);
  EXPECT_EQ(ours.list_children("/001"), golden.list_children("/001"));
  for (const std::string& window : golden.list_children("/001")) {
    EXPECT_EQ(ours.list_children("/001/" + window), golden.list_children("/001/" + window));
    for (const std::string& name : golden.list_children("/001/" + window)) {
      const std::string dataset = "/001/" + window + "/" + name;
      const io::DatasetInfo a = golden.dataset_info(dataset);
      const io::DatasetInfo b = ours.dataset_info(dataset);
      EXPECT_EQ(a.shape, b.shape) << dataset;
      EXPECT_EQ(a.element_type, b.element_type) << dataset;
      EXPECT_EQ(golden.read_dataset<int64_t>(dataset), ours.read_dataset<int64_t>(dataset)) << dataset;
    }
  }
  EXPECT_TRUE(compare_with_window_file(golden, song, 512, 64).equal());

  // The comparison notices a difference.
  Pop909Song changed = song;
  changed.chord_ids[100] += 1;
  const WindowFileComparison comparison = compare_with_window_file(golden, changed, 512, 64);
  EXPECT_FALSE(comparison.equal());
  EXPECT_EQ(comparison.differing_values, 1);
  ASSERT_FALSE(comparison.differences.empty());
  EXPECT_NE(comparison.differences[0].find("/001/0/chord_ids"), std::string::npos) << comparison.differences[0];
}

// ---- `stripes data check` -----------------------------------------------------------------------

TEST(DataCheckPop909, TheFullDatasetIsConsistent) {
  STRIPES_SKIP_WITHOUT_DATA(root);
  DataCheckOptions options;
  options.check_cache = false;
  const DataCheckReport report = run_data_check(root, options);
  std::cout << report.text;
  for (const DataCheckItem& item : report.items) {
    EXPECT_TRUE(item.passed) << item.name << ": " << item.detail;
  }
  EXPECT_TRUE(report.passed());
  EXPECT_EQ(report.items.size(), 7u);  // catalogue .. golden windows (no cache check)
  EXPECT_NE(report.text.find("866 used (train 692, val 86, test 88)"), std::string::npos);
  EXPECT_NE(report.text.find("T = 1024  overlap 128      3612     462     448    4522"), std::string::npos) << report.text;
#ifdef NDEBUG
  EXPECT_LT(report.seconds, 60.0);
#endif
}

TEST(DataCheckPop909, AnInconsistencyFailsTheCheck) {
  STRIPES_SKIP_WITHOUT_DATA(real_root);
  TemporaryFolder directory("check-mini");
  const std::string root = testing::make_mini_data_root(directory.path(), real_root, {1, 2, 3}, {"train", "val", "test"});
  DataCheckOptions options;
  options.check_cache = false;
  options.expected_split_sizes = {1, 1, 1};
  const DataCheckReport good = run_data_check(root, options);
  EXPECT_TRUE(good.passed()) << good.text;

  // Split sizes other than expected (the default expects the paper's 692 / 86 / 88).
  options.expected_split_sizes = {692, 86, 88};
  const DataCheckReport report = run_data_check(root, options);
  EXPECT_FALSE(report.passed());
  EXPECT_EQ(report.failures(), 1);
  const auto split = std::find_if(report.items.begin(), report.items.end(),
                                  [](const DataCheckItem& item) { return item.name == "split sizes"; });
  ASSERT_NE(split, report.items.end());
  EXPECT_FALSE(split->passed);

  // A song of split.csv that cannot be read.
  options.expected_split_sizes = {1, 1, 0};
  std::ofstream(root + "/structure/POP909/003/melody.txt", std::ios::trunc) << "sixty 4\n";
  const DataCheckReport unreadable = run_data_check(root, options);
  const auto usable = std::find_if(unreadable.items.begin(), unreadable.items.end(),
                                   [](const DataCheckItem& item) { return item.name == "usable songs"; });
  ASSERT_NE(usable, unreadable.items.end());
  EXPECT_FALSE(usable->passed);
  EXPECT_NE(usable->detail.find("003"), std::string::npos) << usable->detail;

  // No data root at all: the catalogue check fails and nothing else runs.
  const DataCheckReport missing = run_data_check("/no/such/data/root", options);
  EXPECT_FALSE(missing.passed());
  ASSERT_EQ(missing.items.size(), 1u);
  EXPECT_EQ(missing.items.front().name, "catalogue");
}

}  // namespace
}  // namespace stripes::data
