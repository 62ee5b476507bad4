// A small plotting module that writes figures as standalone SVG files.
//
// Why SVG and not a plotting library: Debian packages no C++ plotting library that fits a
// dependency-free build (matplotlib-cpp needs Python, gnuplot-iostream a gnuplot process, PLplot
// and ROOT are large), and an SVG is plain text: vector output, real text labels, no font
// rasterization, viewable in any browser and convertible with `rsvg-convert` (librsvg2-bin).
//
// Model: a Figure is a grid of Panels. A Panel has a title, an x and a y Axis, and layers drawn
// in this order: an optional Heatmap (matrix of coloured cells with a colour bar), coloured
// Bands along the x axis (e.g. key groups under a heatmap), and Series (points with markers,
// optional connecting line, optional vertical error bars). Axes are linear or log10.
//
//   plot::Figure figure(1, 3);
//   plot::Panel& p = figure.panel(0, 0);
//   p.title = "RoPE";
//   p.heatmap = plot::Heatmap{rows, cols, values};      // row 0 drawn at the bottom
//   figure.save("fig3.svg");
//
// Coordinates inside a heatmap panel are cell indices: column c spans x ∈ [c − ½, c + ½], row r
// spans y ∈ [r − ½, r + ½], so ticks are given in index units with text labels.
//
// Every element the tests look at carries a class: heatmap cells `class="cell"` (with data-row,
// data-col), colour-bar strips `class="colorbar"`, markers `class="marker"`, error bars
// `class="errorbar"`, tick marks `class="tick-x"` / `class="tick-y"` (with data-value).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stripes::plot {

// ---- colours ---------------------------------------------------------------------------------------
struct Color {
  uint8_t r = 0, g = 0, b = 0;
  std::string hex() const;                     // "#rrggbb"
  static Color from_hex(std::string_view hex);  // "#rrggbb"; throws stripes::Error otherwise
  bool operator==(const Color&) const = default;
};

namespace colors {
inline constexpr Color black{0, 0, 0};
inline constexpr Color white{255, 255, 255};
inline constexpr Color gray{128, 128, 128};
inline constexpr Color light_gray{210, 210, 210};
// A qualitative palette (matplotlib's tab10), for series and contexts.
Color category(int index);
}  // namespace colors

enum class ColorMap { Viridis, Gray };
// Colour of t ∈ [0, 1] (clamped; NaN gives mid-gray). Viridis: linear interpolation between
// 10 samples of matplotlib's viridis; Gray: black (0) to white (1).
Color map_color(ColorMap map, double t);
std::string_view colormap_name(ColorMap map);

// ---- text ------------------------------------------------------------------------------------------
// Escapes & < > " ' for use in SVG text and attribute values.
std::string escape_xml(std::string_view text);
// Automatic tick label: up to 6 significant digits, no trailing zeros ("100", "0.25", "0.001", "1e-05").
std::string tick_label(double value);
// Fixed decimals with trailing zeros trimmed down to one decimal: decimal_label(0.125, 2) = "0.12"
// (round half to even, as matplotlib's labels), decimal_label(0.5, 2) = "0.5", decimal_label(1, 2) = "1.0".
std::string decimal_label(double value, int decimals);

// ---- scales ----------------------------------------------------------------------------------------
// Maps data values of [low, high] onto fractions [0, 1] of an axis, linearly or in log10.
class Scale {
 public:
  Scale(double low, double high, bool log = false);  // log needs 0 < low < high
  double fraction(double value) const;              // 0 at low, 1 at high
  double low() const { return low_; }
  double high() const { return high_; }
  bool log() const { return log_; }
  // Automatic ticks inside [low, high]: linear ticks at multiples of 1, 2 or 5 × 10^k (about
  // `target` of them); log ticks at the powers of ten, plus 2× and 5× when the range spans fewer
  // than two decades.
  std::vector<double> ticks(int target = 5) const;

 private:
  double low_, high_;
  bool log_;
};

// ---- figure contents -------------------------------------------------------------------------------
struct Axis {
  std::string label;
  bool log = false;
  std::optional<double> min, max;        // default: from the data (heatmap: the cell edges)
  std::vector<double> ticks;             // empty: automatic
  std::vector<std::string> tick_labels;  // empty: tick_label(value); else one per tick
  std::vector<Color> tick_colors;        // empty: black; else one per tick
};

struct Heatmap {
  int64_t rows = 0, cols = 0;
  std::vector<double> values;  // row-major [rows, cols]; row 0 is drawn at the bottom
  ColorMap colormap = ColorMap::Viridis;
  double vmin = 0.0, vmax = 1.0;  // the colour map's range (values are clamped into it)
  bool colorbar = true;
  std::string colorbar_label;
};

enum class Marker { Circle, Square, Triangle, Star, Cross, None };

struct Series {
  std::string label;  // "" : not in the legend
  Color color = colors::black;
  Marker marker = Marker::Circle;
  double marker_size = 4.0;  // radius-like size in pixels
  std::vector<double> x, y;
  std::vector<double> y_error;  // empty, or one half-width per point (drawn as a vertical bar with caps)
  bool line = false;            // connect the points in order
  bool dashed = false;
  double line_width = 1.5;
  Color edge = colors::black;   // marker outline (stars and squares)
};

// A coloured strip under the plot area covering x ∈ [begin, end] (data units), with an optional
// label written above the plot area in the same colour.
struct Band {
  double begin = 0, end = 0;
  Color color = colors::gray;
  std::string label;
};

// A horizontal or vertical reference line across the plot area, with an optional label.
struct ReferenceLine {
  bool horizontal = true;
  double value = 0;
  Color color = colors::black;
  bool dashed = true;
  std::string label;
};

struct Panel {
  std::string title;
  Axis x, y;
  std::optional<Heatmap> heatmap;
  std::vector<Series> series;
  std::vector<Band> x_bands;
  std::vector<ReferenceLine> reference_lines;
  bool equal_aspect = false;  // one data unit is the same length on both axes
  bool legend = true;         // a legend right of the plot when some series has a label
  bool grid = false;          // light grid lines at the ticks
};

class Figure {
 public:
  // A rows × cols grid of panels, each cell panel_width × panel_height pixels (margins included).
  Figure(int rows, int cols, double panel_width = 380, double panel_height = 320);

  Panel& panel(int row, int col);
  const Panel& panel(int row, int col) const;
  int rows() const { return rows_; }
  int cols() const { return cols_; }

  std::string title;     // above the grid ("" : none)
  std::string caption;   // small text below the grid ("" : none); '\n' starts a new line

  std::string to_svg() const;
  // Writes to_svg() to `path` (creating parent folders); throws stripes::Error on failure.
  void save(const std::string& path) const;

 private:
  int rows_, cols_;
  double panel_width_, panel_height_;
  std::vector<Panel> panels_;
};

// PNG export through `rsvg-convert` (Debian: librsvg2-bin), when it is on the PATH.
bool rsvg_convert_available();
// Converts svg_path to png_path at `scale`; throws stripes::Error when the tool is missing or fails.
void convert_svg_to_png(const std::string& svg_path, const std::string& png_path, double scale = 1.5);

}  // namespace stripes::plot
