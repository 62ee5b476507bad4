#include "nn/checkpoint.hpp"

#include "autograd/recorder.hpp"
#include "tensor/io/tensor_io.hpp"

#include <filesystem>
#include <set>

namespace stripes::nn {

namespace {

constexpr const char* kFormat = "stripes-checkpoint";
constexpr int64_t kVersion = 1;

void require_checkpoint(const io::Hdf5File& file) {
  STRIPES_CHECK(file.has_attribute("/", "format") && file.read_string_attribute("/", "format") == kFormat,
                "checkpoint {}: not a stripes checkpoint (no format = \"{}\" attribute on the root)", file.path(),
                kFormat);
  const int64_t version = file.read_int_attribute("/", "version");
  STRIPES_CHECK(version == kVersion, "checkpoint {}: version {} is not supported (this build reads version {})",
                file.path(), version, kVersion);
}

// Dotted names (the "name" attribute) of every dataset under `group`, recursively.
void collect_dataset_names(const io::Hdf5File& file, const std::string& group, std::set<std::string>& names) {
  for (const std::string& child : file.list_children(group)) {
    const std::string path = group + "/" + child;
    if (file.is_group(path)) {
      collect_dataset_names(file, path, names);
    } else {
      names.insert(file.has_attribute(path, "name") ? file.read_string_attribute(path, "name") : path);
    }
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const Module& model, const Optimizer* optimizer,
                     const TrainingState& state, const NamedGenerators& generators, const nlohmann::json& config) {
  const std::string temporary = path + ".tmp";
  {
    io::Hdf5File file(temporary, io::OpenMode::kTruncate);
    file.write_attribute("/", "format", kFormat);
    file.write_attribute("/", "version", kVersion);
    file.write_attribute("/", "step", state.step);
    file.write_attribute("/", "epoch", state.epoch);
    file.write_attribute("/", "config", config.dump());
    file.create_group("/parameters");
    for (const auto& [name, parameter] : model.named_parameters()) {
      io::save_tensor(file, "/parameters/" + ag::dump_group_path(name), parameter.value(), {{"name", name}});
    }
    if (optimizer) optimizer->save_state(file, "/optimizer");
    file.create_group("/rng");
    for (const auto& [name, generator] : generators) {
      STRIPES_CHECK(generator != nullptr, "checkpoint {}: generator '{}' is null", path, name);
      file.write_dataset<uint64_t>("/rng/" + name, {2}, std::vector<uint64_t>{generator->seed(), generator->offset()});
    }
    file.flush();
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  STRIPES_CHECK(!error, "checkpoint {}: cannot rename {} to it: {}", path, temporary, error.message());
}

nlohmann::json read_checkpoint_config(const std::string& path) {
  const io::Hdf5File file(path, io::OpenMode::kRead);
  require_checkpoint(file);
  const std::string text = file.read_string_attribute("/", "config");
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw_error("checkpoint {}: the config attribute is not valid JSON: {}", path, e.what());
  }
}

nlohmann::json load_checkpoint(const std::string& path, Module& model, Optimizer* optimizer, TrainingState* state,
                               const NamedGenerators& generators) {
  STRIPES_CHECK(std::filesystem::exists(path), "checkpoint {}: no such file", path);
  const nlohmann::json config = read_checkpoint_config(path);
  const io::Hdf5File file(path, io::OpenMode::kRead);
  require_checkpoint(file);
  STRIPES_CHECK(file.is_group("/parameters"), "checkpoint {}: no /parameters group", path);

  // 1. Read and check everything.
  const NamedParameters parameters = model.named_parameters();
  std::vector<Tensor> values;
  std::set<std::string> expected;
  for (const auto& [name, parameter] : parameters) {
    expected.insert(name);
    values.push_back(io::load_tensor_expecting(file, "/parameters/" + ag::dump_group_path(name), parameter.shape(),
                                               parameter.dtype(), fmt::format("checkpoint {}: parameter '{}'", path, name)));
  }
  std::set<std::string> stored;
  collect_dataset_names(file, "/parameters", stored);
  for (const std::string& name : stored) {
    STRIPES_CHECK(expected.count(name), "checkpoint {}: parameter '{}' is in the checkpoint but not in the model", path,
                  name);
  }
  std::vector<std::pair<uint64_t, uint64_t>> generator_states;
  for (const auto& [name, generator] : generators) {
    const std::string dataset = "/rng/" + name;
    STRIPES_CHECK(file.is_dataset(dataset), "checkpoint {}: generator '{}' is missing (no dataset '{}')", path, name,
                  dataset);
    const std::vector<uint64_t> seed_offset = file.read_dataset<uint64_t>(dataset);
    STRIPES_CHECK(seed_offset.size() == 2, "checkpoint {}: generator '{}' holds {} values, expected (seed, offset)",
                  path, name, seed_offset.size());
    generator_states.emplace_back(seed_offset[0], seed_offset[1]);
  }
  // The optimizer validates its own state before replacing it.
  if (optimizer) optimizer->load_state(file, "/optimizer");

  // 2. Apply.
  for (size_t i = 0; i < parameters.size(); ++i) {
    ag::Var parameter = parameters[i].second;
    parameter.mutable_value().copy_(values[i].to(parameter.value().device()));
  }
  for (size_t i = 0; i < generators.size(); ++i) {
    generators[i].second->set_state(generator_states[i].first, generator_states[i].second);
  }
  if (state) {
    state->step = file.read_int_attribute("/", "step");
    state->epoch = file.read_int_attribute("/", "epoch");
  }
  return config;
}

}  // namespace stripes::nn
