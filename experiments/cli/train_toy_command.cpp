// `stripes train-toy`: train a small causal Transformer on a synthetic sequence task (copy,
// reverse or sort; nn/toy_task.hpp) on the CPU, with a progress bar, and print the loss curve.
//
//   stripes train-toy [--task copy] [--steps 300] [--seed 0] [--dump FILE.h5 [--dump-filter GLOB]
//                     [--dump-step N]] [--checkpoint FILE.h5] [--resume FILE.h5] ...
//
// --steps is the total step count: a run resumed from step k trains steps k .. N−1. With
// --resume the task and model come from the checkpoint (their options here are ignored).
#include "experiments/cli/command_registry.hpp"
#include "nn/progress.hpp"
#include "nn/toy_task.hpp"

#include <fmt/core.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <numeric>

namespace stripes::cli {

namespace {

struct TrainToyOptions {
  nn::ToyTaskOptions toy;
  std::string task = "copy";
  std::string activation = "relu";
  bool post_ln = false;
  int64_t steps = 300;
  std::string dump_path, dump_filter, checkpoint_path, resume_path, guard_dump_path;
  int64_t dump_step = 0;
  int64_t log_every = 0;
  int threads = 1;
  bool quiet = false;
};

double mean_of_last(const std::vector<double>& values, size_t end, size_t count) {
  const size_t begin = end > count ? end - count : 0;
  if (end <= begin) return NAN;
  return std::accumulate(values.begin() + long(begin), values.begin() + long(end), 0.0) / double(end - begin);
}

void run_train_toy(const TrainToyOptions& cli) {
  // The toy's products are ~1 MFLOP: split over threads, the wake-ups cost more than the work
  // (and on a loaded machine far more), so the default is one thread.
  STRIPES_CHECK(cli.threads >= 0, "train-toy: --threads must be >= 0, got {}", cli.threads);
  if (cli.threads > 0) omp_set_num_threads(cli.threads);
  nn::ToyTaskOptions options = cli.toy;
  if (!cli.resume_path.empty()) {
    options = nn::ToyExperiment::options_from_checkpoint(cli.resume_path);
  } else {
    options.task = nn::parse_toy_task(cli.task);
    options.model.activation = nn::parse_activation(cli.activation);
    options.model.pre_norm = !cli.post_ln;
    options.model.final_norm = !cli.post_ln;
  }
  nn::TrainerOptions trainer_options;
  trainer_options.dump_path = cli.dump_path;
  trainer_options.dump_filter = cli.dump_filter;
  trainer_options.dump_step = cli.dump_step;
  trainer_options.guard_dump_path = cli.guard_dump_path;
  if (trainer_options.guard_dump_path.empty() && !cli.dump_path.empty()) {
    const std::string& dump = cli.dump_path;
    const bool h5 = dump.size() > 3 && dump.compare(dump.size() - 3, 3, ".h5") == 0;
    trainer_options.guard_dump_path = (h5 ? dump.substr(0, dump.size() - 3) : dump) + ".nonfinite.h5";
  }
  trainer_options.progress = !cli.quiet;
  trainer_options.progress_label = "train-toy";

  nn::ToyExperiment experiment(options, trainer_options);
  if (!cli.resume_path.empty()) {
    experiment.load_checkpoint(cli.resume_path);
    fmt::print("resumed from {} at step {}\n", cli.resume_path, experiment.trainer().step());
  }
  const nn::ToyTaskOptions& o = experiment.options();
  fmt::print("task {}: {} symbols, length {} (T = {}), batch {}, seed {}; chance loss ln {} = {:.4f}\n",
             nn::toy_task_name(o.task), o.symbols, o.length, 2 * o.length, o.batch_size, o.seed, o.symbols,
             std::log(double(o.symbols)));
  fmt::print("model: {}, {} parameters; {} thread{}\n", experiment.model().describe(),
             experiment.model().parameter_count(), omp_get_max_threads(), omp_get_max_threads() == 1 ? "" : "s");

  std::fflush(stdout);  // the header before the progress bar (stderr) when both go to one pipe
  const int64_t first = experiment.trainer().step();
  const int64_t steps = std::max<int64_t>(0, cli.steps - first);
  const int64_t log_every = cli.log_every > 0 ? cli.log_every : std::max<int64_t>(1, cli.steps / 10);
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> losses;
  losses = experiment.train(steps);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  fmt::print("\nloss curve (mean over the steps since the previous line):\n");
  size_t previous = 0;
  for (int64_t done = first + log_every - (first % log_every); done <= cli.steps; done += log_every) {
    const size_t end = size_t(done - first);
    if (end == 0 || end > losses.size()) continue;
    fmt::print("  step {:>6}  loss {:.4f}\n", done, mean_of_last(losses, end, end - previous));
    previous = end;
  }
  if (!losses.empty()) fmt::print("\n{}", nn::ascii_plot(losses, 60, 12));
  const double final_loss = mean_of_last(losses, losses.size(), 20);
  const double accuracy = experiment.evaluate_accuracy(8);
  fmt::print("final loss {:.4f} (mean of the last {} steps), answer accuracy {:.1f}% on 8 fresh batches\n", final_loss,
             std::min<size_t>(20, losses.size()), 100.0 * accuracy);
  fmt::print("{} steps in {:.2f} s ({:.1f} steps/s)\n", steps, seconds, seconds > 0 ? double(steps) / seconds : 0.0);
  if (!cli.dump_path.empty() && cli.dump_step >= first && cli.dump_step < cli.steps) {
    fmt::print("dump of step {} written to {}\n", cli.dump_step, cli.dump_path);
  }
  if (!cli.checkpoint_path.empty()) {
    experiment.save_checkpoint(cli.checkpoint_path);
    fmt::print("checkpoint at step {} written to {}\n", experiment.trainer().step(), cli.checkpoint_path);
  }
}

}  // namespace

static void add_train_toy_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("train-toy", "Train a small causal Transformer on a synthetic copy/reverse/sort task (CPU)");
  auto options = std::make_shared<TrainToyOptions>();
  nn::ToyTaskOptions& toy = options->toy;
  cmd->add_option("--task", options->task, "copy | reverse | sort")->capture_default_str()->check(CLI::IsMember({"copy", "reverse", "sort"}));
  cmd->add_option("--steps", options->steps, "Total optimizer steps (a resumed run continues up to this)")->capture_default_str();
  cmd->add_option("--seed", toy.seed, "Seed of parameters, batches and dropout")->capture_default_str();
  cmd->add_option("--symbols", toy.symbols, "Vocabulary size V of the payload")->capture_default_str();
  cmd->add_option("--length", toy.length, "Payload length L (sequence length T = 2L)")->capture_default_str();
  cmd->add_option("--batch", toy.batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--lr", toy.learning_rate, "Adam learning rate")->capture_default_str();
  cmd->add_option("--warmup", toy.warmup_steps, "Linear warm-up steps")->capture_default_str();
  cmd->add_option("--clip", toy.clip_grad_norm, "Clip gradients to this global norm (0: off)")->capture_default_str();
  cmd->add_option("--d-model", toy.model.d_model, "Model width")->capture_default_str();
  cmd->add_option("--heads", toy.model.num_heads, "Attention heads")->capture_default_str();
  cmd->add_option("--d-ff", toy.model.d_ff, "Feed-forward width")->capture_default_str();
  cmd->add_option("--layers", toy.model.num_layers, "Encoder layers")->capture_default_str();
  cmd->add_option("--dropout", toy.model.dropout, "Dropout probability")->capture_default_str();
  cmd->add_option("--activation", options->activation, "relu | gelu")->capture_default_str()->check(CLI::IsMember({"relu", "gelu"}));
  cmd->add_flag("--post-ln", options->post_ln, "Post-LN layers (default: pre-LN with a final LayerNorm)");
  cmd->add_option("--min-length", toy.min_length, "Curriculum: start length (with --curriculum-steps)");
  cmd->add_option("--curriculum-steps", toy.curriculum_steps, "Curriculum: grow L from --min-length to --length over these steps");
  cmd->add_option("--dump", options->dump_path, "Write every recorded intermediate and gradient of one step to this HDF5 file");
  cmd->add_option("--dump-filter", options->dump_filter, "Only record names matching these globs (comma-separated), e.g. 'layers.0.*'");
  cmd->add_option("--dump-step", options->dump_step, "The step to dump")->capture_default_str();
  cmd->add_option("--nonfinite-dump", options->guard_dump_path, "Where the NaN/Inf guard dumps a failing step (default: next to --dump)");
  cmd->add_option("--checkpoint", options->checkpoint_path, "Save a checkpoint here at the end");
  cmd->add_option("--resume", options->resume_path, "Resume from this checkpoint")->check(CLI::ExistingFile);
  cmd->add_option("--log-every", options->log_every, "Steps per line of the loss curve (default: steps/10)");
  cmd->add_option("--threads", options->threads, "OpenMP threads (0 = all cores; the toy is fastest on 1)")->capture_default_str();
  cmd->add_flag("-q,--quiet", options->quiet, "No progress bar");
  cmd->callback([options] { run_train_toy(*options); });
}
STRIPES_REGISTER_COMMANDS(add_train_toy_command)

}  // namespace stripes::cli
