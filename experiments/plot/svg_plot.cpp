#include "experiments/plot/svg_plot.hpp"

#include "tensor/error.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

namespace stripes::plot {

// ---- colours ---------------------------------------------------------------------------------------

std::string Color::hex() const { return fmt::format("#{:02x}{:02x}{:02x}", r, g, b); }

Color Color::from_hex(std::string_view hex) {
  STRIPES_CHECK(hex.size() == 7 && hex[0] == '#', "plot: colour '{}' is not of the form #rrggbb", hex);
  auto byte = [&](size_t at) {
    int value = 0;
    for (size_t i = at; i < at + 2; ++i) {
      const char c = hex[i];
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      STRIPES_CHECK(digit >= 0, "plot: colour '{}' has a non-hex digit '{}'", hex, c);
      value = 16 * value + digit;
    }
    return uint8_t(value);
  };
  return {byte(1), byte(3), byte(5)};
}

Color colors::category(int index) {
  static const std::array<const char*, 10> tab10 = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  const int i = ((index % 10) + 10) % 10;
  return Color::from_hex(tab10[size_t(i)]);
}

Color map_color(ColorMap map, double t) {
  if (std::isnan(t)) return colors::gray;
  t = std::clamp(t, 0.0, 1.0);
  if (map == ColorMap::Gray) {
    const auto v = uint8_t(std::lround(255.0 * t));
    return {v, v, v};
  }
  // matplotlib's viridis sampled at i/9, i = 0..9.
  static const std::array<Color, 10> viridis = {
      Color{0x44, 0x01, 0x54}, Color{0x48, 0x28, 0x78}, Color{0x3e, 0x49, 0x89}, Color{0x31, 0x68, 0x8e},
      Color{0x26, 0x82, 0x8e}, Color{0x1f, 0x9e, 0x89}, Color{0x35, 0xb7, 0x79}, Color{0x6e, 0xce, 0x58},
      Color{0xb5, 0xde, 0x2b}, Color{0xfd, 0xe7, 0x25}};
  const double position = t * double(viridis.size() - 1);
  const size_t i = std::min(size_t(position), viridis.size() - 2);
  const double w = position - double(i);
  auto mix = [w](uint8_t a, uint8_t b) { return uint8_t(std::lround((1.0 - w) * a + w * b)); };
  return {mix(viridis[i].r, viridis[i + 1].r), mix(viridis[i].g, viridis[i + 1].g), mix(viridis[i].b, viridis[i + 1].b)};
}

std::string_view colormap_name(ColorMap map) { return map == ColorMap::Gray ? "gray" : "viridis"; }

// ---- text ------------------------------------------------------------------------------------------

std::string escape_xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string tick_label(double value) {
  if (value == 0.0) return "0";  // also -0
  return fmt::format("{:.6g}", value);
}

std::string decimal_label(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);  // glibc: exact ties round to even
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0' && text[text.size() - 2] != '.') text.pop_back();
  }
  if (text == "-0.0") text = "0.0";
  return text;
}

// ---- scales ----------------------------------------------------------------------------------------

Scale::Scale(double low, double high, bool log) : low_(low), high_(high), log_(log) {
  STRIPES_CHECK(std::isfinite(low) && std::isfinite(high) && low < high, "plot: axis range [{}, {}] is empty or not finite",
                low, high);
  STRIPES_CHECK(!log || low > 0, "plot: a log axis needs a positive range, got [{}, {}]", low, high);
}

double Scale::fraction(double value) const {
  if (log_) return (std::log10(value) - std::log10(low_)) / (std::log10(high_) - std::log10(low_));
  return (value - low_) / (high_ - low_);
}

