// Tests of the POP909 / structure / stripe-alignment parsers on small inline strings (no data
// folder needed): the formats as found in the real files, their irregular lines, and the error
// messages for malformed lines (they must name the file, the line and the field).
#include "data/pop909/pop909_files.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tensor/error.hpp"

namespace {

using namespace stripes::data;
using stripes::Error;

template <typename Statement>
void expect_error_mentions(Statement statement, const std::vector<std::string>& parts) {
  try {
    statement();
    FAIL() << "expected stripes::Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

// ---- startpos.csv -------------------------------------------------------------------------------

TEST(Pop909Files, StartposCsvWithCrlfMissingBeatsAndNoFinalNewline) {
  // The real file: CRLF line ends, song 56 without Beats, no newline after the last row.
  const std::string text = "ID,Position,Beats\r\n1,8,0.5\r\n56,69,\r\n77,-16,-1\r\n909,8,0.5";
  const std::vector<StartPosition> rows = parse_startpos_csv(text, "startpos.csv");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].song_id, 1);
  EXPECT_EQ(rows[0].position_ticks, 8);
  EXPECT_DOUBLE_EQ(rows[0].beats, 0.5);
  EXPECT_EQ(rows[1].position_ticks, 69);
  EXPECT_DOUBLE_EQ(rows[1].beats, 69 / 16.0);
  EXPECT_EQ(rows[2].position_ticks, -16);
  EXPECT_EQ(rows[3].song_id, 909);
}

TEST(Pop909Files, StartposCsvErrorsNameFileLineAndField) {
  expect_error_mentions([] { parse_startpos_csv("ID,Position,Beats\n1,8,0.5\n2,eight,0.5\n", "startpos.csv"); },
                        {"startpos.csv", "line 3", "field 2 (Position)", "'eight'"});
  expect_error_mentions([] { parse_startpos_csv("ID,Position,Beats\n1,8\n", "startpos.csv"); },
                        {"startpos.csv", "line 2", "expected 3 fields"});
  expect_error_mentions([] { parse_startpos_csv("ID,Pos,Beats\n1,8,0.5\n", "startpos.csv"); },
                        {"startpos.csv", "line 1", "header"});
  expect_error_mentions([] { parse_startpos_csv("ID,Position,Beats\n1,8,2\n", "startpos.csv"); },
                        {"startpos.csv", "line 2", "field 3 (Beats)", "disagrees"});
  expect_error_mentions([] { parse_startpos_csv("ID,Position,Beats\n0,8,0.5\n", "startpos.csv"); },
                        {"startpos.csv", "line 2", "field 1 (ID)"});
  expect_error_mentions([] { parse_startpos_csv("", "startpos.csv"); }, {"startpos.csv", "empty file"});
}

// ---- split.csv ----------------------------------------------------------------------------------

TEST(Pop909Files, SplitCsv) {
  const std::vector<SongSplit> rows = parse_split_csv("song_id,split\n25,train\n486,val\n63,test\n", "split.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].song_id, 25);
  EXPECT_EQ(rows[0].split, Split::kTrain);
  EXPECT_EQ(rows[1].split, Split::kValidation);
  EXPECT_EQ(rows[2].split, Split::kTest);
  EXPECT_STREQ(split_name(Split::kValidation), "val");
  expect_error_mentions([] { parse_split_csv("song_id,split\n25,train\n26,valid\n", "split.csv"); },
                        {"split.csv", "line 3", "field 2 (split)", "'valid'"});
}

// ---- chord_db.csv -------------------------------------------------------------------------------

const char* kChordDbHeader = "chord_id,root_plus_1,pc0,pc1,pc2,pc3,pc4,pc5,pc6,pc7,pc8,pc9,pc10,pc11\n";

TEST(Pop909Files, ChordDbCsvAndLookups) {
  const std::string text = std::string(kChordDbHeader) +
                           "0,12,0,0,0,1,0,0,1,0,0,0,0,1\n"   // B:maj (root 11)
                           "1,0,0,0,0,0,0,0,0,0,0,0,0,0\n"    // no chord
                           "2,1,1,0,0,0,1,0,0,1,0,0,0,0\n";   // C:maj
  const ChordDatabase chords = parse_chord_db_csv(text, "chord_db.csv");
  EXPECT_EQ(chords.size(), 3);
  EXPECT_EQ(chords.no_chord_id(), 1);
  ChordVector c_major;
  c_major.root_plus_one = 1;
  c_major.pitch_classes[0] = c_major.pitch_classes[4] = c_major.pitch_classes[7] = 1;
  EXPECT_EQ(chords.find(c_major), 2);
  c_major.root_plus_one = 5;  // same pitch classes, root E: a different chord
  EXPECT_EQ(chords.find(c_major), -1);
  EXPECT_EQ(chords.chord(0).root_plus_one, 12);
  EXPECT_THROW(chords.chord(3), Error);
}

TEST(Pop909Files, ChordDbCsvErrors) {
  expect_error_mentions(
      [] { parse_chord_db_csv(std::string(kChordDbHeader) + "0,12,0,0,0,1,0,0,1,0,0,0,0,2\n", "chord_db.csv"); },
      {"chord_db.csv", "line 2", "field 14 (pc11)", "0 or 1"});
  expect_error_mentions(
      [] { parse_chord_db_csv(std::string(kChordDbHeader) + "1,12,0,0,0,1,0,0,1,0,0,0,0,1\n", "chord_db.csv"); },
      {"chord_db.csv", "line 2", "field 1 (chord_id)", "expected 0"});
  expect_error_mentions(
      [] { parse_chord_db_csv(std::string(kChordDbHeader) + "0,13,0,0,0,1,0,0,1,0,0,0,0,1\n", "chord_db.csv"); },
      {"chord_db.csv", "line 2", "field 2 (root_plus_1)"});
  expect_error_mentions([] { parse_chord_db_csv(std::string(kChordDbHeader) + "0,1,0\n", "chord_db.csv"); },
                        {"chord_db.csv", "line 2", "expected 14 fields"});
  const ChordDatabase without_no_chord =
      parse_chord_db_csv(std::string(kChordDbHeader) + "0,1,1,0,0,0,1,0,0,1,0,0,0,0\n", "chord_db.csv");
  EXPECT_THROW(without_no_chord.no_chord_id(), Error);
}

// ---- index.csv ----------------------------------------------------------------------------------

TEST(Pop909Files, IndexCsvWithUtf8AndQuotedNames) {
  const std::string text =
      "song_id,name,artist,modify_times,num_beats_per_measure,num_quavers_per_beat\n"
      "001,123\xE6\x88\x91\xE7\x88\xB1\xE4\xBD\xA0,\xE6\x96\xB0\xE4\xB9\x90\xE5\xB0\x98\xE7\xAC\xA6,3,2,2\n"
      "004,\"Dear Friend, again\",\xE9\xA1\xBA\xE5\xAD\x90,2,3,2\n"
      "005,Six Eight,Someone,1,2,3\n";
  const std::vector<SongIndexEntry> rows = parse_index_csv(text, "index.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].song_id, 1);
  EXPECT_EQ(rows[0].name, "123\xE6\x88\x91\xE7\x88\xB1\xE4\xBD\xA0");  // 123我爱你
  EXPECT_TRUE(rows[0].is_four_four());
  EXPECT_EQ(rows[1].name, "Dear Friend, again");
  EXPECT_FALSE(rows[1].is_four_four());  // triple
  EXPECT_FALSE(rows[2].is_four_four());  // compound duple (6/8)
  expect_error_mentions(
      [] {
        parse_index_csv("song_id,name,artist,modify_times,num_beats_per_measure,num_quavers_per_beat\n"
                        "001,a,b,3,two,2\n",
                        "index.csv");
      },
      {"index.csv", "line 2", "field 5 (num_beats_per_measure)", "'two'"});
}

// ---- melody.txt ---------------------------------------------------------------------------------

TEST(Pop909Files, MelodyTxt) {
  const std::vector<MelodyNote> notes = parse_melody_txt("0 60\n61 1\n63 1 \n\n", "melody.txt");
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0].pitch, 0);  // a rest of 60 sixteenths
  EXPECT_EQ(notes[0].duration_sixteenths, 60);
  EXPECT_EQ(notes[2].pitch, 63);
  expect_error_mentions([] { parse_melody_txt("0 60\n61 1\n63\n", "001/melody.txt"); },
                        {"001/melody.txt", "line 3", "expected 2 fields"});
  expect_error_mentions([] { parse_melody_txt("0 60\n61 x\n", "melody.txt"); },
                        {"melody.txt", "line 2", "field 2 (duration)", "'x'"});
  expect_error_mentions([] { parse_melody_txt("0 60\n61 0\n", "melody.txt"); },
                        {"melody.txt", "line 2", "field 2 (duration)", "positive"});
  expect_error_mentions([] { parse_melody_txt("200 4\n", "melody.txt"); },
                        {"melody.txt", "line 1", "field 1 (pitch)"});
}

// ---- finalized_chord.txt ------------------------------------------------------------------------

TEST(Pop909Files, FinalizedChordTxtIncludingIrregularLines) {
  // Lines as found in the data: trailing spaces, "N" lines of three shapes (songs 240, 278, 310,
  // 621) and a line with an extra number (song 803).
  const std::string text =
      "B:maj [3, 6, 11] 11 2 \n"
      "B:maj7 [3, 6, 9, 11] 11 1\n"
      "G:min [2, 7, 10] 7 2  \n"
      "N []  7 \n"
      "N [10] 18 2\n"
      "Ab:maj [0, 3, 8] 8 4 2\n";
  const std::vector<AnnotatedChord> chords = parse_finalized_chord_txt(text, "finalized_chord.txt");
  ASSERT_EQ(chords.size(), 6u);
  EXPECT_EQ(chords[0].name, "B:maj");
  EXPECT_EQ(chords[0].pitch_classes, (std::vector<int>{3, 6, 11}));
  EXPECT_EQ(chords[0].root, 11);
  EXPECT_EQ(chords[0].duration_beats, 2);
  EXPECT_EQ(chords[0].line, 1);
  const ChordVector b_major = chords[0].vector();
  EXPECT_EQ(b_major.root_plus_one, 12);
  EXPECT_EQ(b_major.pitch_classes[3] + b_major.pitch_classes[6] + b_major.pitch_classes[11], 3);
  EXPECT_EQ(chords[1].pitch_classes.size(), 4u);
  EXPECT_TRUE(chords[3].is_no_chord());
  EXPECT_EQ(chords[3].duration_beats, 7);
  EXPECT_EQ(chords[3].vector(), ChordVector{});
  EXPECT_TRUE(chords[4].is_no_chord());
  EXPECT_EQ(chords[4].duration_beats, 2);  // the last field, as in the StrIPE code
  EXPECT_EQ(chords[5].root, 8);
  EXPECT_EQ(chords[5].duration_beats, 4);  // "8 4 2": root 8, 4 beats, the 2 ignored
}

TEST(Pop909Files, FinalizedChordTxtErrors) {
  expect_error_mentions([] { parse_finalized_chord_txt("B:maj [3, 6, 11] 11 2\nC:maj 0 2\n", "fc.txt"); },
                        {"fc.txt", "line 2", "name [pitch classes] root duration"});
  expect_error_mentions([] { parse_finalized_chord_txt("C:maj [0, 4, x] 0 2\n", "fc.txt"); },
                        {"fc.txt", "line 1", "field 2 (pitch classes)", "'x'"});
  expect_error_mentions([] { parse_finalized_chord_txt("C:maj [0, 4, 12] 0 2\n", "fc.txt"); },
                        {"fc.txt", "line 1", "field 2 (pitch classes)", "0..11"});
  expect_error_mentions([] { parse_finalized_chord_txt("C:maj [0, 4, 7] 0\n", "fc.txt"); },
                        {"fc.txt", "line 1", "root duration"});
  expect_error_mentions([] { parse_finalized_chord_txt("C:maj [0, 4, 7] 0 two\n", "fc.txt"); },
                        {"fc.txt", "line 1", "field 4 (duration)", "'two'"});
  expect_error_mentions([] { parse_finalized_chord_txt("C:maj [0, 4, 7] 0 0\n", "fc.txt"); },
                        {"fc.txt", "line 1", "positive"});
  expect_error_mentions([] { parse_finalized_chord_txt("N [] x\n", "fc.txt"); }, {"fc.txt", "line 1", "duration"});
}

// ---- human_label{1,2}.txt -----------------------------------------------------------------------

TEST(Pop909Files, HumanLabelTxt) {
  const std::vector<Phrase> phrases = parse_human_label_txt("i4A4B8x12o3\n", "human_label1.txt");
  ASSERT_EQ(phrases.size(), 5u);
  EXPECT_EQ(phrases[0].label, 'i');
  EXPECT_EQ(phrases[0].bars, 4);
  EXPECT_EQ(phrases[3].label, 'x');
  EXPECT_EQ(phrases[3].bars, 12);
  EXPECT_EQ(phrases[4].label, 'o');
  expect_error_mentions([] { parse_human_label_txt("i4A4-B8\n", "human_label1.txt"); },
                        {"human_label1.txt", "line 1", "column 5", "'-'"});
  expect_error_mentions([] { parse_human_label_txt("i4AB8\n", "human_label1.txt"); },
                        {"human_label1.txt", "line 1", "phrase 'A' has no length"});
  expect_error_mentions([] { parse_human_label_txt("i4A0\n", "human_label1.txt"); },
                        {"human_label1.txt", "line 1", "positive"});
  expect_error_mentions([] { parse_human_label_txt("\n\n", "human_label1.txt"); }, {"human_label1.txt", "empty"});
}

TEST(Pop909Files, PhraseLabelEncodingIsTheStripeOne) {
  EXPECT_EQ(phrase_label_id('a'), 0);
  EXPECT_EQ(phrase_label_id('i'), 8);
  EXPECT_EQ(phrase_label_id('x'), 23);
  EXPECT_EQ(phrase_label_id('x'), kPhrasePadLabelId);
  EXPECT_EQ(phrase_label_id('z'), 25);
  EXPECT_EQ(phrase_label_id('A'), 26);
  EXPECT_EQ(phrase_label_id('X'), 49);
  EXPECT_EQ(phrase_label_id('Z'), kPhraseLabelCount - 1);
  EXPECT_THROW(phrase_label_id('1'), Error);
}

// ---- analyzed_key.txt, tempo.txt ----------------------------------------------------------------

TEST(Pop909Files, AnalyzedKeyTxtWithKeyChanges) {
  const std::vector<Key> keys = parse_analyzed_key_txt("Gb:maj\r\nG#:min\nC:min\n\n", "analyzed_key.txt");
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(keys[0].name, "Gb:maj");
  EXPECT_EQ(keys[0].tonic, 6);
  EXPECT_FALSE(keys[0].is_minor);
  EXPECT_EQ(keys[1].tonic, 8);
  EXPECT_TRUE(keys[1].is_minor);
  EXPECT_EQ(keys[2].tonic, 0);
  EXPECT_EQ(parse_key_name("Cb:maj", "k", 1).tonic, 11);
  expect_error_mentions([] { parse_analyzed_key_txt("Gb:maj\nH:min\n", "analyzed_key.txt"); },
                        {"analyzed_key.txt", "line 2", "'H:min'"});
  expect_error_mentions([] { parse_analyzed_key_txt("C:dorian\n", "analyzed_key.txt"); },
                        {"analyzed_key.txt", "line 1", "'C:dorian'"});
}

TEST(Pop909Files, TempoTxtAndBuckets) {
  EXPECT_EQ(parse_tempo_txt("90\n", "tempo.txt"), 90);
  EXPECT_EQ(parse_tempo_txt("\n72\n100\n", "tempo.txt"), 72);  // the first tempo
  expect_error_mentions([] { parse_tempo_txt("ninety\n", "tempo.txt"); }, {"tempo.txt", "line 1", "'ninety'"});
  expect_error_mentions([] { parse_tempo_txt("", "tempo.txt"); }, {"tempo.txt", "empty"});
  // 30-BPM buckets over [30, 150), values outside clipped.
  EXPECT_EQ(tempo_bucket(10), 0);
  EXPECT_EQ(tempo_bucket(30), 0);
  EXPECT_EQ(tempo_bucket(59), 0);
  EXPECT_EQ(tempo_bucket(60), 1);
  EXPECT_EQ(tempo_bucket(90), 2);
  EXPECT_EQ(tempo_bucket(149), 3);
  EXPECT_EQ(tempo_bucket(200), 3);
}

TEST(Pop909Files, ReadingAMissingFileNamesIt) {
  expect_error_mentions([] { read_melody_txt("/no/such/dir/melody.txt"); },
                        {"/no/such/dir/melody.txt", "cannot open"});
}

}  // namespace
