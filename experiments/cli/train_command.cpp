// `stripes train`: train the melody-harmonization model (experiments/harmonization/) on POP909.
//
//   stripes train --pe ropepool --context bin [--seed 0] [--preset small|paper] [--run-dir runs/NAME]
//                 [--steps N] [--epochs N] [--lr X] [--attention linear|softmax] [--data DIR]
//                 [--resume | --overwrite] [--device cpu|cuda] [-q]
//
// Writes RUN_DIR/config.json, train_log.csv, checkpoint.h5, train_summary.json
// (default RUN_DIR: runs/<preset>-<pe>-<context>-s<seed>). Evaluate with `stripes eval RUN_DIR`.
#include "experiments/cli/command_registry.hpp"
#include "experiments/cli/device_option.hpp"
#include "experiments/harmonization/model.hpp"
#include "experiments/harmonization/training.hpp"
#include "nn/progress.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <optional>

namespace stripes::cli {

namespace {

struct TrainOptions {
  std::string pe = "ropepool";
  std::string context = "BIN";
  std::string preset = "small";
  std::string run_dir;
  std::string data;
  std::string attention;
  std::string device = "cpu";
  uint64_t seed = 0;
  std::optional<int64_t> steps, epochs, max_train_windows, checkpoint_every;
  std::optional<double> learning_rate;
  bool quiet = false;
  bool resume = false;
  bool overwrite = false;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

void run_train(const TrainOptions& cli) {
  const Device device = usable_device("train", cli.device);
  harmonization::HarmonizationConfig config = harmonization::preset_config(cli.preset);
  config.pe = lower(cli.pe);
  config.context = data::context_name(data::parse_context_type(cli.context));  // validates, canonical upper case
  config.seed = cli.seed;
  if (!cli.attention.empty()) config.attention = cli.attention;
  if (cli.steps) config.steps = *cli.steps;
  if (cli.epochs) {
    config.epochs = *cli.epochs;
    if (!cli.steps) config.steps = 0;
  }
  if (cli.learning_rate) config.learning_rate = *cli.learning_rate;
  if (cli.max_train_windows) config.max_train_windows = *cli.max_train_windows;
  if (cli.checkpoint_every) config.checkpoint_every = *cli.checkpoint_every;
  config.validate();
  const std::string run_dir =
      cli.run_dir.empty() ? fmt::format("runs/{}-{}-{}-s{}", config.preset, config.pe, lower(config.context), config.seed)
                          : cli.run_dir;

  const harmonization::HarmonizationData data = harmonization::load_harmonization_data(cli.data, !cli.quiet);
  const harmonization::HarmonizationModel probe(config);
  fmt::print("model: {}, {} parameters\n", probe.describe(), probe.parameter_count());
  fmt::print("preset {}: T = {}, batch {}, lr {}, warm-up {}, decay {}/epoch, clip {}, curriculum {} -> {} over {} steps\n",
             config.preset, config.sequence_length, config.batch_size, config.learning_rate, config.warmup_steps,
             config.decay_gamma, config.clip_grad_norm, config.curriculum_start, config.sequence_length,
             config.curriculum_ramp_steps);
  fmt::print("run directory: {}{}\n", run_dir, device == Device::CUDA ? fmt::format("; device: {}", cuda::device_description()) : "");
  std::fflush(stdout);

  harmonization::TrainRunOptions options;
  options.run_dir = run_dir;
  options.progress = !cli.quiet;
  options.resume = cli.resume;
  options.overwrite = cli.overwrite;
  options.device = device;
  const harmonization::TrainResult result = harmonization::train_harmonization(config, data, options);
  fmt::print("{} training windows, {} steps per epoch\n", result.train_windows, result.steps_per_epoch);
  if (result.resumed_from > 0) fmt::print("resumed from step {}\n", result.resumed_from);
  if (!result.losses.empty()) fmt::print("\n{}", nn::ascii_plot(result.losses, 60, 12));
  fmt::print("first loss {:.4f}, final loss {:.4f} (mean of the last {} steps)\n",
             result.losses.empty() ? 0.0 : result.losses.front(), result.final_loss,
             std::min<size_t>(20, result.losses.size()));
  fmt::print("{} steps in {:.1f} s ({:.0f} tokens/s); checkpoint {}\n", result.steps, result.seconds,
             result.tokens_per_second, result.checkpoint_path);
  fmt::print("next: stripes eval {}\n", run_dir);
}

}  // namespace

static void add_train_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train", "Train the melody-harmonization model (POP909) with a positional encoding and context");
  auto options = std::make_shared<TrainOptions>();
  cmd->add_option("--pe", options->pe, "Positional encoding: nope ape rope-a rope-b rope-c spe-sine spe-conv fstripe fstripe1 ropepool stripe")
      ->capture_default_str();
  cmd->add_option("--context", options->context, "Context: TIME, REP, KEY, BIN or MCP (case-insensitive)")->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed of parameters, data order, dropout and random features")->capture_default_str();
  cmd->add_option("--preset", options->preset, "small (minutes on a CPU) or paper (method.md §4.4)")->capture_default_str();
  cmd->add_option("--run-dir", options->run_dir, "Run directory (default runs/<preset>-<pe>-<context>-s<seed>)");
  cmd->add_option("--steps", options->steps, "Optimizer steps (overrides the preset)");
  cmd->add_option("--epochs", options->epochs, "Epochs over the training windows (used when --steps is not given)");
  cmd->add_option("--lr", options->learning_rate, "Adam learning rate (overrides the preset)");
  cmd->add_option("--attention", options->attention, "linear (default) or softmax");
  cmd->add_option("--max-train-windows", options->max_train_windows, "Evenly spaced subset of training windows (0: all)");
  cmd->add_option("--checkpoint-every", options->checkpoint_every, "Save a checkpoint every N steps (0: at the end)");
  cmd->add_option("--data", options->data, "POP909 data root (default: STRIPES_DATA, else ../shared/data)");
  auto* resume = cmd->add_flag("--resume", options->resume, "Continue the run in --run-dir from its checkpoint (same configuration)");
  cmd->add_flag("--overwrite", options->overwrite, "Start over when --run-dir already holds a run")->excludes(resume);
  add_device_option(*cmd, options->device, "Where the model trains (the checkpoint is the same either way)");
  cmd->add_flag("-q,--quiet", options->quiet, "No progress bar");
  cmd->callback([options] { run_train(*options); });
}
STRIPES_REGISTER_COMMANDS(add_train_command)

}  // namespace stripes::cli
