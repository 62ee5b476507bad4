// The melody-harmonization model, its training and evaluation (experiments/harmonization/).
// Model tests use random inputs; the training / evaluation tests use a handful of real POP909 songs
// and skip when the data is absent.
#include "data/pop909/data_root.hpp"
#include "data/pop909/pop909_dataset.hpp"
#include "experiments/harmonization/harmonize.hpp"
#include "experiments/harmonization/model.hpp"
#include "experiments/harmonization/paper_results.hpp"
#include "experiments/harmonization/training.hpp"
#include "tensor/error.hpp"
#include "tensor/math.hpp"

#include "tests/experiments/harmonization_fixtures.hpp"
#include "tests/support/run_stripes.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <string>
#include <sys/wait.h>

namespace stripes::harmonization {
using stripes::test::CommandResult;
using stripes::test::run_stripes;
using namespace stripes::harmonization::test;

namespace {

namespace fs = std::filesystem;

Tensor random_positions(const HarmonizationConfig& config, int64_t batch, int64_t steps, uint64_t seed) {
  Generator generator(seed);
  const int64_t width = config.position_dim();
  const Tensor uniform = width == 1 ? Tensor::rand({batch, steps}, generator) : Tensor::rand({batch, steps, width}, generator);
  std::vector<float> values = uniform.to_vector<float>();
  for (float& v : values) v = width == 12 ? float(v < 0.3f) : float(int(v * 8));  // chroma bits or small tokens
  return width == 1 ? Tensor::from_vector(values, {batch, steps}) : Tensor::from_vector(values, {batch, steps, width});
}

Tensor random_binary(const Shape& shape, double p, uint64_t seed) {
  Generator generator(seed);
  return Tensor::bernoulli(shape, p, generator);
}

TEST(HarmonizationModel, ForwardMapsMelodyToThreeTrackLogits) {
  for (const auto& [pe, context] : std::vector<std::pair<std::string, std::string>>{
           {"ropepool", "BIN"}, {"rope-c", "BIN"}, {"ape", "TIME"}, {"fstripe1", "KEY"}}) {
    const HarmonizationConfig config = tiny_config(pe, context);
    HarmonizationModel model(config);
    const Tensor input = random_binary({2, 12, 256}, 0.05, 1);
    const ag::Var logits = model.forward(input, random_positions(config, 2, 12, 2));
    EXPECT_EQ(logits.shape(), (Shape{2, 12, 384})) << pe;
    EXPECT_TRUE(std::isfinite(max_abs(logits.value()))) << pe;
  }
}

TEST(HarmonizationModel, IsCausal) {
  HarmonizationConfig config = tiny_config("ropepool", "BIN");
  HarmonizationModel model(config);
  model.eval();
  Tensor input = random_binary({1, 10, 256}, 0.05, 3);
  const Tensor positions = random_positions(config, 1, 10, 4);
  const Tensor before = model.forward(input, positions).value().slice(1, 0, 6).contiguous();
  Tensor changed = input.clone();
  changed.mutable_data<float>()[8 * 256 + 60] = 1.0f - changed.data<float>()[8 * 256 + 60];
  const Tensor after = model.forward(changed, positions).value().slice(1, 0, 6).contiguous();
  EXPECT_EQ(max_abs(sub(before, after)), 0.0);
}

TEST(HarmonizationModel, GradientsReachEveryParameter) {
  for (const auto& [pe, context] : std::vector<std::pair<std::string, std::string>>{
           {"ropepool", "BIN"}, {"rope-c", "BIN"}, {"ape", "TIME"}}) {
    const HarmonizationConfig config = tiny_config(pe, context);
    HarmonizationModel model(config);
    const Tensor input = random_binary({2, 16, 256}, 0.1, 5);
    const Tensor target = random_binary({2, 16, 384}, 0.1, 6);
    ag::Var loss = model.loss(input, target, random_positions(config, 2, 16, 7));
    EXPECT_TRUE(std::isfinite(loss.item()));
    loss.backward();
    const nn::NamedParameters parameters = model.named_parameters();
    EXPECT_FALSE(parameters.empty());
    for (const auto& [name, parameter] : parameters) {
      ASSERT_TRUE(parameter.grad().defined()) << pe << ": no gradient for " << name;
      EXPECT_GT(max_abs(parameter.grad()), 0.0) << pe << ": zero gradient for " << name;
    }
  }
}

TEST(HarmonizationConfig, JsonRoundTripAndPresets) {
  HarmonizationConfig config = preset_config("small");
  config.pe = "rope-c";
  config.context = "KEY";
  config.seed = 7;
  config.learning_rate = 3e-4;
  config.grid_search = false;
  nlohmann::json json;
  to_json(json, config);
  HarmonizationConfig back;
  from_json(nlohmann::json::parse(json.dump()), back);
  nlohmann::json again;
  to_json(again, back);
  EXPECT_EQ(json, again);
  EXPECT_EQ(back.pe, "rope-c");
  EXPECT_EQ(back.seed, 7u);
  EXPECT_FALSE(back.grid_search);

  const HarmonizationConfig paper = preset_config("paper");
  EXPECT_EQ(paper.d_model, 512);
  EXPECT_EQ(paper.heads, 4);
  EXPECT_EQ(paper.layers, 2);
  EXPECT_EQ(paper.d_ff, 512);
  EXPECT_EQ(paper.features, 128);
  EXPECT_EQ(paper.batch_size, 8);
  EXPECT_EQ(paper.sequence_length, 1024);
  EXPECT_FALSE(paper.pre_norm);
  EXPECT_NO_THROW(paper.validate());
  EXPECT_NO_THROW(preset_config("small").validate());

  json["learning_rat"] = 1;
  EXPECT_NE(error_of([&] { from_json(json, back); }).find("unknown key 'learning_rat'"), std::string::npos);
}

TEST(HarmonizationConfig, BadOptionsGiveClearErrors) {
  HarmonizationConfig config = preset_config("small");
  config.pe = "rope-d";
  std::string message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("rope-d"), std::string::npos) << message;
  EXPECT_NE(message.find("ropepool"), std::string::npos) << message;  // lists the valid names

