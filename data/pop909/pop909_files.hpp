// Parsers for the text files of POP909, of its structure annotations (Dai, Zhang & Dannenberg,
// "hierarchical-structure-analysis") and of the StrIPE authors' alignment release (structurePE).
// Plain structs, no tensors. Every function has a `parse_*(text, source_name)` form, used by the
// tests on inline strings, and a `read_*(path)` form that reads the file and passes its path as
// the source name. Every malformed line throws stripes::Error naming the source, the 1-based line
// and the field: "startpos.csv: line 7: field 2 (Position): expected an integer, found 'x'".
//
// Common to all: a trailing '\r' (CRLF files) and trailing spaces are ignored; empty lines are
// skipped; a missing final newline is fine. File formats, as found in /work/shared/data:
//
//   stripe-alignment/startpos.csv   "ID,Position,Beats" then one row per usable song (866):
//                                   song id, start of the annotations relative to the first note in
//                                   ticks at 16 per quarter note (-16..556), the same in beats. One
//                                   row (song 56) has an empty Beats field; Beats is then
//                                   Position/16 (it always equals Position/16 where it is given).
//   stripe-alignment/split.csv      "song_id,split" then song id, train|val|test (692/86/88).
//   stripe-alignment/chord_db.csv   "chord_id,root_plus_1,pc0..pc11": the StrIPE chord vocabulary,
//                                   395 rows, ids 0..394 in order; root_plus_1 = root pitch class
//                                   + 1 (0 = no chord), then 12 pitch-class bits (C..B).
//   pop909/POP909/index.csv         "song_id,name,artist,modify_times,num_beats_per_measure,
//                                   num_quavers_per_beat" (UTF-8). 4/4 = 2 beats of 2 quavers.
//   structure/POP909/NNN/melody.txt           "pitch duration" per line; duration in 16th notes;
//                                             pitch 0 = rest.
//   structure/POP909/NNN/finalized_chord.txt  "name [pc, pc, ...] root duration" per line, e.g.
//                                             "B:maj [3, 6, 11] 11 2"; duration in beats (quarter
//                                             notes). "No chord" lines start with 'N' and are
//                                             irregular ("N []  7", "N [10] 18 2"): as in the
//                                             StrIPE code, the duration is the last field and the
//                                             rest of the line is ignored. Song 803 has lines with
//                                             a third number ("... 8 4 2"): ignored, as there.
//   structure/POP909/NNN/human_label{1,2}.txt one line of phrases "i4A4B8x4...": a letter (the
//                                             phrase label; upper case = melodic phrase) then its
//                                             length in bars.
//   structure/POP909/NNN/analyzed_key.txt     one key per line ("Gb:maj", "G#:min"); several
//                                             lines when the key changes (the first is the song's).
//   structure/POP909/NNN/tempo.txt            an integer BPM on the first non-empty line.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace stripes::data {

// ---- stripe-alignment --------------------------------------------------------------------------

struct StartPosition {
  int song_id = 0;
  int position_ticks = 0;  // annotations start this many 16th-of-a-quarter ticks after the first note
  double beats = 0.0;      // position_ticks / 16 (quarter notes)
};
std::vector<StartPosition> parse_startpos_csv(const std::string& text, const std::string& source_name);
std::vector<StartPosition> read_startpos_csv(const std::string& path);

enum class Split { kTrain, kValidation, kTest };
const char* split_name(Split split);  // "train", "val", "test" (the file's spelling)

struct SongSplit {
  int song_id = 0;
  Split split = Split::kTrain;
};
std::vector<SongSplit> parse_split_csv(const std::string& text, const std::string& source_name);
std::vector<SongSplit> read_split_csv(const std::string& path);

// The StrIPE 13-dim chord vector: [root + 1 (0 = no chord), 12 pitch-class bits].
struct ChordVector {
  int root_plus_one = 0;
  std::array<uint8_t, 12> pitch_classes{};
  bool operator==(const ChordVector& other) const = default;
};

