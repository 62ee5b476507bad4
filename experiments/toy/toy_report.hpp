// Runs the whole toy study and writes its outputs (what `stripes toy` does):
//
//   <out>/fig2_points.svg            the points on the unit circle coloured by context, the query as a star
//   <out>/fig3_scores.svg            the three score maps (RoPE, F-StrIPE₁, RoPEPool), y = f, x = keys
//   <out>/fig3_scores_mirrored.svg   the same with the PEs evaluated at −f (docs/toy.md: orientation)
//   <out>/fig3_learned.svg           the maps from learned content maps and frequency (toy_learned.hpp)
//   <out>/learned_loss.svg           the learned models' training loss per step
//   <out>/toy.h5                     ψ, ξ, contexts, f, raw and rescaled scores, closed forms, learned parameters
// (and a .png beside each .svg with png = true, through rsvg-convert).
#pragma once

#include "experiments/plot/svg_plot.hpp"
#include "experiments/toy/toy_learned.hpp"
#include "experiments/toy/toy_study.hpp"

#include <string>
#include <vector>

namespace stripes::toy {

struct ToyRunOptions {
  ToyOptions data;
  LearnedOptions learned;
  bool with_learned = true;
  bool png = false;
  std::string out_dir = "runs/toy";
  plot::ColorMap colormap = plot::ColorMap::Viridis;
};

struct MethodResult {
  Method method;
  Tensor scores;           // [F, P] through the PE
  Tensor rescaled;         // per-panel min-max
  Tensor mirrored_scores;  // at −f
  MapProperties properties, mirrored_properties;
  double closed_form_error = 0;  // max |PE − closed form| over both orientations
  double reflection_gap = 0;     // toy::reflection_gap, printed orientation
};

struct ToyRunResult {
  ToyOptions data;                        // the options the set was drawn with
  ToySet set;
  std::vector<double> frequencies;
  std::vector<MethodResult> methods;      // kMethods order
  std::vector<LearnedModel> learned;      // empty with with_learned = false
  std::vector<Tensor> learned_scores;     // [F, P] per learned model
  std::vector<std::string> written;       // files, in writing order
  std::string summary;                    // one paragraph with the property numbers
};

// Computes everything (no files written).
ToyRunResult compute_toy_study(const ToyRunOptions& options);
// Computes everything and writes the figures and the HDF5 file into options.out_dir.
ToyRunResult run_toy_study(const ToyRunOptions& options);

// The figures, from a computed result (exposed for the tests).
plot::Figure points_figure(const ToyRunResult& result);
plot::Figure score_figure(const ToyRunResult& result, const std::vector<Tensor>& maps, const std::string& title,
                          const std::string& caption, plot::ColorMap colormap, const std::vector<double>& learned_frequencies = {});

}  // namespace stripes::toy
