// Parsers for the POP909 / structure / stripe-alignment text files; formats in pop909_files.hpp.
#include "data/pop909/pop909_files.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>
#include <string_view>

#include "tensor/error.hpp"

namespace stripes::data {

namespace {

// ---- line and field helpers ---------------------------------------------------------------------

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// One non-empty line of a file with its 1-based line number.
struct Line {
  int number = 0;
  std::string_view text;  // trimmed of surrounding whitespace and '\r'
};

std::vector<Line> non_empty_lines(const std::string& text) {
  std::vector<Line> lines;
  int number = 0;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++number;
    const std::string_view line = trim(std::string_view(text).substr(begin, end - begin));
    if (!line.empty()) lines.push_back({number, line});
    if (end == text.size()) break;
    begin = end + 1;
  }
  return lines;
}

// Fields of a CSV line; double quotes group a field that contains commas ("" is a quote).
std::vector<std::string> split_csv_fields(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (std::string& field : fields) field = std::string(trim(field));
  return fields;
}

std::vector<std::string> split_whitespace(std::string_view line) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const size_t begin = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > begin) fields.emplace_back(line.substr(begin, i - begin));
  }
  return fields;
}

// Where a value came from, for error messages.
struct FieldContext {
  const std::string& source;
  int line;
  int field;  // 1-based
  const char* field_name;
};

int parse_int(std::string_view text, const FieldContext& where) {
  int value = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  if (!text.empty() && text.front() == '+') ++begin;
  const auto [ptr, error] = std::from_chars(begin, end, value);
  if (text.empty() || error != std::errc() || ptr != end) {
    throw_error("{}: line {}: field {} ({}): expected an integer, found '{}'", where.source, where.line, where.field,
                where.field_name, text);
  }
  return value;
}

double parse_double(std::string_view text, const FieldContext& where) {
  double value = 0;
  const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || ptr != text.data() + text.size()) {
    throw_error("{}: line {}: field {} ({}): expected a number, found '{}'", where.source, where.line, where.field,
                where.field_name, text);
  }
  return value;
}

void require_field_count(const std::vector<std::string>& fields, size_t expected, const std::string& source,
                         const Line& line, const char* format_hint) {
  if (fields.size() != expected) {
    throw_error("{}: line {}: expected {} fields ({}), found {}: '{}'", source, line.number, expected, format_hint,
                fields.size(), line.text);
  }
}

// Checks the header row of a CSV file (exact column names, in order).
void require_csv_header(const std::vector<Line>& lines, const std::vector<std::string>& expected,
                        const std::string& source) {
  if (lines.empty()) throw_error("{}: empty file; expected a header row", source);
  const std::vector<std::string> header = split_csv_fields(lines[0].text);
  std::string expected_text;
  for (size_t i = 0; i < expected.size(); ++i) expected_text += (i ? "," : "") + expected[i];
  // A UTF-8 byte-order mark, if any, is not part of the first column name.
  std::vector<std::string> cleaned = header;
  if (!cleaned.empty() && cleaned[0].rfind("\xEF\xBB\xBF", 0) == 0) cleaned[0].erase(0, 3);
  if (cleaned != expected) {
    throw_error("{}: line {}: expected the header '{}', found '{}'", source, lines[0].number, expected_text,
                lines[0].text);
  }
}

int parse_song_id(std::string_view text, const FieldContext& where) {
  const int song_id = parse_int(text, where);
  if (song_id < 1) {
    throw_error("{}: line {}: field {} ({}): song ids start at 1, found {}", where.source, where.line, where.field,
                where.field_name, song_id);
  }
  return song_id;
}

}  // namespace

// ---- files --------------------------------------------------------------------------------------

std::string read_text_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw_error("{}: cannot open file for reading", path);
  std::ostringstream contents;
  contents << file.rdbuf();
  if (file.bad()) throw_error("{}: read error", path);
  return contents.str();
}

// ---- startpos.csv -------------------------------------------------------------------------------

