// HDF5 checkpoints (nn/checkpoint.hpp): a resumed run is bit-identical to an uninterrupted one,
// and corrupt or mismatched checkpoints fail with errors that name the parameter.
#include "autograd/ops.hpp"
#include "nn/checkpoint.hpp"
#include "nn/toy_task.hpp"
#include "tests/nn/toy_fixtures.hpp"

#include <gtest/gtest.h>
#include <omp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace {

using namespace stripes;
using namespace stripes::nn;

std::string temp_path(const std::string& stem) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (std::filesystem::temp_directory_path() /
          (std::string("stripes_test_") + stem + "_" + info->name() + "_" + std::to_string(::getpid()) + ".h5"))
      .string();
}

template <typename Statement>
void expect_error_mentions(Statement statement, const std::vector<std::string>& parts) {
  try {
    statement();
    ADD_FAILURE() << "expected stripes::Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message << "\nmissing: " << part;
  }
}

TEST(Checkpoint, ResumingGivesBitIdenticalLosses) {
  omp_set_num_threads(1);
  const std::string path = temp_path("resume");
  ToyExperiment uninterrupted(test::resumable_toy_options(), test::quiet_trainer());
  uninterrupted.train(7);
  uninterrupted.save_checkpoint(path);
  const std::vector<double> expected = uninterrupted.train(6);

  ToyExperiment resumed(test::resumable_toy_options(), test::quiet_trainer());
  resumed.load_checkpoint(path);
  EXPECT_EQ(resumed.trainer().step(), 7);
  EXPECT_EQ(resumed.trainer().epoch(), 1);
  const std::vector<double> losses = resumed.train(6);
  ASSERT_EQ(losses.size(), expected.size());
  for (size_t i = 0; i < losses.size(); ++i) EXPECT_EQ(losses[i], expected[i]) << "step " << 7 + i;  // bit for bit
  const auto a = uninterrupted.model().named_parameters(), b = resumed.model().named_parameters();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(max_abs(a[i].second.value() - b[i].second.value()), 0.0) << a[i].first;

  // The comparison can fail: a run that lost the dropout generator's state diverges at once.
  ToyExperiment forgetful(test::resumable_toy_options(), test::quiet_trainer());
  forgetful.load_checkpoint(path);
  forgetful.trainer().generators().at(1).second->set_state(7 + 2000003, 0);
  EXPECT_NE(forgetful.train(1).front(), expected.front());
  std::filesystem::remove(path);
}