// The 395-chord vocabulary; a chord's id is its row. Lookups are exact matches of the 13-vector,
// as in the StrIPE code (`(chord_vector == CHORD_DB).all(axis=1)`).
class ChordDatabase {
 public:
  ChordDatabase() = default;
  explicit ChordDatabase(std::vector<ChordVector> chords);
  int size() const { return static_cast<int>(chords_.size()); }
  const ChordVector& chord(int chord_id) const;
  // The id of `chord`, or -1 when it is not in the vocabulary.
  int find(const ChordVector& chord) const;
  // The id of the all-zero vector ("no chord"; 8 in the released database). Throws if absent.
  int no_chord_id() const;

 private:
  std::vector<ChordVector> chords_;
};
ChordDatabase parse_chord_db_csv(const std::string& text, const std::string& source_name);
ChordDatabase read_chord_db_csv(const std::string& path);

// ---- POP909 index -------------------------------------------------------------------------------

struct SongIndexEntry {
  int song_id = 0;
  std::string name;
  std::string artist;
  int modify_times = 0;
  int num_beats_per_measure = 0;  // 2 = duple, 3 = triple
  int num_quavers_per_beat = 0;   // 2 = simple, 3 = compound
  // POP909 marks its 4/4 songs as duple meter with simple beats (2 beats, 2 quavers per beat);
  // (2, 3) is compound duple (6/8), (3, 2) triple.
  bool is_four_four() const { return num_beats_per_measure == 2 && num_quavers_per_beat == 2; }
};
std::vector<SongIndexEntry> parse_index_csv(const std::string& text, const std::string& source_name);
std::vector<SongIndexEntry> read_index_csv(const std::string& path);

// ---- structure annotations ----------------------------------------------------------------------

struct MelodyNote {
  int pitch = 0;                // MIDI pitch; 0 = rest
  int duration_sixteenths = 0;  // > 0
};
std::vector<MelodyNote> parse_melody_txt(const std::string& text, const std::string& source_name);
std::vector<MelodyNote> read_melody_txt(const std::string& path);

struct AnnotatedChord {
  std::string name;                // "B:maj", "N" for no chord
  std::vector<int> pitch_classes;  // 0..11 (C..B); empty for no chord
  int root = -1;                   // 0..11; -1 for no chord
  int duration_beats = 0;          // quarter notes, > 0
  int line = 0;                    // 1-based line in the file, for error messages
  bool is_no_chord() const { return root < 0; }
  // The StrIPE 13-vector (all zero for no chord).
  ChordVector vector() const;
};
std::vector<AnnotatedChord> parse_finalized_chord_txt(const std::string& text, const std::string& source_name);
std::vector<AnnotatedChord> read_finalized_chord_txt(const std::string& path);

struct Phrase {
  char label = 'x';  // a-z, A-Z
  int bars = 0;      // > 0
};
std::vector<Phrase> parse_human_label_txt(const std::string& text, const std::string& source_name);
std::vector<Phrase> read_human_label_txt(const std::string& path);

// The StrIPE encoding of a phrase letter: a..z -> 0..25, A..Z -> 26..51 (52 labels; `LABELS` in
// structure_pe/datasets.py). Ticks outside the annotations get the label of 'x' (23).
int phrase_label_id(char letter);
inline constexpr int kPhrasePadLabelId = 23;  // phrase_label_id('x')
inline constexpr int kPhraseLabelCount = 52;

struct Key {
  std::string name;  // as written, "Gb:maj"
  int tonic = 0;     // pitch class 0..11 of the tonic
  bool is_minor = false;
};
Key parse_key_name(const std::string& name, const std::string& source_name, int line);
std::vector<Key> parse_analyzed_key_txt(const std::string& text, const std::string& source_name);
std::vector<Key> read_analyzed_key_txt(const std::string& path);

int parse_tempo_txt(const std::string& text, const std::string& source_name);
int read_tempo_txt(const std::string& path);

// Tempo bucket of the StrIPE code: BPM clipped to [30, 149], then 30-BPM buckets 0..3 over [30,150).
int tempo_bucket(int bpm);
inline constexpr int kTempoBucketCount = 4;

// ---- helpers shared by the loaders -------------------------------------------------------------

// The whole file as a string; throws stripes::Error naming the path if it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace stripes::data
