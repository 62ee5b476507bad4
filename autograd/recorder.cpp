// The recorder of intermediate tensors; see recorder.hpp for the layout and the filter syntax.
#include "autograd/recorder.hpp"

#include "tensor/io/tensor_io.hpp"
#include "tensor/math.hpp"

#include <fmt/format.h>

namespace stripes::ag {

namespace detail {

Recorder* g_active_recorder = nullptr;

namespace {
std::string joined(std::string_view scope, std::string_view name) {
  std::string full;
  full.reserve(scope.size() + 1 + name.size());
  full.append(scope);
  if (!scope.empty()) full.push_back('.');
  full.append(name);
  return full;
}
}  // namespace

void record_var(std::string_view scope, std::string_view name, const Var& value, std::string_view op,
                std::string_view description) {
  if (g_active_recorder) g_active_recorder->record(joined(scope, name), value, op, description);
}
void record_tensor(std::string_view scope, std::string_view name, const Tensor& value, std::string_view op,
                   std::string_view description) {
  if (g_active_recorder) g_active_recorder->record(joined(scope, name), value, op, description);
}

}  // namespace detail

// ---- names ---------------------------------------------------------------------------------------

static bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::string dump_group_path(std::string_view dotted_name) {
  STRIPES_CHECK(!dotted_name.empty(), "recorder: empty tensor name");
  std::vector<std::string_view> components;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted_name.find('.', start);
    const std::string_view part = dotted_name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    STRIPES_CHECK(!part.empty(), "recorder: tensor name '{}' has an empty component", dotted_name);
    components.push_back(part);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  std::string path;
  for (size_t i = 0; i < components.size(); ++i) {
    if (i > 0) path.push_back(all_digits(components[i]) ? '.' : '/');
    path.append(components[i]);
  }
  return path;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  // Iterative wildcard matching with backtracking to the last '*'.
  size_t p = 0, n = 0, star = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == name[n])) {
      ++p;
      ++n;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_n = n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++star_n;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool name_matches_filter(std::string_view filter, std::string_view name) {
  if (filter.empty()) return true;
  size_t start = 0;
  while (start <= filter.size()) {
    const size_t comma = filter.find(',', start);
    std::string_view pattern = filter.substr(start, comma == std::string_view::npos ? comma : comma - start);
    while (!pattern.empty() && pattern.front() == ' ') pattern.remove_prefix(1);
    while (!pattern.empty() && pattern.back() == ' ') pattern.remove_suffix(1);
    if (!pattern.empty() && glob_match(pattern, name)) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

// ---- Recorder ------------------------------------------------------------------------------------

Recorder::Recorder(const std::string& path, std::string filter)
    : path_(path), file_(std::make_unique<io::Hdf5File>(path, io::OpenMode::kTruncate)), filter_(std::move(filter)) {
  file_->write_attribute("/", "format", "stripes-dump");
  file_->write_attribute("/", "filter", filter_.empty() ? std::string("*") : filter_);
}

Recorder::~Recorder() {
  stop();
  try {
    close();
  } catch (...) {
    // a destructor must not throw; close() explicitly to see the error
  }
}

void Recorder::start() {
  STRIPES_CHECK(detail::g_active_recorder == nullptr || detail::g_active_recorder == this,
                "recorder: cannot start recording to {}: a recording to {} is already running", path(),
                detail::g_active_recorder ? detail::g_active_recorder->path() : std::string());
  STRIPES_CHECK(file_ != nullptr, "recorder: {} was closed", path());
  detail::g_active_recorder = this;
}

void Recorder::stop() {
  if (detail::g_active_recorder == this) detail::g_active_recorder = nullptr;
}

void Recorder::close() {
  stop();
  entries_.clear();  // releases the kept graphs
  if (file_) file_->flush();
  file_.reset();
}

io::Hdf5File& Recorder::require_open() {
  STRIPES_CHECK(file_ != nullptr, "recorder: {} was closed", path());
  return *file_;
}

std::string Recorder::unique_name(std::string_view name) {
  for (auto& [seen, count] : seen_names_) {
    if (seen == name) return fmt::format("{}#{}", name, ++count);
  }
  seen_names_.emplace_back(std::string(name), 1);
  return std::string(name);
}

void Recorder::write(const std::string& dataset_path, const std::string& name, const Tensor& value,
                     std::string_view op, std::string_view description, int64_t order) {
  require_open();
  STRIPES_CHECK(!file_->is_group(dataset_path),
                "recorder: cannot write '{}' to {}: '{}' is already a group (a module of that name recorded "
                "tensors under it); record it under a leaf name such as '{}.out'",
                name, path(), dataset_path, name);
  io::save_tensor(*file_, dataset_path, value,
                  {{"op", std::string(op)}, {"description", std::string(description)}, {"name", name}});
  file_->write_attribute(dataset_path, "order", order);
  ++written_;
}

void Recorder::record(std::string_view name, const Var& value, std::string_view op, std::string_view description) {
  if (!matches(name)) return;
  STRIPES_CHECK(value.defined(), "recorder: '{}' is an undefined Var", name);
  Entry entry;
  entry.name = unique_name(name);
  entry.dataset_path = "/forward/" + dump_group_path(entry.name);
  entry.op = op;
  entry.description = description;
  entry.finite = !is_floating(value.dtype()) || all_finite(value.value());
  write(entry.dataset_path, entry.name, value.value(), op, description, int64_t(entries_.size()));
  if (value.requires_grad()) {
    entry.var = value;
    if (!value.is_leaf()) entry.var.retain_grad();
  }
  entries_.push_back(std::move(entry));
}

void Recorder::record(std::string_view name, const Tensor& value, std::string_view op, std::string_view description) {
  if (!matches(name)) return;
  STRIPES_CHECK(value.defined(), "recorder: '{}' is an undefined tensor", name);
  Entry entry;
  entry.name = unique_name(name);
  entry.dataset_path = "/forward/" + dump_group_path(entry.name);
  entry.op = op;
  entry.description = description;
  entry.finite = !is_floating(value.dtype()) || all_finite(value);
  write(entry.dataset_path, entry.name, value, op, description, int64_t(entries_.size()));
  entries_.push_back(std::move(entry));
}

void Recorder::write_gradients(const std::vector<std::pair<std::string, Var>>& parameters) {
  int64_t order = 0;
  for (Entry& entry : entries_) {
    if (entry.var.defined() && entry.var.grad().defined()) {
      write("/backward/" + dump_group_path(entry.name) + ".grad", entry.name + ".grad", entry.var.grad(),
            "grad of " + entry.op, fmt::format("gradient of the loss with respect to {}", entry.name), order++);
    }
    entry.var = Var();  // release the graph
  }
  int64_t parameter_order = 0;
  for (const auto& [name, parameter] : parameters) {
    if (!matches(name)) continue;
    const std::string group_path = dump_group_path(name);
    write("/parameters/" + group_path, name, parameter.value(), "parameter", "parameter value", parameter_order++);
    if (parameter.grad().defined()) {
      write("/backward/" + group_path + ".grad", name + ".grad", parameter.grad(), "grad of parameter",
            fmt::format("gradient of the loss with respect to the parameter {}", name), order++);
    }
  }
  require_open().flush();
}

void Recorder::write_root_attribute(const std::string& name, const std::string& value) {
  require_open().write_attribute("/", name, value);
}
void Recorder::write_root_attribute(const std::string& name, int64_t value) { require_open().write_attribute("/", name, value); }
void Recorder::write_root_attribute(const std::string& name, double value) { require_open().write_attribute("/", name, value); }

const Recorder::Entry* Recorder::first_non_finite() const {
  for (const Entry& entry : entries_) {
    if (!entry.finite) return &entry;
  }
  return nullptr;
}

}  // namespace stripes::ag