std::vector<StartPosition> parse_startpos_csv(const std::string& text, const std::string& source_name) {
  const std::vector<Line> lines = non_empty_lines(text);
  require_csv_header(lines, {"ID", "Position", "Beats"}, source_name);
  std::vector<StartPosition> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const std::vector<std::string> fields = split_csv_fields(line.text);
    require_field_count(fields, 3, source_name, line, "ID,Position,Beats");
    StartPosition row;
    row.song_id = parse_song_id(fields[0], {source_name, line.number, 1, "ID"});
    row.position_ticks = parse_int(fields[1], {source_name, line.number, 2, "Position"});
    // Ticks are 16 per quarter note, so Beats is Position / 16; it is empty in one row (song 56).
    const double beats_from_ticks = row.position_ticks / 16.0;
    row.beats = fields[2].empty() ? beats_from_ticks : parse_double(fields[2], {source_name, line.number, 3, "Beats"});
    if (row.beats * 16.0 != static_cast<double>(row.position_ticks)) {
      throw_error("{}: line {}: field 3 (Beats): {} beats disagrees with Position {} ticks at 16 ticks per beat",
                  source_name, line.number, fields[2], row.position_ticks);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<StartPosition> read_startpos_csv(const std::string& path) {
  return parse_startpos_csv(read_text_file(path), path);
}

// ---- split.csv ----------------------------------------------------------------------------------

const char* split_name(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kValidation: return "val";
    case Split::kTest: return "test";
  }
  return "?";
}

std::vector<SongSplit> parse_split_csv(const std::string& text, const std::string& source_name) {
  const std::vector<Line> lines = non_empty_lines(text);
  require_csv_header(lines, {"song_id", "split"}, source_name);
  std::vector<SongSplit> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const std::vector<std::string> fields = split_csv_fields(line.text);
    require_field_count(fields, 2, source_name, line, "song_id,split");
    SongSplit row;
    row.song_id = parse_song_id(fields[0], {source_name, line.number, 1, "song_id"});
    if (fields[1] == "train") {
      row.split = Split::kTrain;
    } else if (fields[1] == "val") {
      row.split = Split::kValidation;
    } else if (fields[1] == "test") {
      row.split = Split::kTest;
    } else {
      throw_error("{}: line {}: field 2 (split): expected train, val or test, found '{}'", source_name, line.number,
                  fields[1]);
    }
    rows.push_back(row);
  }
  return rows;
}

std::vector<SongSplit> read_split_csv(const std::string& path) { return parse_split_csv(read_text_file(path), path); }

// ---- chord_db.csv -------------------------------------------------------------------------------

ChordDatabase::ChordDatabase(std::vector<ChordVector> chords) : chords_(std::move(chords)) {}

const ChordVector& ChordDatabase::chord(int chord_id) const {
  STRIPES_CHECK(chord_id >= 0 && chord_id < size(), "chord database: id {} out of range [0, {})", chord_id, size());
  return chords_[static_cast<size_t>(chord_id)];
}

int ChordDatabase::find(const ChordVector& chord) const {
  const auto found = std::find(chords_.begin(), chords_.end(), chord);
  return found == chords_.end() ? -1 : static_cast<int>(found - chords_.begin());
}

int ChordDatabase::no_chord_id() const {
  const int id = find(ChordVector{});
  STRIPES_CHECK(id >= 0, "chord database: no all-zero 'no chord' vector among its {} chords", size());
  return id;
}

