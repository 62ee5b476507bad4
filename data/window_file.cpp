// Windows in the golden_windows.h5 layout; see window_file.hpp.
#include "data/window_file.hpp"

#include "tensor/error.hpp"

namespace stripes::data {

namespace {

constexpr size_t kMostDifferencesListed = 8;

std::string song_group(int song_id) { return fmt::format("/{:03d}", song_id); }

std::vector<int64_t> widen(const std::vector<int32_t>& row) { return std::vector<int64_t>(row.begin(), row.end()); }

// The datasets of one window, in the golden file's names, as int64 values with their shapes.
struct NamedRow {
  const char* name;
  const std::vector<int32_t> Pop909Window::*row;
};
constexpr NamedRow kRows[] = {{"chord_ids", &Pop909Window::chord_ids},
                              {"melody", &Pop909Window::melody},
                              {"annotation_1", &Pop909Window::phrase_labels},
                              {"measure_order", &Pop909Window::measure_order},
                              {"note_order", &Pop909Window::note_order}};

void compare_dataset(const io::Hdf5File& reference, const std::string& path, const std::vector<int64_t>& shape,
                     const std::vector<int64_t>& ours, WindowFileComparison& result) {
  if (!reference.is_dataset(path)) {
    result.differences.push_back(fmt::format("{}: missing in the reference", path));
    return;
  }
  const std::vector<int64_t> their_shape = reference.dataset_shape(path);
  if (their_shape != shape) {
    result.differences.push_back(fmt::format("{}: shape {} in the reference, ours {}", path,
                                             io::Hdf5File::shape_to_string(their_shape),
                                             io::Hdf5File::shape_to_string(shape)));
    return;
  }
  const std::vector<int64_t> theirs = reference.read_dataset<int64_t>(path);
  int64_t differing = 0;
  size_t first = 0;
  for (size_t i = 0; i < theirs.size(); ++i) {
    if (theirs[i] != ours[i]) {
      if (differing == 0) first = i;
      ++differing;
    }
  }
  if (differing == 0) return;
  result.differing_values += differing;
  if (result.differences.size() < kMostDifferencesListed) {
    const int64_t columns = shape.empty() ? 1 : shape.back();
    result.differences.push_back(fmt::format("{}: {} values differ, first at ({}, {}): ours {}, theirs {}", path,
                                             differing, static_cast<int64_t>(first) / columns,
                                             static_cast<int64_t>(first) % columns, ours[first], theirs[first]));
  }
}

}  // namespace

int write_song_windows(io::Hdf5File& file, const Pop909Song& song, int sequence_length, int overlap) {
  const std::vector<Pop909Window> windows = make_windows(song, sequence_length, overlap);
  const std::string group = song_group(song.song_id);
  file.create_group(group);
  for (const Pop909Window& window : windows) {
    const std::string prefix = fmt::format("{}/{}/", group, window.index);
    file.write_dataset<uint8_t>(prefix + "pianoroll", {kPianorollRows, window.length}, window.pianoroll);
    file.write_dataset<uint8_t>(prefix + "onset", {kPianorollRows, window.length}, window.onset);
    for (const NamedRow& row : kRows) {
      file.write_dataset<int64_t>(prefix + row.name, {1, window.length}, widen(window.*(row.row)));
    }
    file.write_scalar<int64_t>(prefix + "tempo_bucket", window.tempo_bucket);
  }
  return static_cast<int>(windows.size());
}

int write_windows_file(const std::string& path, const std::vector<const Pop909Song*>& songs, int sequence_length,
                       int overlap, const std::string& description) {
  io::Hdf5File file(path, io::OpenMode::kTruncate);
  file.write_attribute("/", "description", description);
  int windows = 0;
  for (const Pop909Song* song : songs) windows += write_song_windows(file, *song, sequence_length, overlap);
  file.flush();
  return windows;
}

WindowFileComparison compare_with_window_file(const io::Hdf5File& reference, const Pop909Song& song,
                                              int sequence_length, int overlap) {
  WindowFileComparison result;
  const std::vector<Pop909Window> windows = make_windows(song, sequence_length, overlap);
  result.our_windows = static_cast<int>(windows.size());
  const std::string group = song_group(song.song_id);
  if (!reference.is_group(group)) {
    result.differences.push_back(fmt::format("{}: no such group in the reference", group));
    return result;
  }
  result.reference_windows = static_cast<int>(reference.list_children(group).size());
  if (result.reference_windows != result.our_windows) {
    result.differences.push_back(fmt::format("{}: {} windows in the reference, {} ours", group,
                                             result.reference_windows, result.our_windows));
  }
  for (const Pop909Window& window : windows) {
    const std::string prefix = fmt::format("{}/{}/", group, window.index);
    if (!reference.is_group(prefix.substr(0, prefix.size() - 1))) continue;  // counted above
    const std::vector<int64_t> roll_shape = {kPianorollRows, window.length};
    compare_dataset(reference, prefix + "pianoroll", roll_shape,
                    std::vector<int64_t>(window.pianoroll.begin(), window.pianoroll.end()), result);
    compare_dataset(reference, prefix + "onset", roll_shape,
                    std::vector<int64_t>(window.onset.begin(), window.onset.end()), result);
    for (const NamedRow& row : kRows) {
      compare_dataset(reference, prefix + row.name, {1, window.length}, widen(window.*(row.row)), result);
    }
    compare_dataset(reference, prefix + "tempo_bucket", {}, {window.tempo_bucket}, result);
  }
  return result;
}

}  // namespace stripes::data