  config = preset_config("small");
  config.context = "CHORD";
  message = error_of([&] { config.validate(); });
  EXPECT_NE(message.find("CHORD"), std::string::npos) << message;
  EXPECT_NE(message.find("BIN"), std::string::npos) << message;

  config = preset_config("small");
  config.pe = "stripe";
  EXPECT_NE(error_of([&] { config.validate(); }).find("softmax"), std::string::npos);
  config.attention = "softmax";
  EXPECT_NO_THROW(config.validate());

  config = preset_config("small");
  config.pe = "ape";
  EXPECT_NE(error_of([&] { config.validate(); }).find("scalar context"), std::string::npos);

  config = preset_config("small");
  config.d_model = 30;
  EXPECT_NE(error_of([&] { config.validate(); }).find("d_model"), std::string::npos);

  EXPECT_NE(error_of([] { preset_config("huge"); }).find("small"), std::string::npos);
}

TEST(HarmonizationPaper, TableRowsAreThere) {
  const auto row = find_paper_result("bin", "ropepool");
  ASSERT_TRUE(row.has_value());
  EXPECT_DOUBLE_EQ(row->in_domain[0], 25.83);
  EXPECT_DOUBLE_EQ(row->in_domain[3], 76.73);
  EXPECT_DOUBLE_EQ(find_paper_result("BIN", "rope-c")->in_domain[0], 22.14);
  EXPECT_FALSE(find_paper_result("MCP", "ropepool").has_value());
  EXPECT_EQ(paper_results().size(), 20u);
}

TEST(HarmonizationData, EvenlySpacedIndices) {
  EXPECT_EQ(evenly_spaced_indices(5, 0), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(evenly_spaced_indices(10, 5), (std::vector<int64_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(evenly_spaced_indices(3, 10).size(), 3u);
}

// ---- with data ---------------------------------------------------------------------------------------

TEST(HarmonizationTraining, TinyRunLowersTheLossAndEvalWritesMetrics) {
  SKIP_WITHOUT_DATA(root);
  const HarmonizationData data = handful_of_songs(root, 1);
  HarmonizationConfig config = tiny_run_config("ropepool", "BIN");
  config.d_model = 32;
  config.d_ff = 32;
  config.steps = 40;
  config.learning_rate = 3e-3;
  config.warmup_steps = 5;
  config.curriculum_ramp_steps = 0;
  TemporaryFolder run("harmonization");
  TrainRunOptions options;
  options.run_dir = run.path();
  options.progress = false;
  const TrainResult result = train_harmonization(config, data, options);
  ASSERT_EQ(result.losses.size(), 40u);
  const double first = std::accumulate(result.losses.begin(), result.losses.begin() + 5, 0.0) / 5;
  const double last = std::accumulate(result.losses.end() - 5, result.losses.end(), 0.0) / 5;
  EXPECT_LT(last, 0.5 * first) << "first " << first << " last " << last;
  for (const char* file : {"config.json", "train_log.csv", "checkpoint.h5", "train_summary.json"}) {
    EXPECT_TRUE(fs::exists(fs::path(run.path()) / file)) << file;
  }
  // The log has a header and one line per step.
  std::ifstream log(fs::path(run.path()) / "train_log.csv");
  int lines = 0;
  for (std::string line; std::getline(log, line);) ++lines;
  EXPECT_EQ(lines, 41);

  // The run directory rebuilds the same config and model.
  const HarmonizationConfig stored = read_run_config(run.path());
  EXPECT_EQ(stored.pe, "ropepool");
  EXPECT_EQ(stored.steps, 40);

  EvalOptions eval;
  eval.progress = false;
  const EvalResult scores = evaluate_run(run.path(), data, eval);
  EXPECT_EQ(scores.windows, 4);
  EXPECT_TRUE(scores.grid_searched);
  std::ifstream in(fs::path(run.path()) / "metrics.json");
  const nlohmann::json metrics = nlohmann::json::parse(in);
  for (const char* metric : {"CS", "SSMD", "GS", "NDD"}) {
    ASSERT_TRUE(metrics["in_domain"]["scores"].contains(metric)) << metric;
    EXPECT_TRUE(std::isfinite(metrics["in_domain"]["scores"][metric].get<double>())) << metric;
  }
  EXPECT_EQ(metrics["paper"]["label"], "RoPEPool");
  EXPECT_EQ(metrics["scoring"]["tracks"], "piano");
  EXPECT_EQ(metrics["in_domain"]["sequence_length"], 64);
  EXPECT_FALSE(metrics.contains("length_generalization"));

  // A longer test window is length generalization; it joins the in-domain entry in metrics.json.
  eval.sequence_length = 128;
  eval.max_windows = 2;
  evaluate_run(run.path(), data, eval);
  std::ifstream in_again(fs::path(run.path()) / "metrics.json");
  const nlohmann::json both = nlohmann::json::parse(in_again);
  EXPECT_EQ(both["in_domain"], metrics["in_domain"]);
  EXPECT_EQ(both["length_generalization"]["sequence_length"], 128);
  EXPECT_EQ(both["length_generalization"]["windows"], 2);

  // Harmonize one test window and write it as MIDI.
  const std::shared_ptr<HarmonizationModel> model = load_run_model(run.path());
  HarmonizeOptions harmonize;
  harmonize.binarization = metrics::BinarizationConfig{0.2, 0};
  const HarmonizeResult harmonized = harmonize_window(*model, data, harmonize);
  ASSERT_EQ(harmonized.midi.tracks.size(), 6u);
  EXPECT_EQ(harmonized.midi.tracks[0].name, "MELODY");
  EXPECT_EQ(harmonized.midi.tracks[2].name, "PIANO (model)");
  EXPECT_EQ(harmonized.sequence_length, 64);
  const std::string midi_path = (fs::path(run.path()) / "h.mid").string();
  midi::write_midi(harmonized.midi, midi_path);
  const midi::MidiFile back = midi::read_midi(midi_path);
  EXPECT_EQ(back.ticks_per_quarter, 16);
  EXPECT_EQ(back.note_count(), harmonized.midi.note_count());
}

TEST(HarmonizationTraining, ResumedRunIsBitIdenticalToAnUninterruptedOne) {
  SKIP_WITHOUT_DATA(root);
  const HarmonizationData data = handful_of_songs(root, 1);
  // spe-sine draws noise and random features every step: both generators must be restored.
  for (const std::string pe : {"ropepool", "spe-sine"}) {
    HarmonizationConfig config = tiny_config(pe, pe == "spe-sine" ? "TIME" : "BIN");
    config.sequence_length = 32;
    config.batch_size = 2;
    config.max_train_windows = 8;
    config.steps = 12;
    config.dropout = 0.1;
    config.checkpoint_every = 5;
    config.curriculum_ramp_steps = 8;

    TemporaryFolder whole("harmonization-whole"), interrupted("harmonization-interrupted");
    TrainRunOptions options;
    options.progress = false;
    options.run_dir = whole.path();
    const TrainResult reference = train_harmonization(config, data, options);

    // Interrupted after step 7: the checkpoint holds 5 steps, the log 7 rows.
    options.run_dir = interrupted.path();
    options.on_step = [](int64_t done, double) {
      if (done == 7) throw std::runtime_error("interrupted");
    };
    EXPECT_THROW(train_harmonization(config, data, options), std::runtime_error);
    options.on_step = nullptr;
    EXPECT_NE(error_of([&] { train_harmonization(config, data, options); }).find("--resume"), std::string::npos);

    options.resume = true;
    const TrainResult resumed = train_harmonization(config, data, options);
    EXPECT_EQ(resumed.resumed_from, 5) << pe;
    ASSERT_EQ(resumed.losses.size(), reference.losses.size()) << pe;
    for (size_t i = 0; i < reference.losses.size(); ++i) EXPECT_EQ(resumed.losses[i], reference.losses[i]) << pe << " step " << i;
    std::ifstream log(fs::path(interrupted.path()) / "train_log.csv");
    int lines = 0;
    for (std::string line; std::getline(log, line);) ++lines;
    EXPECT_EQ(lines, 13) << pe;

    // A finished run resumes to nothing; another configuration is refused, naming the field.
    EXPECT_EQ(train_harmonization(config, data, options).resumed_from, 12);
    config.learning_rate *= 2;
    EXPECT_NE(error_of([&] { train_harmonization(config, data, options); }).find("learning_rate"), std::string::npos);
  }
}

TEST(HarmonizationMidi, PianorollRunsBecomeNotes) {
  std::vector<float> roll(6 * 128, 0.0f);
  for (int t : {1, 2, 4}) roll[size_t(t * 128 + 60)] = 1.0f;
  roll[size_t(5 * 128 + 64)] = 1.0f;
  const std::vector<midi::Note> notes = pianoroll_notes(Tensor::from_vector(roll, {6, 128}), 10);
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_EQ(notes[0].pitch, 60);
  EXPECT_EQ(notes[0].start_tick, 11);
  EXPECT_EQ(notes[0].end_tick, 13);
  EXPECT_EQ(notes[1].start_tick, 14);
  EXPECT_EQ(notes[1].end_tick, 15);
  EXPECT_EQ(notes[2].pitch, 64);
  EXPECT_EQ(notes[2].end_tick, 16);
}

// ---- the CLI -------------------------------------------------------------------------------------------

#ifdef STRIPES_BINARY
TEST(HarmonizationCli, BadOptionsFailWithTheValidNames) {
  auto [code, output] = run_stripes("train --pe rope-z --context bin --run-dir /nonexistent/x");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("rope-z"), std::string::npos) << output;
  EXPECT_NE(output.find("ropepool"), std::string::npos) << output;

  std::tie(code, output) = run_stripes("train --pe ropepool --context chords --run-dir /nonexistent/x");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("BIN"), std::string::npos) << output;

  std::tie(code, output) = run_stripes("train --preset huge");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("small"), std::string::npos) << output;

  std::tie(code, output) = run_stripes("eval /nonexistent/run");
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("not a run directory"), std::string::npos) << output;
}
#endif

}  // namespace
}  // namespace stripes::harmonization