ChordDatabase parse_chord_db_csv(const std::string& text, const std::string& source_name) {
  const std::vector<Line> lines = non_empty_lines(text);
  std::vector<std::string> header = {"chord_id", "root_plus_1"};
  for (int pc = 0; pc < 12; ++pc) header.push_back("pc" + std::to_string(pc));
  require_csv_header(lines, header, source_name);
  std::vector<ChordVector> chords;
  for (size_t i = 1; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const std::vector<std::string> fields = split_csv_fields(line.text);
    require_field_count(fields, 14, source_name, line, "chord_id,root_plus_1,pc0..pc11");
    const int chord_id = parse_int(fields[0], {source_name, line.number, 1, "chord_id"});
    if (chord_id != static_cast<int>(chords.size())) {
      throw_error("{}: line {}: field 1 (chord_id): expected {} (ids are consecutive from 0), found {}", source_name,
                  line.number, chords.size(), chord_id);
    }
    ChordVector chord;
    chord.root_plus_one = parse_int(fields[1], {source_name, line.number, 2, "root_plus_1"});
    if (chord.root_plus_one < 0 || chord.root_plus_one > 12) {
      throw_error("{}: line {}: field 2 (root_plus_1): expected 0..12, found {}", source_name, line.number,
                  chord.root_plus_one);
    }
    for (int pc = 0; pc < 12; ++pc) {
      const std::string field_name = "pc" + std::to_string(pc);
      const int bit = parse_int(fields[static_cast<size_t>(2 + pc)], {source_name, line.number, 3 + pc, field_name.c_str()});
      if (bit != 0 && bit != 1) {
        throw_error("{}: line {}: field {} ({}): expected 0 or 1, found {}", source_name, line.number, 3 + pc,
                    field_name, bit);
      }
      chord.pitch_classes[static_cast<size_t>(pc)] = static_cast<uint8_t>(bit);
    }
    chords.push_back(chord);
  }
  return ChordDatabase(std::move(chords));
}

ChordDatabase read_chord_db_csv(const std::string& path) { return parse_chord_db_csv(read_text_file(path), path); }

// ---- index.csv ----------------------------------------------------------------------------------

std::vector<SongIndexEntry> parse_index_csv(const std::string& text, const std::string& source_name) {
  const std::vector<Line> lines = non_empty_lines(text);
  require_csv_header(lines,
                     {"song_id", "name", "artist", "modify_times", "num_beats_per_measure", "num_quavers_per_beat"},
                     source_name);
  std::vector<SongIndexEntry> rows;
  for (size_t i = 1; i < lines.size(); ++i) {
    const Line& line = lines[i];
    const std::vector<std::string> fields = split_csv_fields(line.text);
    require_field_count(fields, 6, source_name, line,
                        "song_id,name,artist,modify_times,num_beats_per_measure,num_quavers_per_beat");
    SongIndexEntry row;
    row.song_id = parse_song_id(fields[0], {source_name, line.number, 1, "song_id"});
    row.name = fields[1];
    row.artist = fields[2];
    row.modify_times = parse_int(fields[3], {source_name, line.number, 4, "modify_times"});
    row.num_beats_per_measure = parse_int(fields[4], {source_name, line.number, 5, "num_beats_per_measure"});
    row.num_quavers_per_beat = parse_int(fields[5], {source_name, line.number, 6, "num_quavers_per_beat"});
    rows.push_back(row);
  }
  return rows;
}

std::vector<SongIndexEntry> read_index_csv(const std::string& path) {
  return parse_index_csv(read_text_file(path), path);
}

// ---- melody.txt ---------------------------------------------------------------------------------

std::vector<MelodyNote> parse_melody_txt(const std::string& text, const std::string& source_name) {
  std::vector<MelodyNote> notes;
  for (const Line& line : non_empty_lines(text)) {
    const std::vector<std::string> fields = split_whitespace(line.text);
    require_field_count(fields, 2, source_name, line, "pitch duration_in_16ths");
    MelodyNote note;
    note.pitch = parse_int(fields[0], {source_name, line.number, 1, "pitch"});
    note.duration_sixteenths = parse_int(fields[1], {source_name, line.number, 2, "duration"});
    if (note.pitch < 0 || note.pitch > 127) {
      throw_error("{}: line {}: field 1 (pitch): expected 0..127 (0 = rest), found {}", source_name, line.number,
                  note.pitch);
    }
    if (note.duration_sixteenths <= 0) {
      throw_error("{}: line {}: field 2 (duration): expected a positive number of 16th notes, found {}", source_name,
                  line.number, note.duration_sixteenths);
    }
    notes.push_back(note);
  }
  return notes;
}

std::vector<MelodyNote> read_melody_txt(const std::string& path) { return parse_melody_txt(read_text_file(path), path); }

// ---- finalized_chord.txt ------------------------------------------------------------------------

ChordVector AnnotatedChord::vector() const {
  ChordVector chord;
  if (is_no_chord()) return chord;
  chord.root_plus_one = root + 1;
  for (int pc : pitch_classes) chord.pitch_classes[static_cast<size_t>(pc)] = 1;
  return chord;
}

