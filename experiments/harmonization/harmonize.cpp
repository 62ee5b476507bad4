#include "experiments/harmonization/harmonize.hpp"

#include "tensor/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace stripes::harmonization {

std::vector<midi::Note> pianoroll_notes(const Tensor& rows, int64_t tick_offset, int velocity) {
  STRIPES_CHECK(rows.dim() == 2, "pianoroll_notes: expected [T, 128], got {}", shape_str(rows.shape()));
  const Tensor roll = rows.to(DType::Float32).contiguous();
  const float* values = roll.data<float>();
  const int64_t steps = roll.size(0), pitches = roll.size(1);
  std::vector<midi::Note> notes;
  for (int64_t pitch = 0; pitch < pitches; ++pitch) {
    int64_t start = -1;
    for (int64_t t = 0; t <= steps; ++t) {
      const bool on = t < steps && values[t * pitches + pitch] > 0.5f;
      if (on && start < 0) start = t;
      if (!on && start >= 0) {
        midi::Note note;
        note.pitch = int(pitch);
        note.velocity = velocity;
        note.start_tick = start + tick_offset;
        note.end_tick = t + tick_offset;
        notes.push_back(note);
        start = -1;
      }
    }
  }
  std::sort(notes.begin(), notes.end(), [](const midi::Note& a, const midi::Note& b) {
    return a.start_tick != b.start_tick ? a.start_tick < b.start_tick : a.pitch < b.pitch;
  });
  return notes;
}

RunBinarization read_run_binarization(const std::string& run_dir) {
  RunBinarization result;
  result.source = "default";
  const std::filesystem::path path = std::filesystem::path(run_dir) / "metrics.json";
  if (!std::filesystem::exists(path)) return result;
  std::ifstream in(path);
  STRIPES_CHECK(in.good(), "cannot read {}", path.string());
  nlohmann::json metrics;
  try {
    metrics = nlohmann::json::parse(in);
  } catch (const std::exception& error) {
    throw Error(fmt::format("{}: not valid JSON: {}", path.string(), error.what()));
  }
  // The newer layout first (per setting: in-domain, else length generalization), then the older
  // top-level one.
  const nlohmann::json* block = nullptr;
  std::string field;
  for (const char* setting : {"in_domain", "length_generalization"}) {
    if (block == nullptr && metrics.contains(setting) && metrics[setting].is_object() &&
        metrics[setting].contains("binarization")) {
      block = &metrics[setting]["binarization"];
      field = fmt::format("{}.binarization", setting);
    }
  }
  if (block == nullptr && metrics.contains("binarization")) {
    block = &metrics["binarization"];
    field = "binarization";
  }
  if (block == nullptr) return result;
  STRIPES_CHECK(block->is_object(), "{}: {}: expected an object with threshold and max_merged_gap", path.string(), field);
  if (block->contains("threshold")) {
    const nlohmann::json& threshold = (*block)["threshold"];
    STRIPES_CHECK(threshold.is_number() && threshold.get<double>() > 0 && threshold.get<double>() <= 1,
                  "{}: {}.threshold: expected a number in (0, 1], found {}", path.string(), field, threshold.dump());
    result.config.threshold = threshold.get<double>();
  }
  if (block->contains("max_merged_gap")) {
    const nlohmann::json& gap = (*block)["max_merged_gap"];
    STRIPES_CHECK(gap.is_number_integer() && gap.get<int64_t>() >= 0,
                  "{}: {}.max_merged_gap: expected an integer >= 0, found {}", path.string(), field, gap.dump());
    result.config.max_merged_gap = gap.get<int64_t>();
  }
  result.source = fmt::format("{} ({})", path.string(), field);
  return result;
}

