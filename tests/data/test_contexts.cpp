// Tests of the context types (data/contexts.hpp) and of the content-context mutual information
// (data/mutual_information.hpp) on hand-made examples, plus the MI recipe on the full POP909
// (skipped without the data).
#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>

#include "data/contexts.hpp"
#include "data/mutual_information.hpp"
#include "data/song_cache.hpp"
#include "tests/data/data_test_support.hpp"

namespace stripes::data {
namespace {

using testing::make_song;

ChordVector chord(int root, std::initializer_list<int> pitch_classes) {
  ChordVector vector;
  vector.root_plus_one = root + 1;
  for (int pc : pitch_classes) vector.pitch_classes[static_cast<size_t>(pc)] = 1;
  return vector;
}

// A small vocabulary: ids 0 no chord, 1 C:maj, 2 D:min, 3 E:min, 4 G:maj, 5 E:maj, 6 A:min.
ChordDatabase small_database() {
  return ChordDatabase({ChordVector{}, chord(0, {0, 4, 7}), chord(2, {2, 5, 9}), chord(4, {4, 7, 11}),
                        chord(7, {7, 11, 2}), chord(4, {4, 8, 11}), chord(9, {9, 0, 4})});
}

Key key(const std::string& name) { return parse_key_name(name, "<test>", 1); }

// ---- names ----------------------------------------------------------------------------------------

TEST(Contexts, NamesAndWidths) {
  EXPECT_EQ(parse_context_type("key"), ContextType::kKey);
  EXPECT_EQ(parse_context_type(" BIN "), ContextType::kBin);
  EXPECT_THROW(parse_context_type("CHORD"), Error);
  EXPECT_EQ(parse_context_list("all"), (std::vector<ContextType>{ContextType::kTime, ContextType::kRep,
                                                                 ContextType::kKey, ContextType::kBin}));
  EXPECT_EQ(parse_context_list("REP,time,REP"), (std::vector<ContextType>{ContextType::kRep, ContextType::kTime}));
  EXPECT_EQ(parse_context_list("all,MCP").size(), 5u);
  EXPECT_EQ(context_width(ContextType::kTime), 1);
  EXPECT_EQ(context_width(ContextType::kBin), 12);
  EXPECT_EQ(context_width(ContextType::kMcp), 3);
}

// ---- REP ----------------------------------------------------------------------------------------

TEST(Contexts, RepRenumbersByRankOfTheGlobalIdWithinTheSpan) {
  // Global ids 17, 17, 5, 300, 5, 8 -> distinct sorted 5, 8, 17, 300 -> ranks.
  const std::vector<int32_t> ids = {17, 17, 5, 300, 5, 8};
  EXPECT_EQ(rep_tokens(ids), (std::vector<int32_t>{2, 2, 0, 3, 0, 1}));
  // Not the order of first appearance (which would give 0 0 1 2 1 3).
  EXPECT_EQ(rep_tokens(std::vector<int32_t>{9, 9, 9}), (std::vector<int32_t>{0, 0, 0}));
  EXPECT_TRUE(rep_tokens(std::vector<int32_t>{}).empty());
}

// ---- KEY ----------------------------------------------------------------------------------------

TEST(Contexts, TransposeChord) {
  EXPECT_EQ(transpose_chord(chord(4, {4, 7, 11}), -2), chord(2, {2, 5, 9}));   // E:min down 2 = D:min
  EXPECT_EQ(transpose_chord(chord(11, {11, 2, 6}), 1), chord(0, {0, 3, 7}));   // B:min up 1 = C:min
  EXPECT_EQ(transpose_chord(chord(4, {4, 7, 11}), 12), chord(4, {4, 7, 11}));
  EXPECT_EQ(transpose_chord(chord(4, {4, 7, 11}), -14), chord(2, {2, 5, 9}));
  EXPECT_EQ(transpose_chord(ChordVector{}, 5), ChordVector{});  // no chord stays no chord
}

TEST(Contexts, KeyTransposesToCMajorOrCMinorThenTokenizes) {
  const ContextEncoder encoder(small_database());
  // E:min in D major -> D:min in C major (the paper's example).
  EXPECT_EQ(encoder.key_token(3, key("D:maj")), 2);
  // In C major nothing moves.
  for (int id = 0; id < 7; ++id) EXPECT_EQ(encoder.key_token(id, key("C:maj")), id);
  // Minor keys go to C minor: E:maj (V of A minor) in A minor -> G:maj (V of C minor).
  EXPECT_EQ(encoder.key_token(5, key("A:min")), 4);
  // A:min in A minor -> C:min, which the small vocabulary lacks: an extension token past the
  // vocabulary, standing for C:min.
  const int token = encoder.key_token(6, key("A:min"));
  EXPECT_GE(token, 7);
  EXPECT_LT(token, encoder.key_vocabulary_size());
  EXPECT_EQ(encoder.key_token_chord(token), chord(0, {0, 3, 7}));
  // Enharmonic key names give the same token; mode is not part of the token.
  EXPECT_EQ(encoder.key_token(3, key("Gb:maj")), encoder.key_token(3, key("F#:min")));
  // No chord stays no chord (id 0 here) in every key.
  for (const char* name : {"C:maj", "D:maj", "Bb:min", "G#:min"}) EXPECT_EQ(encoder.key_token(0, key(name)), 0);
  EXPECT_THROW(encoder.key_token(7, key("C:maj")), Error);  // outside the vocabulary
}

TEST(Contexts, KeyVocabularyExtensionDependsOnlyOnTheChordDatabase) {
  const ContextEncoder a(small_database());
  const ContextEncoder b(small_database());
  ASSERT_EQ(a.key_vocabulary_size(), b.key_vocabulary_size());
  for (int token = 0; token < a.key_vocabulary_size(); ++token) {
    EXPECT_EQ(a.key_token_chord(token), b.key_token_chord(token));
  }
  // Every transposition of every chord has a token, and it transposes back.
  for (int id = 0; id < 7; ++id) {
    for (int tonic = 0; tonic < 12; ++tonic) {
      Key k;
      k.tonic = tonic;
      EXPECT_EQ(transpose_chord(a.key_token_chord(a.key_token(id, k)), tonic), small_database().chord(id));
    }
  }
}

// ---- BIN, TIME, MCP -----------------------------------------------------------------------------

TEST(Contexts, BinIsTheChromaOfTheChord) {
  EXPECT_EQ(chroma_symbol(chord(0, {0, 4, 7})), 1 + 16 + 128);
  EXPECT_EQ(chroma_symbol(ChordVector{}), 0);
  const ContextEncoder encoder(small_database());
  ContextSpan span;
  const std::vector<int32_t> ids = {1, 1, 0, 4};
  span.chord_ids = ids;
  const Tensor bin = encoder.positions(ContextType::kBin, span);
  ASSERT_EQ(bin.shape(), (Shape{4, 12}));
  const std::vector<float> values = bin.to_vector<float>();
  const std::vector<float> c_major = {1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0};
  const std::vector<float> g_major = {0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_EQ(std::vector<float>(values.begin(), values.begin() + 12), c_major);
  EXPECT_EQ(std::vector<float>(values.begin() + 24, values.begin() + 36), std::vector<float>(12, 0.0f));
  EXPECT_EQ(std::vector<float>(values.begin() + 36, values.end()), g_major);
  EXPECT_EQ(encoder.symbols(ContextType::kBin, span), (std::vector<int32_t>{145, 145, 0, 4 + 128 + 2048}));
}

TEST(Contexts, TimeRepKeyAndMcpPositions) {
  const ContextEncoder encoder(small_database());
  const std::vector<int32_t> ids = {3, 3, 2, 0, 3};
  const std::vector<int32_t> melody = {64, 0, 62, 62, 71};
  const std::vector<int32_t> labels = {26, 26, 27, 27, 8};
  ContextSpan span{ids, melody, labels, key("D:maj")};
  EXPECT_EQ(encoder.positions(ContextType::kTime, span).to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_EQ(encoder.positions(ContextType::kRep, span).to_vector<float>(), (std::vector<float>{2, 2, 1, 0, 2}));
  // D major: E:min (3) -> D:min (2); D:min (2) -> C:min (not in the small vocabulary); no chord -> 0.
  const std::vector<float> key_positions = encoder.positions(ContextType::kKey, span).to_vector<float>();
  EXPECT_EQ(key_positions[0], 2.0f);
  EXPECT_EQ(encoder.key_token_chord(static_cast<int>(key_positions[2])), chord(0, {0, 3, 7}));
  EXPECT_EQ(key_positions[3], 0.0f);
  const Tensor mcp = encoder.positions(ContextType::kMcp, span);
  ASSERT_EQ(mcp.shape(), (Shape{5, 3}));
  EXPECT_EQ(mcp.to_vector<float>(), (std::vector<float>{64, 3, 26, 0, 3, 26, 62, 2, 27, 62, 0, 27, 71, 3, 8}));
  EXPECT_THROW(encoder.symbols(ContextType::kMcp, span), Error);
}

// ---- mutual information: hand-computed -----------------------------------------------------------

TEST(MutualInformation, PlugInEstimateOnHandComputedTables) {
  JointCounts perfect(2);
  perfect.add(0, 0, 2);
  perfect.add(1, 1, 2);
  EXPECT_NEAR(perfect.mutual_information(), std::log(2.0), 1e-12);

  JointCounts independent(2);
  for (int x = 0; x < 2; ++x) {
    for (int y = 0; y < 3; ++y) independent.add(x, y, 5);
  }
  EXPECT_NEAR(independent.mutual_information(), 0.0, 1e-12);

  // p = [[3, 1], [1, 3]] / 8, marginals 1/2: MI = 3/4 ln(3/2) - 1/4 ln 2 = 0.130812...
  JointCounts mixed(2);
  mixed.add(0, 0, 3);
  mixed.add(0, 1, 1);
  mixed.add(1, 0, 1);
  mixed.add(1, 1, 3);
  EXPECT_NEAR(mixed.mutual_information(), 0.75 * std::log(1.5) - 0.25 * std::log(2.0), 1e-12);
  EXPECT_EQ(mixed.total(), 8);
  EXPECT_NEAR(mixed.plug_in_bias(), 1.0 / 16.0, 1e-12);

  JointCounts merged(2);
  merged.merge(mixed);
  merged.merge(mixed);
  EXPECT_NEAR(merged.mutual_information(), mixed.mutual_information(), 1e-12);
  EXPECT_EQ(JointCounts(3).mutual_information(), 0.0);
  EXPECT_THROW(mixed.add(2, 0), Error);
}

TEST(MutualInformation, RecipeOnATinyHandMadeSong) {
  // Chord ids 1 1 1 1 4 4 4 4 (C:maj, then G:maj), pitch 60 on ticks 0-3, pitch 67 on ticks 4-7.
  // Windows of T + 1 = 4 ticks, overlap 0: [0, 4) and [4, 8).
  //   BIN, KEY (C major): pitch determines the chord and back: MI = ln 2.
  //   TIME: both pitches at ticks 0..3 of their window: independent, MI = 0.
  //   REP: one chord per window, rank 0 everywhere: MI = 0.
  // A second piano note on 60 overlapping the first, and the bridge doubling it, check that a cell
  // is (track, pitch, tick): the piano overlap is one cell, the bridge its own cell.
  const std::vector<SongNote> notes = {{2, 60, 0, 4}, {2, 60, 1, 3}, {1, 60, 0, 4}, {2, 67, 4, 8}, {1, 67, 4, 8}};
  const std::vector<Pop909Song> songs = {make_song(1, Split::kTrain, {1, 1, 1, 1, 4, 4, 4, 4}, notes),
                                         make_song(2, Split::kTest, {2, 2, 2, 2}, {{2, 50, 0, 4}})};
  const ContextEncoder encoder(small_database());
  MutualInformationOptions options;
  options.sequence_length = 3;
  options.overlap = 0;
  const MutualInformationReport report = content_context_mutual_information(songs, encoder, options);
  EXPECT_EQ(report.songs, 1);
  EXPECT_EQ(report.windows, 2);
  ASSERT_EQ(report.results.size(), 4u);
  for (const MutualInformationResult& result : report.results) {
    EXPECT_EQ(result.pairs, 16) << context_name(result.context);
    const bool dependent = result.context == ContextType::kBin || result.context == ContextType::kKey;
    const double expected = dependent ? std::log(2.0) : 0.0;
    EXPECT_NEAR(result.nats, expected, 1e-12) << context_name(result.context);
  }
  // Only the piano: 8 cells.
  options.tracks = kPianoTrackBit;
  EXPECT_EQ(content_context_mutual_information(songs, encoder, options).results[0].pairs, 8);
  options.contexts = {ContextType::kMcp};
  EXPECT_THROW(content_context_mutual_information(songs, encoder, options), Error);
  EXPECT_EQ(parse_track_set("input"), kMelodyTrackBit | kBridgeTrackBit);
  EXPECT_EQ(parse_track_set("melody,piano"), kMelodyTrackBit | kPianoTrackBit);
  EXPECT_EQ(track_set_name(kAllTracks), "melody+bridge+piano");
  EXPECT_THROW(parse_track_set("drums"), Error);
}

// ---- mutual information on POP909 ---------------------------------------------------------------

TEST(MutualInformationPop909, TrainWindowsOf1024TicksRankTheContextsAsThePaper) {
  STRIPES_SKIP_WITHOUT_DATA(root);
  const Pop909Catalog& catalog = testing::catalog_of(root);
  const Pop909LoadResult loaded = load_all_pop909_songs(catalog, {}, true, 1024);
  const ContextEncoder encoder(catalog.chords);
  const MutualInformationReport report = content_context_mutual_information(loaded.songs, encoder, {});
  EXPECT_EQ(report.songs, 692);
  EXPECT_EQ(report.windows, 3612);
  std::map<ContextType, double> nats;
  for (const MutualInformationResult& result : report.results) {
    nats[result.context] = result.nats;
    std::cout << context_name(result.context) << ": " << result.nats << " nats (paper "
              << paper_mutual_information(result.context) << "), |Y| = " << result.context_symbols
              << ", N = " << result.pairs << "\n";
  }
  // The values measured when the recipe was written down (docs/data.md).
  EXPECT_NEAR(nats[ContextType::kTime], 0.0048, 5e-5);
  EXPECT_NEAR(nats[ContextType::kRep], 0.0413, 5e-5);
  EXPECT_NEAR(nats[ContextType::kKey], 0.0400, 5e-5);
  EXPECT_NEAR(nats[ContextType::kBin], 0.9451, 5e-5);
  // The paper's ordering: TIME (local) << REP, KEY (blended) << BIN (global).
  EXPECT_LT(nats[ContextType::kTime] * 5, nats[ContextType::kRep]);
  EXPECT_LT(nats[ContextType::kKey] * 10, nats[ContextType::kBin]);
}

}  // namespace
}  // namespace stripes::data