std::vector<double> Scale::ticks(int target) const {
  std::vector<double> out;
  if (log_) {
    const double tolerance = 1e-9;
    const int first = int(std::ceil(std::log10(low_) - tolerance)), last = int(std::floor(std::log10(high_) + tolerance));
    const bool few_decades = high_ / low_ < 100.0;
    for (int k = first - 1; k <= last; ++k) {
      for (const double m : {1.0, 2.0, 5.0}) {
        if (m != 1.0 && !few_decades) continue;
        const double v = m * std::pow(10.0, k);
        if (v >= low_ * (1 - tolerance) && v <= high_ * (1 + tolerance)) out.push_back(v);
      }
    }
    return out;
  }
  const double range = high_ - low_;
  const double raw = range / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalized = raw / magnitude;
  const double step = (normalized < 1.5 ? 1.0 : normalized < 3.0 ? 2.0 : normalized < 7.0 ? 5.0 : 10.0) * magnitude;
  for (double v = std::ceil(low_ / step - 1e-9) * step; v <= high_ + 1e-9 * range; v += step) {
    out.push_back(std::abs(v) < 1e-12 * range ? 0.0 : v);
  }
  return out;
}

// ---- drawing ---------------------------------------------------------------------------------------

namespace {

constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";

std::string num(double v) {
  if (std::abs(v) < 0.005) return "0";
  return fmt::format("{:.2f}", v);
}

struct Svg {
  std::string text;
  template <typename... Args>
  void add(fmt::format_string<Args...> format, Args&&... args) {
    text += fmt::format(format, std::forward<Args>(args)...);
    text += '\n';
  }
  // anchor: start | middle | end. rotate: degrees about (x, y).
  void label(double x, double y, std::string_view content, double size, std::string_view anchor = "middle",
             Color color = colors::black, bool bold = false, double rotate = 0.0, bool halo = false) {
    std::string transform = rotate != 0.0 ? fmt::format(" transform=\"rotate({} {} {})\"", num(rotate), num(x), num(y)) : "";
    const char* outline = halo ? " stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"" : "";
    add("<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"{}{}{}>{}</text>", num(x), num(y), num(size),
        anchor, color.hex(), bold ? " font-weight=\"bold\"" : "", transform, outline, escape_xml(content));
  }
};

void draw_marker(Svg& svg, Marker marker, double x, double y, double size, Color fill, Color edge) {
  switch (marker) {
    case Marker::None: return;
    case Marker::Circle:
      svg.add("<circle class=\"marker\" cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"0.6\"/>", num(x),
              num(y), num(size), fill.hex(), edge.hex());
      return;
    case Marker::Square:
      svg.add("<rect class=\"marker\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"0.6\"/>",
              num(x - size), num(y - size), num(2 * size), num(2 * size), fill.hex(), edge.hex());
      return;
    case Marker::Triangle:
      svg.add("<polygon class=\"marker\" points=\"{},{} {},{} {},{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"0.6\"/>", num(x),
              num(y - 1.2 * size), num(x - 1.1 * size), num(y + 0.8 * size), num(x + 1.1 * size), num(y + 0.8 * size),
              fill.hex(), edge.hex());
      return;
    case Marker::Star: {
      std::string points;
      for (int i = 0; i < 10; ++i) {
        const double radius = i % 2 == 0 ? size : 0.45 * size;
        const double angle = -M_PI / 2 + double(i) * M_PI / 5;
        points += fmt::format("{}{},{}", i ? " " : "", num(x + radius * std::cos(angle)), num(y + radius * std::sin(angle)));
      }
      svg.add("<polygon class=\"marker\" points=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1\"/>", points, fill.hex(),
              edge.hex());
      return;
    }
    case Marker::Cross:
      svg.add("<path class=\"marker\" d=\"M {} {} L {} {} M {} {} L {} {}\" stroke=\"{}\" stroke-width=\"1.8\" fill=\"none\"/>",
              num(x - size), num(y - size), num(x + size), num(y + size), num(x - size), num(y + size), num(x + size),
              num(y - size), fill.hex());
      return;
  }
}

// Data range of one axis: explicit limits, else the heatmap's cell edges, else the series with 5 % padding.
std::pair<double, double> axis_range(const Panel& panel, bool x_axis) {
  const Axis& axis = x_axis ? panel.x : panel.y;
  double low = std::numeric_limits<double>::infinity(), high = -low;
  if (panel.heatmap) {
    const double n = double(x_axis ? panel.heatmap->cols : panel.heatmap->rows);
    low = -0.5;
    high = n - 0.5;
  } else {
    for (const Series& s : panel.series) {
      const std::vector<double>& values = x_axis ? s.x : s.y;
      for (size_t i = 0; i < values.size(); ++i) {
        const double e = !x_axis && i < s.y_error.size() ? s.y_error[i] : 0.0;
        if (!std::isfinite(values[i]) || (axis.log && values[i] - e <= 0 && values[i] <= 0)) continue;
        const double lo = axis.log && values[i] - e <= 0 ? values[i] : values[i] - e;
        low = std::min(low, lo);
        high = std::max(high, values[i] + e);
      }
    }
    for (const ReferenceLine& line : panel.reference_lines) {
      if (line.horizontal != x_axis) {
        low = std::min(low, line.value);
        high = std::max(high, line.value);
      }
    }
    if (!std::isfinite(low)) {
      low = axis.log ? 1.0 : 0.0;
      high = axis.log ? 10.0 : 1.0;
    }
    if (axis.log) {
      const double pad = std::pow(high / low, 0.05);
      low /= pad == 1.0 ? 2.0 : pad;
      high *= pad == 1.0 ? 2.0 : pad;
    } else {
      const double pad = high > low ? 0.05 * (high - low) : std::max(0.5, 0.05 * std::abs(low));
      low -= pad;
      high += pad;
    }
  }
  if (axis.min) low = *axis.min;
  if (axis.max) high = *axis.max;
  return {low, high};
}

struct Box {
  double x, y, width, height;
};

void draw_panel(Svg& svg, const Panel& panel, const Box& cell, int index) {
  bool has_legend = false;
  size_t longest_label = 0;
  for (const Series& s : panel.series) {
    if (!s.label.empty()) {
      has_legend = panel.legend;
      longest_label = std::max(longest_label, s.label.size());
    }
  }
  bool band_labels = false;
  for (const Band& b : panel.x_bands) band_labels = band_labels || !b.label.empty();
  const bool colorbar = panel.heatmap && panel.heatmap->colorbar;
  const double legend_width = has_legend ? 30.0 + 6.2 * double(longest_label) : 0.0;
  const double colorbar_width = colorbar ? (panel.heatmap->colorbar_label.empty() ? 52.0 : 66.0) : 0.0;
  const double top = 30.0 + (band_labels ? 16.0 : 0.0);
  const double left = panel.y.label.empty() ? 50.0 : 64.0;
  const double bands = panel.x_bands.empty() ? 0.0 : 9.0;
  const double bottom = (panel.x.label.empty() ? 28.0 : 46.0) + bands;
  const double right = 14.0 + colorbar_width + legend_width;
  Box plot{cell.x + left, cell.y + top, cell.width - left - right, cell.height - top - bottom};
  STRIPES_CHECK(plot.width > 20 && plot.height > 20, "plot: panel '{}' is too small for its margins ({} x {} px)", panel.title,
                cell.width, cell.height);

  const auto [x_low, x_high] = axis_range(panel, true);
  const auto [y_low, y_high] = axis_range(panel, false);
  const Scale xs(x_low, x_high, panel.x.log), ys(y_low, y_high, panel.y.log);
  if (panel.equal_aspect && !panel.x.log && !panel.y.log) {
    const double unit = std::min(plot.width / (x_high - x_low), plot.height / (y_high - y_low));
    const double width = unit * (x_high - x_low), height = unit * (y_high - y_low);
    plot.x += (plot.width - width) / 2;
    plot.y += (plot.height - height) / 2;
    plot.width = width;
    plot.height = height;
  }
  auto X = [&](double v) { return plot.x + xs.fraction(v) * plot.width; };
  auto Y = [&](double v) { return plot.y + plot.height - ys.fraction(v) * plot.height; };

  svg.add("<g class=\"panel\" id=\"panel-{}\">", index);
  if (!panel.title.empty()) svg.label(plot.x + plot.width / 2, cell.y + 18, panel.title, 14, "middle", colors::black, true);

  // Ticks first (positions), so grid lines go under the data.
  const std::vector<double> x_ticks = panel.x.ticks.empty() ? xs.ticks() : panel.x.ticks;
  const std::vector<double> y_ticks = panel.y.ticks.empty() ? ys.ticks() : panel.y.ticks;
  auto inside = [](const Scale& s, double v) {
    const double f = s.fraction(v);
    return std::isfinite(f) && f >= -1e-9 && f <= 1 + 1e-9;
  };
  if (panel.grid) {
    for (const double v : x_ticks)
      if (inside(xs, v))
        svg.add("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>", num(X(v)), num(plot.y),
                num(X(v)), num(plot.y + plot.height));
    for (const double v : y_ticks)
      if (inside(ys, v))
        svg.add("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>", num(plot.x), num(Y(v)),
                num(plot.x + plot.width), num(Y(v)));
  }

  if (panel.heatmap) {
    const Heatmap& h = *panel.heatmap;
    STRIPES_CHECK(h.rows > 0 && h.cols > 0 && int64_t(h.values.size()) == h.rows * h.cols,
                  "plot: heatmap '{}' has {} values for {} x {} cells", panel.title, h.values.size(), h.rows, h.cols);
    STRIPES_CHECK(h.vmax > h.vmin, "plot: heatmap '{}' has an empty colour range [{}, {}]", panel.title, h.vmin, h.vmax);
    svg.add("<g shape-rendering=\"crispEdges\">");
    for (int64_t r = 0; r < h.rows; ++r) {
      for (int64_t c = 0; c < h.cols; ++c) {
        const double v = h.values[size_t(r * h.cols + c)];
        const double x0 = X(double(c) - 0.5), x1 = X(double(c) + 0.5), y0 = Y(double(r) + 0.5), y1 = Y(double(r) - 0.5);
        svg.add("<rect class=\"cell\" data-row=\"{}\" data-col=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                r, c, num(x0), num(y0), num(x1 - x0 + 0.3), num(y1 - y0 + 0.3),
                map_color(h.colormap, (v - h.vmin) / (h.vmax - h.vmin)).hex());
      }
    }
    svg.add("</g>");
  }

  for (const ReferenceLine& line : panel.reference_lines) {
    const double x0 = line.horizontal ? plot.x : X(line.value), x1 = line.horizontal ? plot.x + plot.width : X(line.value);
    const double y0 = line.horizontal ? Y(line.value) : plot.y, y1 = line.horizontal ? Y(line.value) : plot.y + plot.height;
    svg.add("<line class=\"reference\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"{}/>", num(x0),
            num(y0), num(x1), num(y1), line.color.hex(), line.dashed ? " stroke-dasharray=\"5,3\"" : "");
    if (!line.label.empty()) {
      // Above the line, or below it when the line runs near the top; a white halo keeps it readable on a heatmap.
      const double below = line.horizontal && Y(line.value) - plot.y < 16 ? 16.0 : 0.0;
      if (line.horizontal) svg.label(plot.x + plot.width - 3, Y(line.value) - 4 + below, line.label, 10, "end", line.color, true, 0, true);
      else svg.label(X(line.value) + 3, plot.y + 12, line.label, 10, "start", line.color, true, 0, true);
    }
  }

  for (const Series& s : panel.series) {
    STRIPES_CHECK(s.x.size() == s.y.size() && (s.y_error.empty() || s.y_error.size() == s.y.size()),
                  "plot: series '{}' of panel '{}' has {} x, {} y and {} error values", s.label, panel.title, s.x.size(),
                  s.y.size(), s.y_error.size());
    if (s.line && s.x.size() > 1) {
      std::string points;
      for (size_t i = 0; i < s.x.size(); ++i) points += fmt::format("{}{},{}", i ? " " : "", num(X(s.x[i])), num(Y(s.y[i])));
      svg.add("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"{}/>", points, s.color.hex(),
              num(s.line_width), s.dashed ? " stroke-dasharray=\"5,3\"" : "");
    }
    for (size_t i = 0; i < s.y_error.size(); ++i) {
      const double low = panel.y.log ? std::max(s.y[i] - s.y_error[i], ys.low()) : s.y[i] - s.y_error[i];
      const double x = X(s.x[i]), y0 = Y(low), y1 = Y(s.y[i] + s.y_error[i]);
      svg.add("<path class=\"errorbar\" d=\"M {} {} L {} {} M {} {} L {} {} M {} {} L {} {}\" stroke=\"{}\" stroke-width=\"1.2\" fill=\"none\"/>",
              num(x), num(y0), num(x), num(y1), num(x - 4), num(y0), num(x + 4), num(y0), num(x - 4), num(y1), num(x + 4),
              num(y1), s.color.hex());
    }
    for (size_t i = 0; i < s.x.size(); ++i) draw_marker(svg, s.marker, X(s.x[i]), Y(s.y[i]), s.marker_size, s.color, s.edge);
  }

  // Frame, bands, ticks and labels.
  svg.add("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"1\"/>", num(plot.x),
          num(plot.y), num(plot.width), num(plot.height));
  for (const Band& b : panel.x_bands) {
    const double x0 = X(b.begin), x1 = X(b.end);
    svg.add("<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"6\" fill=\"{}\"/>", num(x0), num(plot.y + plot.height + 2),
            num(x1 - x0), b.color.hex());
    if (!b.label.empty()) svg.label((x0 + x1) / 2, plot.y - 5, b.label, 11, "middle", b.color, true);
  }
  for (size_t i = 0; i < x_ticks.size(); ++i) {
    const double v = x_ticks[i];
    if (!inside(xs, v)) continue;
    const double x = X(v), y = plot.y + plot.height + bands;
    svg.add("<line class=\"tick-x\" data-value=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000000\" stroke-width=\"1\"/>",
            tick_label(v), num(x), num(y), num(x), num(y + 4));
    const std::string text = i < panel.x.tick_labels.size() ? panel.x.tick_labels[i] : tick_label(v);
    svg.label(x, y + 15, text, 10, "middle", i < panel.x.tick_colors.size() ? panel.x.tick_colors[i] : colors::black);
  }
  for (size_t i = 0; i < y_ticks.size(); ++i) {
    const double v = y_ticks[i];
    if (!inside(ys, v)) continue;
    const double y = Y(v);
    svg.add("<line class=\"tick-y\" data-value=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000000\" stroke-width=\"1\"/>",
            tick_label(v), num(plot.x - 4), num(y), num(plot.x), num(y));
    const std::string text = i < panel.y.tick_labels.size() ? panel.y.tick_labels[i] : tick_label(v);
    svg.label(plot.x - 6, y + 3.5, text, 10, "end", i < panel.y.tick_colors.size() ? panel.y.tick_colors[i] : colors::black);
  }
  if (!panel.x.label.empty()) svg.label(plot.x + plot.width / 2, plot.y + plot.height + bands + 34, panel.x.label, 12);
  if (!panel.y.label.empty()) svg.label(plot.x - 44, plot.y + plot.height / 2, panel.y.label, 12, "middle", colors::black, false, -90);

  if (colorbar) {
    const Heatmap& h = *panel.heatmap;
    const double bx = plot.x + plot.width + 12, width = 14;
    constexpr int kStrips = 64;
    svg.add("<g shape-rendering=\"crispEdges\">");
    for (int i = 0; i < kStrips; ++i) {
      const double t = (double(i) + 0.5) / kStrips;
      const double y1 = plot.y + plot.height * (1.0 - double(i) / kStrips), y0 = plot.y + plot.height * (1.0 - double(i + 1) / kStrips);
      svg.add("<rect class=\"colorbar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>", num(bx), num(y0), num(width),
              num(y1 - y0 + 0.3), map_color(h.colormap, t).hex());
    }
    svg.add("</g>");
    svg.add("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#000000\" stroke-width=\"0.8\"/>", num(bx),
            num(plot.y), num(width), num(plot.height));
    for (int i = 0; i <= 4; ++i) {
      const double t = double(i) / 4, y = plot.y + plot.height * (1.0 - t);
      svg.add("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000000\" stroke-width=\"1\"/>", num(bx + width), num(y),
              num(bx + width + 3), num(y));
      svg.label(bx + width + 5, y + 3.5, tick_label(h.vmin + t * (h.vmax - h.vmin)), 10, "start");
    }
    if (!h.colorbar_label.empty())
      svg.label(bx + width + 40, plot.y + plot.height / 2, h.colorbar_label, 11, "middle", colors::black, false, -90);
  }

  if (has_legend) {
    const double lx = plot.x + plot.width + colorbar_width + 14;
    double ly = plot.y + 8;
    for (const Series& s : panel.series) {
      if (s.label.empty()) continue;
      if (s.line) {
        svg.add("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>", num(lx), num(ly), num(lx + 16),
                num(ly), s.color.hex(), num(s.line_width), s.dashed ? " stroke-dasharray=\"5,3\"" : "");
      }
      draw_marker(svg, s.marker, lx + 8, ly, std::min(s.marker_size, 6.0), s.color, s.edge);
      svg.label(lx + 22, ly + 4, s.label, 11, "start");
      ly += 17;
    }
  }
  svg.add("</g>");
}

}  // namespace

