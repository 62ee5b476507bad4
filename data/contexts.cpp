// Context types (positions for the PEs); definitions in contexts.hpp.
#include "data/contexts.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "tensor/error.hpp"

namespace stripes::data {

namespace {

constexpr int kPitchClasses = 12;

std::string uppercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

std::string trimmed(const std::string& text) {
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

bool chord_less(const ChordVector& a, const ChordVector& b) {
  if (a.root_plus_one != b.root_plus_one) return a.root_plus_one < b.root_plus_one;
  return a.pitch_classes < b.pitch_classes;
}

}  // namespace

const char* context_name(ContextType type) {
  switch (type) {
    case ContextType::kTime: return "TIME";
    case ContextType::kRep: return "REP";
    case ContextType::kKey: return "KEY";
    case ContextType::kBin: return "BIN";
    case ContextType::kMcp: return "MCP";
  }
  return "?";
}

ContextType parse_context_type(const std::string& name) {
  const std::string wanted = uppercase(trimmed(name));
  for (ContextType type : kAllContextTypes) {
    if (wanted == context_name(type)) return type;
  }
  throw_error("unknown context '{}'; expected one of TIME, REP, KEY, BIN (the paper's four) or MCP (F-StrIPE's "
              "[melody, chord, phrase] vector)",
              name);
}

std::vector<ContextType> parse_context_list(const std::string& names) {
  std::vector<ContextType> types;
  auto add = [&types](ContextType type) {
    if (std::find(types.begin(), types.end(), type) == types.end()) types.push_back(type);
  };
  size_t begin = 0;
  while (true) {
    const size_t comma = names.find(',', begin);
    const std::string part = names.substr(begin, comma == std::string::npos ? std::string::npos : comma - begin);
    const std::string upper = uppercase(trimmed(part));
    if (upper == "ALL" || upper == "EVERY") {
      for (ContextType type : kPaperContextTypes) add(type);
      if (upper == "EVERY") add(ContextType::kMcp);
    } else {
      add(parse_context_type(part));
    }
    if (comma == std::string::npos) break;
    begin = comma + 1;
  }
  return types;
}

int context_width(ContextType type) {
  switch (type) {
    case ContextType::kBin: return kPitchClasses;
    case ContextType::kMcp: return 3;
    default: return 1;
  }
}

ChordVector transpose_chord(const ChordVector& chord, int semitones) {
  const int shift = ((semitones % kPitchClasses) + kPitchClasses) % kPitchClasses;
  ChordVector out;
  out.root_plus_one = chord.root_plus_one == 0 ? 0 : (chord.root_plus_one - 1 + shift) % kPitchClasses + 1;
  for (int pc = 0; pc < kPitchClasses; ++pc) {
    out.pitch_classes[static_cast<size_t>((pc + shift) % kPitchClasses)] = chord.pitch_classes[static_cast<size_t>(pc)];
  }
  return out;
}

int chroma_symbol(const ChordVector& chord) {
  int symbol = 0;
  for (int pc = 0; pc < kPitchClasses; ++pc) {
    if (chord.pitch_classes[static_cast<size_t>(pc)] != 0) symbol |= 1 << pc;
  }
  return symbol;
}

std::vector<int32_t> rep_tokens(std::span<const int32_t> chord_ids) {
  std::vector<int32_t> distinct(chord_ids.begin(), chord_ids.end());
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  std::vector<int32_t> tokens(chord_ids.size());
  for (size_t i = 0; i < chord_ids.size(); ++i) {
    tokens[i] = static_cast<int32_t>(std::lower_bound(distinct.begin(), distinct.end(), chord_ids[i]) - distinct.begin());
  }
  return tokens;
}

// ---- ContextEncoder -----------------------------------------------------------------------------

ContextEncoder::ContextEncoder(const ChordDatabase& chords) : chords_(chords) {
  const int count = chords_.size();
  STRIPES_CHECK(count > 0, "contexts: the chord database is empty");
  key_vocabulary_.reserve(static_cast<size_t>(count));
  std::map<ChordVector, int, decltype(&chord_less)> token_of(&chord_less);
  for (int id = 0; id < count; ++id) {
    key_vocabulary_.push_back(chords_.chord(id));
    token_of.emplace(chords_.chord(id), id);  // a duplicate vector keeps its first id, as ChordDatabase::find
  }
  // Every transposition of every chord that chord_db lacks, in (root + 1, bits) order.
  std::vector<ChordVector> missing;
  for (int id = 0; id < count; ++id) {
    for (int shift = 1; shift < kPitchClasses; ++shift) {
      const ChordVector moved = transpose_chord(chords_.chord(id), shift);
      if (token_of.count(moved) == 0) missing.push_back(moved);
    }
  }
  std::sort(missing.begin(), missing.end(), chord_less);
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  for (const ChordVector& chord : missing) {
    token_of.emplace(chord, static_cast<int>(key_vocabulary_.size()));
    key_vocabulary_.push_back(chord);
  }
  key_table_.resize(static_cast<size_t>(count) * kPitchClasses);
  bin_table_.resize(static_cast<size_t>(count));
  for (int id = 0; id < count; ++id) {
    for (int tonic = 0; tonic < kPitchClasses; ++tonic) {
      key_table_[static_cast<size_t>(id) * kPitchClasses + static_cast<size_t>(tonic)] =
          token_of.at(transpose_chord(chords_.chord(id), -tonic));
    }
    bin_table_[static_cast<size_t>(id)] = chroma_symbol(chords_.chord(id));
  }
}

void ContextEncoder::check_chord_id(int chord_id) const {
  STRIPES_CHECK(chord_id >= 0 && chord_id < chords_.size(), "contexts: chord id {} outside the vocabulary [0, {})",
                chord_id, chords_.size());
}

int ContextEncoder::key_token(int chord_id, const Key& key) const {
  check_chord_id(chord_id);
  STRIPES_CHECK(key.tonic >= 0 && key.tonic < kPitchClasses, "contexts: key '{}' has tonic {} outside 0..11",
                key.name, key.tonic);
  return key_table_[static_cast<size_t>(chord_id) * kPitchClasses + static_cast<size_t>(key.tonic)];
}

const ChordVector& ContextEncoder::key_token_chord(int token) const {
  STRIPES_CHECK(token >= 0 && token < key_vocabulary_size(), "contexts: KEY token {} outside [0, {})", token,
                key_vocabulary_size());
  return key_vocabulary_[static_cast<size_t>(token)];
}

int ContextEncoder::bin_symbol(int chord_id) const {
  check_chord_id(chord_id);
  return bin_table_[static_cast<size_t>(chord_id)];
}

std::vector<int32_t> ContextEncoder::symbols(ContextType type, const ContextSpan& span) const {
  const size_t length = span.chord_ids.size();
  std::vector<int32_t> out(length);
  switch (type) {
    case ContextType::kTime:
      for (size_t t = 0; t < length; ++t) out[t] = static_cast<int32_t>(t);
      return out;
    case ContextType::kRep:
      for (int32_t id : span.chord_ids) check_chord_id(id);
      return rep_tokens(span.chord_ids);
    case ContextType::kKey:
      for (size_t t = 0; t < length; ++t) out[t] = key_token(span.chord_ids[t], span.key);
      return out;
    case ContextType::kBin:
      for (size_t t = 0; t < length; ++t) out[t] = bin_symbol(span.chord_ids[t]);
      return out;
    case ContextType::kMcp:
      break;
  }
  throw_error("contexts: {} is a vector of three levels and has no single symbol per tick", context_name(type));
}

void ContextEncoder::positions(ContextType type, const ContextSpan& span, float* out) const {
  const size_t length = span.chord_ids.size();
  if (type == ContextType::kBin) {
    for (size_t t = 0; t < length; ++t) {
      check_chord_id(span.chord_ids[t]);
      const ChordVector& chord = chords_.chord(span.chord_ids[t]);
      for (int pc = 0; pc < kPitchClasses; ++pc) {
        out[t * kPitchClasses + static_cast<size_t>(pc)] = chord.pitch_classes[static_cast<size_t>(pc)] ? 1.0f : 0.0f;
      }
    }
    return;
  }
  if (type == ContextType::kMcp) {
    STRIPES_CHECK(span.melody.size() == length && span.phrase_labels.size() == length,
                  "contexts: MCP needs melody and phrase rows as long as the chord row ({} ticks), got {} and {}",
                  length, span.melody.size(), span.phrase_labels.size());
    for (size_t t = 0; t < length; ++t) {
      check_chord_id(span.chord_ids[t]);
      out[3 * t + 0] = static_cast<float>(span.melody[t]);
      out[3 * t + 1] = static_cast<float>(span.chord_ids[t]);
      out[3 * t + 2] = static_cast<float>(span.phrase_labels[t]);
    }
    return;
  }
  const std::vector<int32_t> values = symbols(type, span);
  for (size_t t = 0; t < length; ++t) out[t] = static_cast<float>(values[t]);
}

Tensor ContextEncoder::positions(ContextType type, const ContextSpan& span) const {
  const int64_t width = context_width(type);
  Tensor out = width == 1 ? Tensor::empty({span.length()}, DType::Float32)
                          : Tensor::empty({span.length(), width}, DType::Float32);
  positions(type, span, out.mutable_data<float>());
  return out;
}

}  // namespace stripes::data
