// `stripes toy`: the paper's synthetic toy study (Figs. 2-3, method.md §3) computed through the
// project's own PEs, plus the same maps from briefly learned features. Writes SVG figures and the
// raw numbers (HDF5) into --out, then prints what it wrote and the measured properties.
//
//   stripes toy [--out runs/toy] [--seed 0] [--sigma 0.15] [--no-learned] [--steps 300] [--png]
//
// See docs/toy.md and experiments/toy/toy_report.hpp.
#include "experiments/cli/command_registry.hpp"
#include "experiments/toy/toy_report.hpp"

#include <fmt/core.h>
#include <omp.h>

#include <chrono>

namespace stripes::cli {

static void add_toy_command(CLI::App& app) {
  auto options = std::make_shared<toy::ToyRunOptions>();
  auto no_learned = std::make_shared<bool>(false);
  auto colormap = std::make_shared<std::string>("viridis");
  auto* cmd = app.add_subcommand("toy", "The synthetic toy study (Figs. 2-3): score maps of RoPE, F-StrIPE1 and RoPEPool as SVG + HDF5");
  cmd->add_option("--out", options->out_dir, "Output folder")->capture_default_str();
  cmd->add_option("--seed", options->data.seed, "Seed of the drawn content angles")->capture_default_str();
  cmd->add_option("--sigma", options->data.sigma, "Std of the content angle around its context angle (radians)")
      ->check(CLI::Range(0.0, 3.2))
      ->capture_default_str();
  cmd->add_option("--query-slot", options->data.query_slot, "Which point of the middle context is the query (0-based)")
      ->capture_default_str();
  cmd->add_flag("--no-learned", *no_learned, "Skip the learned-feature maps");
  cmd->add_option("--steps", options->learned.steps, "Training steps of each learned model")
      ->check(CLI::Range(int64_t(0), int64_t(100000)))
      ->capture_default_str();
  cmd->add_option("--colormap", *colormap, "Heatmap colours")->check(CLI::IsMember({"viridis", "gray"}))->capture_default_str();
  cmd->add_flag("--png", options->png, "Also write a PNG beside each SVG (needs rsvg-convert)");
  cmd->callback([options, no_learned, colormap] {
    toy::ToyRunOptions o = *options;
    o.with_learned = !*no_learned;
    o.colormap = *colormap == "gray" ? plot::ColorMap::Gray : plot::ColorMap::Viridis;
    // Every product here is tiny (25 x 25): threads would cost more in wake-ups than they save.
    omp_set_num_threads(1);
    const auto start = std::chrono::steady_clock::now();
    const toy::ToyRunResult result = toy::run_toy_study(o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    fmt::print("toy study: N = {} contexts, P = {} points, σ = {} rad, seed {}, query = point {} (context {}), {} frequencies\n",
               result.set.contexts(), result.set.points(), o.data.sigma, o.data.seed, result.set.query + 1,
               result.set.query_context() + 1, result.frequencies.size());
    for (const std::string& path : result.written) fmt::print("wrote {}\n", path);
    fmt::print("\n{}\n\n({:.2f} s)\n", result.summary, seconds);
  });
}
STRIPES_REGISTER_COMMANDS(add_toy_command)

}  // namespace stripes::cli