// ---- figure ----------------------------------------------------------------------------------------

Figure::Figure(int rows, int cols, double panel_width, double panel_height)
    : rows_(rows), cols_(cols), panel_width_(panel_width), panel_height_(panel_height) {
  STRIPES_CHECK(rows > 0 && cols > 0 && panel_width > 0 && panel_height > 0, "plot: a figure needs a positive grid and size, got {} x {} of {} x {} px",
                rows, cols, panel_width, panel_height);
  panels_.resize(size_t(rows * cols));
}

Panel& Figure::panel(int row, int col) {
  STRIPES_CHECK(row >= 0 && row < rows_ && col >= 0 && col < cols_, "plot: panel ({}, {}) is outside the {} x {} grid", row, col,
                rows_, cols_);
  return panels_[size_t(row * cols_ + col)];
}

const Panel& Figure::panel(int row, int col) const { return const_cast<Figure*>(this)->panel(row, col); }

std::string Figure::to_svg() const {
  std::vector<std::string> caption_lines;
  if (!caption.empty()) {
    size_t start = 0;
    while (start <= caption.size()) {
      const size_t end = caption.find('\n', start);
      caption_lines.push_back(caption.substr(start, end == std::string::npos ? std::string::npos : end - start));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  const double title_height = title.empty() ? 0.0 : 32.0;
  const double caption_height = caption_lines.empty() ? 0.0 : 10.0 + 15.0 * double(caption_lines.size());
  const double width = panel_width_ * cols_, height = title_height + panel_height_ * rows_ + caption_height;
  Svg svg;
  svg.add("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
  svg.add("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" font-family=\"{}\">", num(width),
          num(height), num(width), num(height), kFont);
  svg.add("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>", num(width), num(height));
  if (!title.empty()) svg.label(width / 2, 22, title, 16, "middle", colors::black, true);
  for (int r = 0; r < rows_; ++r) {
    for (int c = 0; c < cols_; ++c) {
      const Box cell{c * panel_width_, title_height + r * panel_height_, panel_width_, panel_height_};
      draw_panel(svg, panels_[size_t(r * cols_ + c)], cell, r * cols_ + c);
    }
  }
  for (size_t i = 0; i < caption_lines.size(); ++i) {
    svg.label(12, title_height + panel_height_ * rows_ + 14 + 15.0 * double(i), caption_lines[i], 11, "start", Color{60, 60, 60});
  }
  svg.add("</svg>");
  return svg.text;
}

void Figure::save(const std::string& path) const {
  const std::filesystem::path file(path);
  if (file.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    STRIPES_CHECK(!error, "plot: cannot create the folder of '{}': {}", path, error.message());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  STRIPES_CHECK(out.good(), "plot: cannot open '{}' for writing", path);
  out << to_svg();
  out.close();
  STRIPES_CHECK(out.good(), "plot: writing '{}' failed", path);
}

bool rsvg_convert_available() { return std::system("command -v rsvg-convert > /dev/null 2>&1") == 0; }

namespace {
std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

void convert_svg_to_png(const std::string& svg_path, const std::string& png_path, double scale) {
  STRIPES_CHECK(rsvg_convert_available(), "plot: --png needs rsvg-convert on the PATH (Debian: apt-get install librsvg2-bin)");
  const std::string command = fmt::format("rsvg-convert --zoom {} -b white -o {} {} 2>&1", scale, shell_quote(png_path),
                                          shell_quote(svg_path));
  const int status = std::system(command.c_str());
  STRIPES_CHECK(status == 0, "plot: '{}' failed (status {})", command, status);
}

}  // namespace stripes::plot
