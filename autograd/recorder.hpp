// Intermediate dumps: a recorder that any op or module can hand a named tensor to.
//
// Off by default. While a Recorder is started, `ag::record("layers.0.attn.q", q, "matmul", "...")`
// writes the value to an HDF5 file at once and, when the Var requires grad, keeps its gradient
// after backward (through retain_grad()); `write_gradients()` after the backward pass writes those
// gradients and the parameters' values and gradients. When no recorder is started, record() is one
// branch on a global pointer: nothing is formatted, copied or allocated (names are string_views).
//
// Layout (docs/dumps.md): the dotted name is split into HDF5 groups at its dots, except that a
// component made only of digits stays attached to the one before it ("layers.0" is one group):
//   layers.0.attn.q               -> /forward/layers.0/attn/q
//   its gradient                  -> /backward/layers.0/attn/q.grad
//   parameter layers.0.attn.q_proj.weight -> /parameters/layers.0/attn/q_proj/weight
//   its gradient                  -> /backward/layers.0/attn/q_proj/weight.grad
// Every dataset has the attributes shape (int64 vector), dtype, op, description, name (the dotted
// name) and order (the recording order). A name recorded twice in one recording (a module called
// twice) gets "#2", "#3", ... appended.
//
// Filtering: a comma-separated list of globs (`*` any run of characters dots included, `?` one
// character) matched against the whole dotted name; empty = record everything. Parameters are
// filtered by their full names the same way.
//
// Recording is process-wide: record from the thread that runs the forward pass.
#pragma once

#include "autograd/variable.hpp"
#include "tensor/io/hdf5_file.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stripes::ag {

class Recorder;

namespace detail {
extern Recorder* g_active_recorder;  // the started recorder, or null (the default)
void record_var(std::string_view scope, std::string_view name, const Var& value, std::string_view op,
                std::string_view description);
void record_tensor(std::string_view scope, std::string_view name, const Tensor& value, std::string_view op,
                   std::string_view description);
}  // namespace detail

// True while a recorder is started.
inline bool recorder_active() { return detail::g_active_recorder != nullptr; }

// Hands a named tensor to the started recorder (no-op when none is). `name` is a full dotted path
// ("layers.0.attn.q"); `op` the op that produced it ("softmax"); `description` one line saying what
// it is ("attention weights softmax(q kᵀ/√d) [B, H, T, T]").
inline void record(std::string_view name, const Var& value, std::string_view op, std::string_view description) {
  if (recorder_active()) detail::record_var({}, name, value, op, description);
}
inline void record(std::string_view name, const Tensor& value, std::string_view op, std::string_view description) {
  if (recorder_active()) detail::record_tensor({}, name, value, op, description);
}
// Same with the name given as a scope and a leaf, joined by "." (just `leaf` for an empty scope),
// so that callers build no string when recording is off.
inline void record(std::string_view scope, std::string_view leaf, const Var& value, std::string_view op,
                   std::string_view description) {
  if (recorder_active()) detail::record_var(scope, leaf, value, op, description);
}
inline void record(std::string_view scope, std::string_view leaf, const Tensor& value, std::string_view op,
                   std::string_view description) {
  if (recorder_active()) detail::record_tensor(scope, leaf, value, op, description);
}

// "layers.0.attn.q" -> "layers.0/attn/q" (see the layout above). Throws on an empty name or an
// empty component ("a..b").
std::string dump_group_path(std::string_view dotted_name);
// True if `name` matches one of the comma-separated globs in `filter` (an empty filter matches all).
bool name_matches_filter(std::string_view filter, std::string_view name);
bool glob_match(std::string_view pattern, std::string_view name);

class Recorder {
 public:
  struct Entry {
    std::string name;          // dotted name (with "#k" for repeats)
    std::string dataset_path;  // "/forward/..."
    std::string op;
    std::string description;
    Var var;                   // kept until write_gradients() when it requires grad
    bool finite = true;        // the forward value had no NaN/Inf
  };

  // Creates (truncates) the HDF5 file at `path`. `filter`: see above.
  explicit Recorder(const std::string& path, std::string filter = {});
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // Makes this the started recorder (one at a time) / stops it. The destructor stops it.
  void start();
  void stop();
  bool started() const { return detail::g_active_recorder == this; }

  bool matches(std::string_view name) const { return name_matches_filter(filter_, name); }
  void record(std::string_view name, const Var& value, std::string_view op, std::string_view description);
  void record(std::string_view name, const Tensor& value, std::string_view op, std::string_view description);

  // After backward: writes the gradient of every recorded Var that has one to /backward/...grad,
  // and each parameter that passes the filter to /parameters/<path> (value) and
  // /backward/<path>.grad (gradient, when it has one). Releases the kept Vars.
  void write_gradients(const std::vector<std::pair<std::string, Var>>& parameters = {});

  // A string / integer / float attribute on the file's root (step, seed, configuration, ...).
  void write_root_attribute(const std::string& name, const std::string& value);
  void write_root_attribute(const std::string& name, int64_t value);
  void write_root_attribute(const std::string& name, double value);

  // The recorded forward entries, in recording order.
  const std::vector<Entry>& entries() const { return entries_; }
  // The first recorded forward value that holds a NaN or Inf (null if none).
  const Entry* first_non_finite() const;
  const std::string& path() const { return path_; }
  const std::string& filter() const { return filter_; }
  // Flushes and closes the file (also done by the destructor).
  void close();

 private:
  std::string unique_name(std::string_view name);
  io::Hdf5File& require_open();
  void write(const std::string& dataset_path, const std::string& name, const Tensor& value, std::string_view op,
             std::string_view description, int64_t order);

  std::string path_;
  std::unique_ptr<io::Hdf5File> file_;  // null once closed
  std::string filter_;
  std::vector<Entry> entries_;
  std::vector<std::pair<std::string, int>> seen_names_;  // name -> times recorded
  int64_t written_ = 0;
};

// Starts `recorder` for the lifetime of the scope:  { RecordingScope scope(recorder); forward... }
class RecordingScope {
 public:
  explicit RecordingScope(Recorder& recorder) : recorder_(recorder) { recorder_.start(); }
  ~RecordingScope() { recorder_.stop(); }
  RecordingScope(const RecordingScope&) = delete;
  RecordingScope& operator=(const RecordingScope&) = delete;

 private:
  Recorder& recorder_;
};

}  // namespace stripes::ag
