// The SVG plotting module: well-formed output, heatmap cells and colours, tick placement on
// linear and log axes, text escaping.
#include "experiments/plot/svg_plot.hpp"
#include "tensor/error.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace plot = stripes::plot;

namespace {

struct Element {
  std::string name;
  std::map<std::string, std::string> attributes;
};

// A minimal XML reader for what the module writes: checks that tags balance, that every attribute
// is quoted, and that '&' only starts an entity. Returns the elements in document order.
std::vector<Element> parse_xml(const std::string& text) {
  std::vector<Element> elements;
  std::vector<std::string> open;
  const std::regex attribute(R"re(([A-Za-z_:][-A-Za-z0-9_:.]*)="([^"<]*)")re");
  size_t at = 0;
  while (at < text.size()) {
    const size_t lt = text.find('<', at);
    const std::string between = text.substr(at, lt == std::string::npos ? std::string::npos : lt - at);
    for (size_t amp = between.find('&'); amp != std::string::npos; amp = between.find('&', amp + 1)) {
      const size_t semi = between.find(';', amp);
      EXPECT_NE(semi, std::string::npos) << "bare & in text: " << between;
      if (semi == std::string::npos) break;
      const std::string entity = between.substr(amp, semi - amp + 1);
      EXPECT_TRUE(entity == "&amp;" || entity == "&lt;" || entity == "&gt;" || entity == "&quot;" || entity == "&apos;")
          << entity;
    }
    EXPECT_EQ(between.find('>'), std::string::npos) << "stray '>' in text: " << between;
    if (lt == std::string::npos) break;
    if (text.compare(lt, 2, "<?") == 0) {
      at = text.find("?>", lt) + 2;
      continue;
    }
    if (text.compare(lt, 4, "<!--") == 0) {
      at = text.find("-->", lt) + 3;
      continue;
    }
    const size_t gt = text.find('>', lt);
    EXPECT_NE(gt, std::string::npos) << "unterminated tag";
    if (gt == std::string::npos) break;
    std::string tag = text.substr(lt + 1, gt - lt - 1);
    if (!tag.empty() && tag[0] == '/') {
      EXPECT_FALSE(open.empty()) << "closing tag without an opening one: " << tag;
      if (!open.empty()) {
        EXPECT_EQ(open.back(), tag.substr(1));
        open.pop_back();
      }
    } else {
      const bool self_closing = !tag.empty() && tag.back() == '/';
      if (self_closing) tag.pop_back();
      Element element;
      const size_t space = tag.find_first_of(" \n\t");
      element.name = tag.substr(0, space);
      std::string rest = space == std::string::npos ? "" : tag.substr(space);
      for (std::sregex_iterator it(rest.begin(), rest.end(), attribute), end; it != end; ++it) {
        element.attributes[(*it)[1]] = (*it)[2];
      }
      // Nothing but whitespace may be left once the attributes are removed.
      const std::string leftover = std::regex_replace(rest, attribute, "");
      EXPECT_EQ(leftover.find_first_not_of(" \n\t"), std::string::npos) << "malformed attributes in <" << tag << ">";
      elements.push_back(element);
      if (!self_closing) open.push_back(element.name);
    }
    at = gt + 1;
  }
  EXPECT_TRUE(open.empty()) << "unclosed tags, first: " << (open.empty() ? "" : open.front());
  return elements;
}

bool parses_as_number(const std::string& text, double& value) {
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0' && std::isfinite(value);
}

// Every geometric attribute is a finite number; points and path data are lists of numbers.
void expect_numeric_geometry(const std::vector<Element>& elements) {
  for (const Element& e : elements) {
    for (const char* name : {"x", "y", "width", "height", "cx", "cy", "r", "x1", "y1", "x2", "y2", "font-size"}) {
      const auto it = e.attributes.find(name);
      if (it == e.attributes.end()) continue;
      double v;
      EXPECT_TRUE(parses_as_number(it->second, v)) << e.name << " " << name << "=\"" << it->second << "\"";
    }
    for (const char* name : {"points", "d"}) {
      const auto it = e.attributes.find(name);
      if (it == e.attributes.end()) continue;
      std::string numbers = std::regex_replace(it->second, std::regex("[MLZ,]"), " ");
      std::stringstream stream(numbers);
      std::string item;
      int count = 0;
      while (stream >> item) {
        double v;
        EXPECT_TRUE(parses_as_number(item, v)) << e.name << " " << name << ": '" << item << "'";
        ++count;
      }
      EXPECT_GT(count, 0);
      EXPECT_EQ(count % 2, 0) << "odd number of coordinates in " << name;
    }
  }
}

std::vector<Element> with_class(const std::vector<Element>& elements, const std::string& cls) {
  std::vector<Element> out;
  for (const Element& e : elements) {
    const auto it = e.attributes.find("class");
    if (it != e.attributes.end() && it->second == cls) out.push_back(e);
  }
  return out;
}

double attribute(const Element& e, const std::string& name) {
  double v = NAN;
  EXPECT_TRUE(parses_as_number(e.attributes.at(name), v));
  return v;
}

plot::Figure sample_figure() {
  plot::Figure figure(1, 3);
  figure.title = "A < B & \"C\" 'D' > E";
  figure.caption = "first line\nsecond line: ψ ~ N(C, σ²)";
  plot::Panel& heat = figure.panel(0, 0);
  heat.title = "heat";
  heat.heatmap = plot::Heatmap{.rows = 3, .cols = 4, .values = {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.25}};
  heat.y.ticks = {0, 1, 2};
  heat.y.tick_labels = {"0.0", "0.5", "1.0"};
  heat.x_bands = {{-0.5, 1.5, plot::colors::category(2), "other"}, {1.5, 3.5, plot::colors::category(0), "same"}};

  plot::Panel& scatter = figure.panel(0, 1);
  scatter.title = "scatter <points>";
  scatter.equal_aspect = true;
  scatter.series.push_back({.label = "context 1 & 2", .color = plot::colors::category(0), .x = {0.1, 0.5, -0.3}, .y = {0.9, 0.2, 0.4}});
  scatter.series.push_back({.label = "query", .color = plot::colors::category(1), .marker = plot::Marker::Star, .marker_size = 10,
                            .x = {0.0}, .y = {1.0}});

  plot::Panel& line = figure.panel(0, 2);
  line.title = "metric vs MI";
  line.x = {.label = "mutual information (nats)", .log = true, .min = 1e-3, .max = 1.0};
  line.y.label = "CS";
  line.series.push_back({.label = "RoPE", .marker = plot::Marker::Square, .x = {0.005, 0.04, 0.9}, .y = {0.5, 0.6, 0.7},
                         .y_error = {0.05, 0.1, 0.02}, .line = true});
  return figure;
}

}  // namespace

TEST(SvgPlot, OutputIsWellFormedWithNumericGeometryAndEscapedText) {
  const std::string svg = sample_figure().to_svg();
  const std::vector<Element> elements = parse_xml(svg);
  ASSERT_FALSE(elements.empty());
  EXPECT_EQ(elements.front().name, "svg");
  EXPECT_EQ(elements.front().attributes.at("xmlns"), "http://www.w3.org/2000/svg");
  expect_numeric_geometry(elements);
  EXPECT_NE(svg.find("A &lt; B &amp; &quot;C&quot; &apos;D&apos; &gt; E"), std::string::npos);
  EXPECT_NE(svg.find("scatter &lt;points&gt;"), std::string::npos);
  EXPECT_NE(svg.find("context 1 &amp; 2"), std::string::npos);
  EXPECT_EQ(with_class(elements, "errorbar").size(), 3u);
  EXPECT_EQ(with_class(elements, "band").size(), 2u);
  // 3 + 1 scatter markers, 3 line markers, and one marker per legend entry (3).
  EXPECT_EQ(with_class(elements, "marker").size(), 4u + 3u + 3u);
}

TEST(SvgPlot, EscapeXml) {
  EXPECT_EQ(plot::escape_xml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
  EXPECT_EQ(plot::escape_xml("F-StrIPE\u2081 ψ"), "F-StrIPE\u2081 ψ");  // UTF-8 passes through
}

TEST(SvgPlot, HeatmapHasOneCellPerValueWithItsColour) {
  plot::Figure figure(1, 1);
  const int64_t rows = 3, cols = 4;
  std::vector<double> values;
  for (int64_t i = 0; i < rows * cols; ++i) values.push_back(double(i) / double(rows * cols - 1));
  figure.panel(0, 0).heatmap = plot::Heatmap{.rows = rows, .cols = cols, .values = values};
  const std::vector<Element> elements = parse_xml(figure.to_svg());
  const std::vector<Element> cells = with_class(elements, "cell");
  ASSERT_EQ(cells.size(), size_t(rows * cols));
  EXPECT_EQ(with_class(elements, "colorbar").size(), 64u);
  // Cell (row 1, col 2) holds value 6/11; row 0 is drawn lowest.
  bool found = false;
  double y_row0 = NAN, y_row2 = NAN;
  for (const Element& cell : cells) {
    const int row = std::stoi(cell.attributes.at("data-row")), col = std::stoi(cell.attributes.at("data-col"));
    if (row == 1 && col == 2) {
      found = true;
      EXPECT_EQ(cell.attributes.at("fill"), plot::map_color(plot::ColorMap::Viridis, 6.0 / 11.0).hex());
    }
    if (col == 0 && row == 0) y_row0 = attribute(cell, "y");
    if (col == 0 && row == 2) y_row2 = attribute(cell, "y");
  }
  EXPECT_TRUE(found);
  EXPECT_GT(y_row0, y_row2);  // SVG y grows downwards: row 0 at the bottom
  // The colour map's ends and a gray midpoint.
  EXPECT_EQ(plot::map_color(plot::ColorMap::Viridis, 0.0).hex(), "#440154");
  EXPECT_EQ(plot::map_color(plot::ColorMap::Viridis, 1.0).hex(), "#fde725");
  EXPECT_EQ(plot::map_color(plot::ColorMap::Viridis, 2.0).hex(), "#fde725");  // clamped
  EXPECT_EQ(plot::map_color(plot::ColorMap::Gray, 0.5).hex(), "#808080");
  EXPECT_EQ(plot::map_color(plot::ColorMap::Gray, 0.0).hex(), "#000000");
}

TEST(SvgPlot, LinearAndLogTicks) {
  const std::vector<double> linear = plot::Scale(0.0, 1.0).ticks();
  ASSERT_EQ(linear.size(), 6u);
  for (size_t i = 0; i < linear.size(); ++i) EXPECT_NEAR(linear[i], 0.2 * double(i), 1e-12);

  const plot::Scale log(1e-3, 1.0, true);
  const std::vector<double> decades = log.ticks();
  ASSERT_EQ(decades.size(), 4u);
  for (size_t i = 0; i < decades.size(); ++i) EXPECT_NEAR(decades[i], std::pow(10.0, double(i) - 3), 1e-15);
  EXPECT_NEAR(log.fraction(1e-2), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(log.fraction(std::sqrt(10.0) * 1e-3), 1.0 / 6.0, 1e-12);
  const std::vector<double> narrow = plot::Scale(1.0, 50.0, true).ticks();
  EXPECT_EQ(narrow, (std::vector<double>{1, 2, 5, 10, 20, 50}));

  // In the drawn figure the decade ticks of the log x axis are equally spaced and in order.
  plot::Figure figure(1, 1);
  figure.panel(0, 0) = sample_figure().panel(0, 2);  // the log-x line panel alone
  const std::vector<Element> ticks = with_class(parse_xml(figure.to_svg()), "tick-x");
  std::vector<double> positions;
  for (const Element& t : ticks) {
    const std::string& value = t.attributes.at("data-value");
    if (value == "0.001" || value == "0.01" || value == "0.1" || value == "1") positions.push_back(attribute(t, "x1"));
  }
  ASSERT_EQ(positions.size(), 4u);
  const double spacing = positions[1] - positions[0];
  EXPECT_GT(spacing, 10.0);
  for (size_t i = 1; i < positions.size(); ++i) EXPECT_NEAR(positions[i] - positions[i - 1], spacing, 0.02);
}

TEST(SvgPlot, TickLabels) {
  EXPECT_EQ(plot::decimal_label(0.0, 2), "0.0");
  EXPECT_EQ(plot::decimal_label(0.125, 2), "0.12");  // the paper's f ticks: 0.0, 0.12, 0.25, 0.38, ...
  EXPECT_EQ(plot::decimal_label(0.375, 2), "0.38");
  EXPECT_EQ(plot::decimal_label(0.5, 2), "0.5");
  EXPECT_EQ(plot::decimal_label(1.0, 2), "1.0");
  EXPECT_EQ(plot::tick_label(0.001), "0.001");
  EXPECT_EQ(plot::tick_label(100.0), "100");
  EXPECT_EQ(plot::tick_label(-0.0), "0");
}

TEST(SvgPlot, BadInputsAreRejected) {
  EXPECT_THROW(plot::Scale(1.0, 1.0), stripes::Error);
  EXPECT_THROW(plot::Scale(0.0, 1.0, true), stripes::Error);
  EXPECT_THROW(plot::Color::from_hex("#12345g"), stripes::Error);
  plot::Figure figure(1, 1);
  figure.panel(0, 0).heatmap = plot::Heatmap{.rows = 2, .cols = 2, .values = {1, 2, 3}};
  EXPECT_THROW(figure.to_svg(), stripes::Error);
  EXPECT_THROW(figure.panel(1, 0), stripes::Error);
}
