// Quantization of MIDI ticks to the 16-per-quarter grid; definitions in quantize.hpp.
#include "data/quantize.hpp"

#include <cmath>

#include "tensor/error.hpp"

namespace stripes::data {

int64_t quantize_tick(int64_t midi_tick, int ticks_per_quarter, int grid_ticks_per_quarter) {
  STRIPES_CHECK(ticks_per_quarter > 0, "quantize: ticks per quarter note must be positive, got {}", ticks_per_quarter);
  // The same double product as muspy's round(time * (16 / tpq)); std::nearbyint rounds ties to even
  // in the default floating-point rounding mode, as Python's round().
  const double scale = static_cast<double>(grid_ticks_per_quarter) / static_cast<double>(ticks_per_quarter);
  return static_cast<int64_t>(std::nearbyint(static_cast<double>(midi_tick) * scale));
}

std::vector<GridNote> quantize_notes(std::span<const midi::Note> notes, int ticks_per_quarter,
                                     int grid_ticks_per_quarter) {
  std::vector<GridNote> out;
  out.reserve(notes.size());
  for (const midi::Note& note : notes) {
    GridNote quantized;
    quantized.pitch = note.pitch;
    quantized.velocity = note.velocity;
    quantized.start = quantize_tick(note.start_tick, ticks_per_quarter, grid_ticks_per_quarter);
    quantized.end = quantize_tick(note.end_tick, ticks_per_quarter, grid_ticks_per_quarter);
    out.push_back(quantized);
  }
  return out;
}

}  // namespace stripes::data
