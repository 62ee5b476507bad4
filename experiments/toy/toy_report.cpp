#include "experiments/toy/toy_report.hpp"

#include "tensor/io/tensor_io.hpp"
#include "tensor/math.hpp"

#include <fmt/format.h>

#include <cmath>
#include <filesystem>

namespace stripes::toy {

namespace {

constexpr plot::Color kDifferentColor{0x2c, 0xa0, 0x2c};  // green: keys of other contexts
constexpr plot::Color kSameColor{0x1f, 0x77, 0xb4};       // blue: keys of the query's context
constexpr plot::Color kQueryColor{0xe0, 0x21, 0x8a};      // magenta: the query's own column (visible on viridis and gray)

double degrees(double radians) { return radians * 180.0 / M_PI; }

// Fig. 2's context colours: the query's context in Fig. 3's "same" blue, the others in tab10
// colours that are neither blue nor green.
plot::Color context_color(int64_t context, int64_t query_context) {
  static const int others[] = {4, 1, 3, 5, 6, 8, 9, 7};
  if (context == query_context) return kSameColor;
  const int64_t i = context < query_context ? context : context - 1;
  return plot::colors::category(others[i % 8]);
}

// "%.3f" without a negative zero.
std::string fixed3(double v) {
  std::string text = fmt::format("{:.3f}", v);
  return text == "-0.000" ? "0.000" : text;
}

std::vector<double> values_of(const Tensor& t) { return t.to(DType::Float64).contiguous().to_vector<double>(); }

std::string matrix_text(const Tensor& w) {
  const std::vector<double> v = values_of(w);
  return fmt::format("[[{:.2f}, {:.2f}], [{:.2f}, {:.2f}]]", v[0], v[1], v[2], v[3]);
}

std::string summary_paragraph(const ToyRunResult& r) {
  const MethodResult& rope = r.methods[0];
  const MethodResult& fstripe = r.methods[1];
  const MethodResult& pool = r.methods[2];
  const int64_t rows = int64_t(r.frequencies.size());
  double worst_error = 0;
  for (const MethodResult& m : r.methods) worst_error = std::max(worst_error, m.closed_form_error);
  std::string text = fmt::format(
      "Properties (rescaled maps, per panel; same = the {} keys of the query's context, separation = mean same − mean "
      "other). F-StrIPE\u2081: same above other in {}/{} rows, separation {:.3f} at f = 0 and {:.3f} at f = 1, same-context "
      "keys change by at most {:.2g} over f (they share the query's ξ, so cos(f·0) = 1). RoPE, eq. 24 as printed: "
      "separation {:.3f} at f = 0 -> {:.3f} at f = 1, it sharpens instead of blurring; mirrored (PE at −f): {:.3f} -> "
      "{:.3f}, it blurs, content and context cancelling at f = 1. RoPEPool: a key and its mirror image about the query score "
      "differently, mean gap {:.3f} of the panel's range (RoPE {:.1e}, F-StrIPE\u2081 {:.1e}); on the drawn map the "
      "groups at −θ and +θ differ by {:.3f} on average (RoPE {:.3f}, F-StrIPE\u2081 {:.3f}: the noise of σ = {}); its highest key is in the query's context in only {}/{} rows "
      "(RoPE {}/{}, F-StrIPE\u2081 {}/{}), separation ranges from {} to {} over f. All three PEs equal the closed "
      "forms of eqs. 24-26 to {:.1e}.",
      r.set.points() / r.set.contexts(), fstripe.properties.rows_same_above_different, rows,
      fstripe.properties.separation.front(), fstripe.properties.separation.back(), fstripe.properties.same_variation,
      rope.properties.separation.front(), rope.properties.separation.back(), rope.mirrored_properties.separation.front(),
      rope.mirrored_properties.separation.back(), pool.reflection_gap, rope.reflection_gap, fstripe.reflection_gap,
      pool.properties.mirror_asymmetry, rope.properties.mirror_asymmetry,
      fstripe.properties.mirror_asymmetry, r.data.sigma, pool.properties.rows_top_key_same, rows,
      rope.properties.rows_top_key_same, rows, fstripe.properties.rows_top_key_same, rows,
      fixed3(*std::min_element(pool.properties.separation.begin(), pool.properties.separation.end())),
      fixed3(*std::max_element(pool.properties.separation.begin(), pool.properties.separation.end())), worst_error);
  for (size_t i = 0; i < r.learned.size(); ++i) {
    const LearnedModel& m = r.learned[i];
    text += fmt::format(" Learned {}: f = {:.3f}, retrieval accuracy {:.1f}% -> {:.1f}%, loss {:.3f} -> {:.3f}.",
                        method_title(m.method), m.frequency, 100 * m.initial_accuracy, 100 * m.final_accuracy, m.initial_loss,
                        m.final_loss);
  }
  return text;
}

}  // namespace

ToyRunResult compute_toy_study(const ToyRunOptions& options) {
  ToyRunResult r;
  r.data = options.data;
  r.set = draw_toy_set(options.data);
  r.frequencies = frequency_grid(options.data.frequencies);
  for (const Method method : kMethods) {
    MethodResult m{.method = method};
    m.scores = score_map(method, r.set, r.frequencies);
    m.rescaled = rescale_panel(m.scores);
    m.mirrored_scores = score_map(method, r.set, r.frequencies, -1.0);
    m.properties = measure_properties(m.rescaled, r.set);
    m.reflection_gap = reflection_gap(method, r.set, r.frequencies);
    m.mirrored_properties = measure_properties(rescale_panel(m.mirrored_scores), r.set);
    m.closed_form_error = std::max(max_abs(m.scores - closed_form_map(method, r.set, r.frequencies)),
                                   max_abs(m.mirrored_scores - closed_form_map(method, r.set, r.frequencies, -1.0)));
    r.methods.push_back(std::move(m));
  }
  if (options.with_learned) {
    for (const Method method : kMethods) {
      r.learned.push_back(train_toy_model(method, options.data, options.learned));
      const LearnedModel& model = r.learned.back();
      r.learned_scores.push_back(score_map(method, r.set, r.frequencies, 1.0, model.w_query, model.w_key));
    }
  }
  r.summary = summary_paragraph(r);
  return r;
}

plot::Figure points_figure(const ToyRunResult& r) {
  plot::Figure figure(1, 1, 900, 420);
  figure.title = "Toy points (Fig. 2): content angle ψ, colour = context";
  plot::Panel& p = figure.panel(0, 0);
  p.equal_aspect = true;
  p.x = {.label = "cos ψ", .min = -1.25, .max = 1.25};
  p.y = {.label = "sin ψ", .min = -0.12, .max = 1.25};
  p.grid = true;
  plot::Series circle{.color = plot::colors::light_gray, .marker = plot::Marker::None, .line = true, .line_width = 1.2};
  for (int i = 0; i <= 90; ++i) {
    const double a = M_PI * double(i) / 90;
    circle.x.push_back(std::cos(a));
    circle.y.push_back(std::sin(a));
  }
  p.series.push_back(circle);
  for (int64_t k = 0; k < r.set.contexts(); ++k) {
    const double c = r.set.context_angles[size_t(k)];
    p.series.push_back({.color = context_color(k, r.set.query_context()), .marker = plot::Marker::None, .x = {0.0, 1.2 * std::cos(c)},
                        .y = {0.0, 1.2 * std::sin(c)}, .line = true, .dashed = true, .line_width = 1.0});
  }
  for (int64_t k = 0; k < r.set.contexts(); ++k) {
    plot::Series s{.label = fmt::format("context {}: C = {:.0f}°", k + 1, degrees(r.set.context_angles[size_t(k)])),
                   .color = context_color(k, r.set.query_context()), .marker = plot::Marker::Circle, .marker_size = 5};
    for (int64_t j = 0; j < r.set.points(); ++j) {
      if (r.set.context[size_t(j)] != k || j == r.set.query) continue;
      s.x.push_back(std::cos(r.set.psi[size_t(j)]));
      s.y.push_back(std::sin(r.set.psi[size_t(j)]));
    }
    p.series.push_back(s);
  }
  const double psi_q = r.set.psi[size_t(r.set.query)];
  p.series.push_back({.label = "query", .color = kSameColor, .marker = plot::Marker::Star,
                      .marker_size = 12, .x = {std::cos(psi_q)}, .y = {std::sin(psi_q)}});
  figure.caption = fmt::format(
      "{} points, {} per context; ψ ~ N(C_k, σ²) with σ = {:.3g} rad, seed {}; dashed rays: context angles C_k = kπ/{}.\n"
      "The query (star, ψ = {:.1f}°) is point {} of {} in display order, in context {}.",
      r.set.points(), r.set.points() / r.set.contexts(), r.data.sigma, r.data.seed, r.set.contexts() + 1, degrees(psi_q),
      r.set.query + 1, r.set.points(), r.set.query_context() + 1);
  return figure;
}

plot::Figure score_figure(const ToyRunResult& r, const std::vector<Tensor>& maps, const std::string& title,
                          const std::string& caption, plot::ColorMap colormap, const std::vector<double>& learned_frequencies) {
  plot::Figure figure(1, int(maps.size()), 390, 380);
  figure.title = title;
  figure.caption = caption;
  const int64_t rows = int64_t(r.frequencies.size()), points = r.set.points();
  const int64_t per = points / r.set.contexts();
  const int64_t c = r.set.query_context();
  for (size_t i = 0; i < maps.size(); ++i) {
    plot::Panel& p = figure.panel(0, int(i));
    p.title = std::string(method_title(kMethods[i]));
    const Tensor rescaled = rescale_panel(maps[i]);
    p.heatmap = plot::Heatmap{.rows = rows, .cols = points, .values = values_of(rescaled), .colormap = colormap,
                              .colorbar_label = "score, rescaled per panel"};
    p.y.label = "frequency f";
    for (int64_t row = 0; row < rows; row += std::max<int64_t>(1, (rows - 1) / 8)) {
      p.y.ticks.push_back(double(row));
      p.y.tick_labels.push_back(plot::decimal_label(r.frequencies[size_t(row)], 2));
    }
    p.x.label = "keys, grouped by context angle C";
    for (int64_t k = 0; k < r.set.contexts(); ++k) {
      p.x.ticks.push_back(double(k * per) + double(per - 1) / 2);
      p.x.tick_labels.push_back(fmt::format("{:.0f}°", degrees(r.set.context_angles[size_t(k)])));
      p.x.tick_colors.push_back(k == c ? kSameColor : kDifferentColor);
    }
    const double same_begin = double(c * per) - 0.5, same_end = double((c + 1) * per) - 0.5;
    p.x_bands = {{-0.5, same_begin, kDifferentColor, "other"}, {same_begin, same_end, kSameColor, "same"},
                 {same_end, double(points) - 0.5, kDifferentColor, "other"}};
    p.reference_lines.push_back({.horizontal = false, .value = double(r.set.query), .color = kQueryColor, .dashed = true,
                                 .label = ""});
    if (i < learned_frequencies.size()) {
      p.reference_lines.push_back({.horizontal = true, .value = learned_frequencies[i] * double(rows - 1),
                                   .color = plot::Color{0xd6, 0x27, 0x28}, .dashed = true,
                                   .label = fmt::format("learned f = {:.2f}", learned_frequencies[i])});
    }
  }
  return figure;
}

ToyRunResult run_toy_study(const ToyRunOptions& options) {
  ToyRunResult r = compute_toy_study(options);
  const std::filesystem::path out(options.out_dir);
  std::error_code error;
  std::filesystem::create_directories(out, error);
  STRIPES_CHECK(!error, "toy: cannot create the output folder '{}': {}", options.out_dir, error.message());
  auto path = [&](const std::string& name) { return (out / name).string(); };
  auto save = [&](const plot::Figure& figure, const std::string& name) {
    figure.save(path(name));
    r.written.push_back(path(name));
    if (options.png) {
      const std::string png = path(name.substr(0, name.size() - 4) + ".png");
      plot::convert_svg_to_png(path(name), png);
      r.written.push_back(png);
    }
  };

  // Figure 2
  save(points_figure(r), "fig2_points.svg");

  // Figure 3, as printed and mirrored
  std::vector<Tensor> printed, mirrored;
  std::string ranges, mirrored_ranges;
  for (const MethodResult& m : r.methods) {
    printed.push_back(m.scores);
    mirrored.push_back(m.mirrored_scores);
    ranges += fmt::format("{}{} [{:.2f}, {:.2f}]", ranges.empty() ? "" : ", ", method_title(m.method), min(m.scores).item(),
                          max(m.scores).item());
    mirrored_ranges += fmt::format("{}{} [{:.2f}, {:.2f}]", mirrored_ranges.empty() ? "" : ", ", method_title(m.method),
                                   min(m.mirrored_scores).item(), max(m.mirrored_scores).item());
  }
  const std::string common = fmt::format(
      "Score of the query (dashed magenta column: key {}) with every key, computed by the project's PEs (heads 1, D = 2, "
      "positions ξ = C). Blue: keys of the query's context, green: other contexts.",
      r.set.query + 1);
  save(score_figure(r, printed, "Toy score maps (Fig. 3): eqs. 24-26 as printed, PE frequencies = f",
                    common + "\nRaw score ranges before the per-panel rescaling: " + ranges + ".", options.colormap),
       "fig3_scores.svg");
  save(score_figure(r, mirrored, "Toy score maps, mirrored orientation: PE frequencies = −f",
                    common + "\nContext rotates against content (equivalently RoPE rotating clockwise): RoPE's a = cos(Δψ − fΔξ). "
                             "Raw ranges: " + mirrored_ranges + ".",
                    options.colormap),
       "fig3_scores_mirrored.svg");

  // The learned maps
  if (!r.learned.empty()) {
    std::vector<double> frequencies;
    std::string parameters;
    for (const LearnedModel& m : r.learned) {
      frequencies.push_back(m.frequency);
      parameters += fmt::format("{}{}: W_q = {}, W_k = {}, accuracy {:.0f}% -> {:.0f}%", parameters.empty() ? "" : "\n",
                                method_title(m.method), matrix_text(m.w_query), matrix_text(m.w_key), 100 * m.initial_accuracy,
                                100 * m.final_accuracy);
    }
    save(score_figure(r, r.learned_scores, "Score maps from learned features (not in the paper)",
                      fmt::format("Per PE: learned W_q, W_k (2x2, from identity) and one frequency (red line), {} Adam steps on "
                                  "a softmax-over-keys objective\n(keys of the own context as positives, fresh sets each step). "
                                  "Rows sweep f with the learned W; same points as Fig. 3.\n{}",
                                  options.learned.steps, parameters),
                      options.colormap, frequencies),
         "fig3_learned.svg");
    plot::Figure loss(1, 1, 640, 360);
    loss.title = "Training loss of the learned toy models";
    plot::Panel& p = loss.panel(0, 0);
    p.x.label = "step";
    p.y.label = "contrastive loss (nats)";
    p.grid = true;
    for (size_t i = 0; i < r.learned.size(); ++i) {
      plot::Series s{.label = std::string(method_title(r.learned[i].method)), .color = plot::colors::category(int(i)),
                     .marker = plot::Marker::None, .line = true};
      for (size_t step = 0; step < r.learned[i].losses.size(); ++step) {
        s.x.push_back(double(step));
        s.y.push_back(r.learned[i].losses[step]);
      }
      p.series.push_back(s);
    }
    save(loss, "learned_loss.svg");
  }

  // Raw numbers
  const std::string h5 = path("toy.h5");
  {
    io::Hdf5File file(h5, io::OpenMode::kTruncate);
    const int64_t points = r.set.points();
    io::save_tensor(file, "/points/psi", Tensor::from_vector(r.set.psi, {points}), {{"description", "content angle ψ_j (rad)"}});
    io::save_tensor(file, "/points/xi", Tensor::from_vector(r.set.xi, {points}), {{"description", "context angle ξ_j = C_k (rad), the position"}});
    io::save_tensor(file, "/points/context", Tensor::from_vector(r.set.context, {points}), {{"description", "context index k of point j (0-based)"}});
    io::save_tensor(file, "/points/context_angles", Tensor::from_vector(r.set.context_angles, {r.set.contexts()}),
                    {{"description", "C_i = iπ/(N+1)"}});
    io::save_tensor(file, "/points/query", Tensor::from_vector(std::vector<int64_t>{r.set.query}, {}),
                    {{"description", "index of the query point (0-based)"}});
    io::save_tensor(file, "/frequencies", Tensor::from_vector(r.frequencies, {int64_t(r.frequencies.size())}),
                    {{"description", "f = linspace(0, 1, F): rows of every map"}});
    for (const MethodResult& m : r.methods) {
      const std::string key(method_key(m.method));
      const std::string pe(method_pe_name(m.method));
      io::save_tensor(file, "/scores/" + key, m.scores, {{"description", "query·key score through the PE [F, P]"}, {"pe", pe}});
      io::save_tensor(file, "/rescaled/" + key, m.rescaled, {{"description", "per-panel min-max rescaled scores [F, P]"}});
      io::save_tensor(file, "/closed_form/" + key, closed_form_map(m.method, r.set, r.frequencies),
                      {{"description", "eqs. 24-26 evaluated directly [F, P]"}});
      io::save_tensor(file, "/mirrored/" + key, m.mirrored_scores, {{"description", "scores with the PE frequency set to −f [F, P]"}});
    }
    for (size_t i = 0; i < r.learned.size(); ++i) {
      const LearnedModel& m = r.learned[i];
      const std::string g = "/learned/" + std::string(method_key(m.method));
      io::save_tensor(file, g + "/w_query", m.w_query, {{"description", "learned W_q: q_j = W_q x_j"}});
      io::save_tensor(file, g + "/w_key", m.w_key, {{"description", "learned W_k: k_j = W_k x_j"}});
      io::save_tensor(file, g + "/frequency", Tensor::from_vector(std::vector<double>{m.frequency}, {}),
                      {{"description", "learned f = sigmoid(θ)"}});
      io::save_tensor(file, g + "/losses", Tensor::from_vector(m.losses, {int64_t(m.losses.size())}),
                      {{"description", "training loss per step"}});
      io::save_tensor(file, g + "/scores", r.learned_scores[i], {{"description", "query·key score with the learned W, f swept [F, P]"}});
      file.write_attribute(g, "initial_accuracy", m.initial_accuracy);
      file.write_attribute(g, "final_accuracy", m.final_accuracy);
    }
    file.write_attribute("/", "sigma", options.data.sigma);
    file.write_attribute("/", "seed", int64_t(options.data.seed));
    file.write_attribute("/", "contexts", r.set.contexts());
    file.write_attribute("/", "points_per_context", options.data.points_per_context);
    file.write_attribute("/", "summary", r.summary);
  }
  r.written.push_back(h5);
  return r;
}

}  // namespace stripes::toy