std::vector<AnnotatedChord> parse_finalized_chord_txt(const std::string& text, const std::string& source_name) {
  std::vector<AnnotatedChord> chords;
  for (const Line& line : non_empty_lines(text)) {
    AnnotatedChord chord;
    chord.line = line.number;
    const std::vector<std::string> words = split_whitespace(line.text);
    const int last_field = static_cast<int>(words.size());
    if (line.text.front() == 'N') {
      // "No chord": only the duration (the last field) is meaningful, as in the StrIPE code.
      chord.name = "N";
      chord.duration_beats = parse_int(words.back(), {source_name, line.number, last_field, "duration"});
    } else {
      const size_t open = line.text.find('[');
      const size_t close = line.text.find(']');
      if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        throw_error("{}: line {}: expected 'name [pitch classes] root duration', found '{}'", source_name,
                    line.number, line.text);
      }
      chord.name = std::string(trim(line.text.substr(0, open)));
      if (chord.name.empty() || chord.name.find(' ') != std::string::npos) {
        throw_error("{}: line {}: field 1 (name): expected one chord name before '[', found '{}'", source_name,
                    line.number, chord.name);
      }
      const std::string_view list = line.text.substr(open + 1, close - open - 1);
      size_t begin = 0;
      while (begin <= list.size()) {
        size_t comma = list.find(',', begin);
        if (comma == std::string_view::npos) comma = list.size();
        const int pitch_class = parse_int(trim(list.substr(begin, comma - begin)),
                                          {source_name, line.number, 2, "pitch classes"});
        if (pitch_class < 0 || pitch_class > 11) {
          throw_error("{}: line {}: field 2 (pitch classes): expected 0..11, found {}", source_name, line.number,
                      pitch_class);
        }
        chord.pitch_classes.push_back(pitch_class);
        begin = comma + 1;
      }
      // Song 803 has two lines "Ab:maj [0, 3, 8] 8 4 2": like the StrIPE code (rest[0], rest[1]),
      // the first two fields are the root and the duration and further fields are ignored.
      const std::vector<std::string> rest = split_whitespace(line.text.substr(close + 1));
      if (rest.size() < 2) {
        throw_error("{}: line {}: expected 'root duration' after the pitch classes, found '{}'", source_name,
                    line.number, trim(line.text.substr(close + 1)));
      }
      chord.root = parse_int(rest[0], {source_name, line.number, 3, "root"});
      if (chord.root < 0 || chord.root > 11) {
        throw_error("{}: line {}: field 3 (root): expected 0..11, found {}", source_name, line.number, chord.root);
      }
      chord.duration_beats = parse_int(rest[1], {source_name, line.number, 4, "duration"});
    }
    if (chord.duration_beats <= 0) {
      throw_error("{}: line {}: duration: expected a positive number of beats, found {}", source_name, line.number,
                  chord.duration_beats);
    }
    chords.push_back(std::move(chord));
  }
  return chords;
}

std::vector<AnnotatedChord> read_finalized_chord_txt(const std::string& path) {
  return parse_finalized_chord_txt(read_text_file(path), path);
}

// ---- human_label{1,2}.txt -----------------------------------------------------------------------

int phrase_label_id(char letter) {
  if (letter >= 'a' && letter <= 'z') return letter - 'a';
  if (letter >= 'A' && letter <= 'Z') return 26 + (letter - 'A');
  throw_error("phrase label: expected a letter a-z or A-Z, found '{}'", letter);
}