TEST(Checkpoint, StoresTheConfigurationAndTheLayout) {
  omp_set_num_threads(1);
  const std::string path = temp_path("layout");
  ToyExperiment experiment(test::resumable_toy_options(), test::quiet_trainer());
  experiment.train(2);
  experiment.save_checkpoint(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  const ToyTaskOptions stored = ToyExperiment::options_from_checkpoint(path);
  EXPECT_EQ(nlohmann::json(stored), nlohmann::json(experiment.options()));
  const io::Hdf5File file(path, io::OpenMode::kRead);
  EXPECT_EQ(file.read_int_attribute("/", "step"), 2);
  EXPECT_TRUE(file.is_dataset("/parameters/layers.0/attn/q_proj/weight"));
  EXPECT_TRUE(file.is_dataset("/optimizer/m/layers.1/ff/linear2/bias"));
  EXPECT_TRUE(file.is_dataset("/optimizer/v/embedding/weight"));
  EXPECT_EQ(file.read_string_attribute("/optimizer", "type"), "adam");
  EXPECT_EQ(file.read_int_attribute("/optimizer", "step_count"), 2);
  EXPECT_EQ(file.read_dataset<uint64_t>("/rng/dropout").size(), 2u);
  EXPECT_EQ(file.read_dataset<uint64_t>("/rng/data")[0], 7u + 1000003u);
  std::filesystem::remove(path);
}

// A standalone model for the mismatch tests.
std::shared_ptr<TransformerEncoder> make_model(int64_t d_ff, bool final_norm) {
  TransformerConfig config;
  config.input_dim = 3;
  config.d_model = 4;
  config.num_heads = 2;
  config.d_ff = d_ff;
  config.num_layers = 1;
  config.dropout = 0;
  config.final_norm = final_norm;
  config.output_dim = 2;
  Generator init(1);
  return std::make_shared<TransformerEncoder>(config, softmax_attention_factory(config, init, nullptr), init, nullptr);
}

TEST(Checkpoint, MismatchedCheckpointsNameTheParameterAndChangeNothing) {
  const std::string path = temp_path("mismatch");
  const auto saved = make_model(6, false);
  save_checkpoint(path, *saved, nullptr, {3, 0}, {}, {{"note", "test"}});

  const auto wider = make_model(8, false);
  const Tensor before = wider->parameter("layers.0.ff.linear1.weight").value().clone();
  expect_error_mentions([&] { load_checkpoint(path, *wider, nullptr, nullptr, {}); },
                        {"parameter 'layers.0.ff.linear1.weight'", "[6, 4]", "[8, 4]", path});
  EXPECT_EQ(max_abs(wider->parameter("layers.0.ff.linear1.weight").value() - before), 0.0);  // untouched

  const auto with_norm = make_model(6, true);
  expect_error_mentions([&] { load_checkpoint(path, *with_norm, nullptr, nullptr, {}); },
                        {"parameter 'final_norm.weight'", "missing"});

  const std::string path_with_norm = temp_path("with_norm");
  save_checkpoint(path_with_norm, *with_norm, nullptr, {}, {}, {});
  const auto without_norm = make_model(6, false);
  expect_error_mentions([&] { load_checkpoint(path_with_norm, *without_norm, nullptr, nullptr, {}); },
                        {"'final_norm.", "in the checkpoint but not in the model"});

  // A generator the caller expects but the file lacks; an optimizer of another type.
  auto generator = std::make_shared<Generator>(1);
  expect_error_mentions([&] { load_checkpoint(path, *saved, nullptr, nullptr, {{"dropout", generator}}); },
                        {"generator 'dropout'", "missing"});
  Adam adam(saved->named_parameters());
  const std::string path_adam = temp_path("adam");
  save_checkpoint(path_adam, *saved, &adam, {}, {}, {});
  AdamW adamw(saved->named_parameters());
  expect_error_mentions([&] { load_checkpoint(path_adam, *saved, &adamw, nullptr, {}); }, {"'adam'", "'adamw'"});
  TrainingState state;
  EXPECT_NO_THROW(load_checkpoint(path, *saved, nullptr, &state, {}));
  EXPECT_EQ(state.step, 3);
  for (const auto& p : {path, path_with_norm, path_adam}) std::filesystem::remove(p);
}

TEST(Checkpoint, CorruptFilesAreRefusedWithTheFileName) {
  const std::string garbage = temp_path("garbage");
  std::ofstream(garbage) << "this is not an HDF5 file";
  const auto model = make_model(6, false);
  expect_error_mentions([&] { load_checkpoint(garbage, *model, nullptr, nullptr, {}); }, {garbage});
  expect_error_mentions([&] { load_checkpoint(temp_path("absent"), *model, nullptr, nullptr, {}); }, {"no such file"});
  const std::string other = temp_path("other");
  { io::Hdf5File file(other, io::OpenMode::kTruncate); }
  expect_error_mentions([&] { load_checkpoint(other, *model, nullptr, nullptr, {}); }, {"not a stripes checkpoint"});
  // A checkpoint of another experiment's config is refused before touching the model.
  ToyTaskOptions options = test::resumable_toy_options();
  const std::string toy = temp_path("toy");
  ToyExperiment(options, test::quiet_trainer()).save_checkpoint(toy);
  options.model.d_ff = 32;
  ToyExperiment different(options, test::quiet_trainer());
  expect_error_mentions([&] { different.load_checkpoint(toy); }, {"model.d_ff", "24", "32"});
  for (const auto& p : {garbage, other, toy}) std::filesystem::remove(p);
}

}  // namespace