HarmonizeResult harmonize_window(HarmonizationModel& model, const HarmonizationData& data,
                                 const HarmonizeOptions& options) {
  const HarmonizationConfig& config = model.config();
  HarmonizeResult result;
  result.sequence_length = options.sequence_length > 0 ? options.sequence_length : config.eval_sequence_length;
  result.binarization = options.binarization.value_or(metrics::BinarizationConfig{});
  STRIPES_CHECK(data.songs != nullptr, "harmonize: no data loaded");

  // The song and its split.
  const data::Pop909Song* song = nullptr;
  for (const data::Pop909Song& candidate : *data.songs) {
    if (options.song_id >= 0 ? candidate.song_id == options.song_id : candidate.split == data::Split::kTest) {
      if (options.song_id < 0 && candidate.num_ticks < result.sequence_length + 1) continue;
      song = &candidate;
      break;
    }
  }
  STRIPES_CHECK(song != nullptr, "harmonize: song {} not found among the {} loaded songs", options.song_id,
                data.songs->size());
  const data::WindowDataset dataset = make_dataset(config, data, song->split, result.sequence_length);
  std::vector<int64_t> windows;
  for (int64_t i = 0; i < dataset.size(); ++i) {
    if (dataset.window(i).song_id == song->song_id) windows.push_back(i);
  }
  STRIPES_CHECK(!windows.empty(), "harmonize: song {} ({} ticks) has no window of T = {} ({} ticks needed)",
                song->song_id, song->num_ticks, result.sequence_length, result.sequence_length + 1);
  STRIPES_CHECK(options.window >= 0 && options.window < int64_t(windows.size()),
                "harmonize: song {} has {} windows of T = {}, asked for window {}", song->song_id, windows.size(),
                result.sequence_length, options.window);
  const int64_t index = windows[size_t(options.window)];
  result.song_id = song->song_id;
  result.start_tick = dataset.window(index).start_tick;

  std::vector<Tensor> logits, targets;
  predict_windows(model, dataset, {index}, 1, logits, targets);
  const Tensor prediction = metrics::binarize_logits(logits[0], result.binarization);  // uint8 [T, 384]
  const Tensor& target = targets[0];
  result.scores = metrics::score_piece(target, prediction, config.scoring());  // as `stripes eval` scores
  const data::Batch batch = dataset.batch(std::vector<int64_t>{index});
  const Tensor input = batch.input.select(0, 0);  // [T, 256]

  const auto track = [](const std::string& name, std::vector<midi::Note> notes, int index) {
    midi::Track t;
    t.name = name;
    for (midi::Note& note : notes) {
      note.track = index;
      note.channel = index;
    }
    t.notes = std::move(notes);
    return t;
  };
  const auto rows = [](const Tensor& roll, int64_t k) { return roll.slice(1, k * 128, (k + 1) * 128); };
  midi::MidiFile& file = result.midi;
  file.format = 1;
  file.ticks_per_quarter = 16;
  file.tempos.push_back({0, int(60'000'000 / std::max(1, song->tempo_bpm > 0 ? song->tempo_bpm : 120))});
  file.time_signatures.push_back({0, 4, 4});
  file.tracks.push_back(track("MELODY", pianoroll_notes(rows(input, 0), 0), 0));
  file.tracks.push_back(track("BRIDGE", pianoroll_notes(rows(input, 1), 0), 1));
  file.tracks.push_back(track("PIANO (model)", pianoroll_notes(rows(prediction, 2), 1), 2));
  file.tracks.push_back(track("MELODY (model)", pianoroll_notes(rows(prediction, 0), 1), 3));
  file.tracks.push_back(track("BRIDGE (model)", pianoroll_notes(rows(prediction, 1), 1), 4));
  file.tracks.push_back(track("PIANO (original)", pianoroll_notes(rows(target, 2), 1), 5));
  file.end_tick = result.sequence_length + 1;
  result.predicted_piano_notes = int64_t(file.tracks[2].notes.size());
  result.original_piano_notes = int64_t(file.tracks[5].notes.size());
  return result;
}

}  // namespace stripes::harmonization