std::vector<Phrase> parse_human_label_txt(const std::string& text, const std::string& source_name) {
  const std::vector<Line> lines = non_empty_lines(text);
  if (lines.empty()) throw_error("{}: empty file; expected one line of phrases such as 'i4A8B8'", source_name);
  // Only the first line is read (as the StrIPE code does); the files have exactly one.
  const Line& line = lines[0];
  std::vector<Phrase> phrases;
  size_t i = 0;
  while (i < line.text.size()) {
    const char letter = line.text[i];
    const bool is_letter = (letter >= 'a' && letter <= 'z') || (letter >= 'A' && letter <= 'Z');
    if (!is_letter) {
      throw_error("{}: line {}: column {}: expected a phrase letter a-z/A-Z, found '{}' in '{}'", source_name,
                  line.number, i + 1, letter, line.text);
    }
    size_t digits_end = i + 1;
    while (digits_end < line.text.size() && line.text[digits_end] >= '0' && line.text[digits_end] <= '9') {
      ++digits_end;
    }
    if (digits_end == i + 1) {
      throw_error("{}: line {}: column {}: phrase '{}' has no length in bars in '{}'", source_name, line.number, i + 2,
                  letter, line.text);
    }
    Phrase phrase;
    phrase.label = letter;
    phrase.bars = parse_int(line.text.substr(i + 1, digits_end - i - 1),
                            {source_name, line.number, static_cast<int>(phrases.size()) + 1, "phrase length"});
    if (phrase.bars <= 0) {
      throw_error("{}: line {}: phrase {} ('{}'): expected a positive number of bars, found {}", source_name,
                  line.number, phrases.size() + 1, letter, phrase.bars);
    }
    phrases.push_back(phrase);
    i = digits_end;
  }
  return phrases;
}

std::vector<Phrase> read_human_label_txt(const std::string& path) {
  return parse_human_label_txt(read_text_file(path), path);
}

// ---- analyzed_key.txt ---------------------------------------------------------------------------

Key parse_key_name(const std::string& name, const std::string& source_name, int line) {
  // "<tonic>:<maj|min>", tonic = letter A-G with an optional '#' or 'b'.
  static const int kNaturalPitchClass[7] = {9, 11, 0, 2, 4, 5, 7};  // A B C D E F G
  const size_t colon = name.find(':');
  const std::string tonic = name.substr(0, colon);
  const std::string mode = colon == std::string::npos ? "" : name.substr(colon + 1);
  const bool tonic_ok = (tonic.size() == 1 || (tonic.size() == 2 && (tonic[1] == '#' || tonic[1] == 'b'))) &&
                        tonic[0] >= 'A' && tonic[0] <= 'G';
  if (!tonic_ok || (mode != "maj" && mode != "min")) {
    throw_error("{}: line {}: expected a key such as 'Gb:maj' or 'G#:min', found '{}'", source_name, line, name);
  }
  Key key;
  key.name = name;
  int pitch_class = kNaturalPitchClass[tonic[0] - 'A'];
  if (tonic.size() == 2) pitch_class += tonic[1] == '#' ? 1 : -1;
  key.tonic = (pitch_class + 12) % 12;
  key.is_minor = mode == "min";
  return key;
}

std::vector<Key> parse_analyzed_key_txt(const std::string& text, const std::string& source_name) {
  std::vector<Key> keys;
  for (const Line& line : non_empty_lines(text)) {
    keys.push_back(parse_key_name(std::string(line.text), source_name, line.number));
  }
  if (keys.empty()) throw_error("{}: empty file; expected a key such as 'Gb:maj'", source_name);
  return keys;
}

std::vector<Key> read_analyzed_key_txt(const std::string& path) {
  return parse_analyzed_key_txt(read_text_file(path), path);
}

// ---- tempo.txt ----------------------------------------------------------------------------------

int parse_tempo_txt(const std::string& text, const std::string& source_name) {
  const std::vector<Line> lines = non_empty_lines(text);
  if (lines.empty()) throw_error("{}: empty file; expected a tempo in BPM", source_name);
  // The first tempo is the song's (the structure README: "only pick up the first tempo").
  const int bpm = parse_int(lines[0].text, {source_name, lines[0].number, 1, "tempo"});
  if (bpm <= 0) throw_error("{}: line {}: field 1 (tempo): expected a positive BPM, found {}", source_name,
                            lines[0].number, bpm);
  return bpm;
}

int read_tempo_txt(const std::string& path) { return parse_tempo_txt(read_text_file(path), path); }

int tempo_bucket(int bpm) {
  constexpr int kMinTempo = 30;
  constexpr int kMaxTempo = 150;  // exclusive
  constexpr int kBucketWidth = 30;
  const int clipped = std::clamp(bpm, kMinTempo, kMaxTempo - 1);
  return (clipped - kMinTempo) / kBucketWidth;
}

}  // namespace stripes::data
