// The synthetic toy study of the paper (method.md §3, Figs. 2-3), computed through the project's
// own positional encodings (attention/positional_encoding.hpp), not through re-typed formulas.
//
// Setting (D = 2, one pair; docs/toy.md lists every inferred choice):
//   N contexts at angles C_i = iπ/(N+1), i = 1..N                     (30°, 60°, …, 150° for N = 5)
//   P = N·n points; point j of context k: content ψ_j ~ N(C_k, σ²), context ξ_j = C_k
//   content vectors x_j = [cos ψ_j, sin ψ_j]; the query is one point of the middle context
//   frequencies f = linspace(0, 1, F)
//   score of the query with key j = encode(x_q)·encode(x_j) of the PE with heads 1, head_dim 2,
//   positions ξ and every frequency parameter set to f:
//     RoPE (rope-c)                 cos((ψ_q − ψ_j) + f(ξ_q − ξ_j))                      eq. 24
//     F-StrIPE₁ (fstripe1, unpooled) cos(ψ_q − ψ_j) · cos(f(ξ_q − ξ_j))                 eq. 25
//     RoPEPool (ropepool)           2 cos(ψ_q + fξ_q − π/4) · cos(ψ_j + fξ_j − π/4)      eq. 26
//
// Points are kept in display order: grouped by context (context 0 first, so the keys of the
// query's context sit in the middle of the x axis, the others left and right of them), draw order
// within a context (not sorted by ψ).
#pragma once

#include "attention/positional_encoding.hpp"
#include "tensor/tensor.hpp"

#include <array>
#include <memory>
#include <string_view>
#include <vector>

namespace stripes::toy {

struct ToyOptions {
  int64_t contexts = 5;            // N
  int64_t points_per_context = 5;  // P / N  (P = 25: 10 | 5 | 10 key columns in the paper's Fig. 3)
  double sigma = 0.15;             // std of the content angle around its context angle (radians)
  uint64_t seed = 0;               // the draw of ψ
  int64_t frequencies = 41;        // F: f = linspace(0, 1, F)
  int64_t query_slot = 0;          // which point (in draw order) of the middle context is the query
};

struct ToySet {
  std::vector<double> context_angles;  // C_1..C_N
  std::vector<double> psi;             // content angle of each point [P]
  std::vector<double> xi;              // context angle of each point [P]
  std::vector<int64_t> context;        // context index 0..N-1 of each point [P]
  int64_t query = 0;                   // the query's point index

  int64_t points() const { return int64_t(psi.size()); }
  int64_t contexts() const { return int64_t(context_angles.size()); }
  int64_t query_context() const { return context[size_t(query)]; }
  bool same_context(int64_t j) const { return context[size_t(j)] == query_context(); }
  // [P, 2] float64: x_j = [cos ψ_j, sin ψ_j]
  Tensor content() const;
  // [1, P] float64: ξ
  Tensor positions() const;
};

// The context angles and a seeded draw of the points (options.seed), in display order.
ToySet draw_toy_set(const ToyOptions& options);
// Same, drawing ψ from `generator` (advances it): the learned model trains on fresh sets.
ToySet draw_toy_set(const ToyOptions& options, Generator& generator);

// f = linspace(0, 1, count)
std::vector<double> frequency_grid(int64_t count);

// ---- the three PEs of Fig. 3 -----------------------------------------------------------------------
enum class Method { Rope, FStripe1, RopePool };
inline constexpr std::array<Method, 3> kMethods = {Method::Rope, Method::FStripe1, Method::RopePool};
std::string_view method_title(Method method);    // "RoPE", "F-StrIPE₁", "RoPEPool"
std::string_view method_key(Method method);      // "rope", "fstripe1", "ropepool" (HDF5 names, CLI)
std::string_view method_pe_name(Method method);  // the PE's registry name: "rope-c", "fstripe1", "ropepool"

// The PE of `method` for the toy: heads 1, head_dim 2, scalar positions, float64; F-StrIPE₁
// unpooled (fstripe1_pooled = false: the form that equals eq. 25, see docs/toy.md).
std::shared_ptr<attention::PositionalEncoding> make_toy_encoding(Method method);

// a[b, 0, m, n] = encode(q)_m · encode(k)_n of a fresh toy PE whose every frequency parameter is
// `frequency` (shape [1]; bound through Module::bind_parameters, so gradients reach it).
//   queries, keys: [B, 1, T, 2]   positions: [B or 1, T]   -> [B, 1, T, T]
ag::Var toy_pe_scores(Method method, const ag::Var& queries, const ag::Var& keys, const Tensor& positions,
                      const ag::Var& frequency);

// The query's score with every key for every frequency, through the PE:  [F, P] float64.
// frequency_sign = −1 evaluates the PE at −f (the mirrored orientation, docs/toy.md).
// With w_query / w_key given ([2, 2]), the content vectors are mapped first: q_j = W_q x_j, k_j = W_k x_j.
Tensor score_map(Method method, const ToySet& set, const std::vector<double>& frequencies, double frequency_sign = 1.0,
                 const Tensor& w_query = {}, const Tensor& w_key = {});
// The same map from the closed forms of eqs. 24-26 (plain doubles), for the tests.
Tensor closed_form_map(Method method, const ToySet& set, const std::vector<double>& frequencies,
                       double frequency_sign = 1.0);
// Min-max rescaling over the whole map to [0, 1] (per panel, not per row); a constant map gives 0.5.
Tensor rescale_panel(const Tensor& map);

// ---- the properties the paper describes, measured on a rescaled map --------------------------------
struct MapProperties {
  std::vector<double> same_mean;       // per f: mean over the query's context keys (the query included)
  std::vector<double> different_mean;  // per f: mean over the other keys
  std::vector<double> separation;      // same_mean − different_mean
  double same_variation = 0;           // largest change over f of a same-context key's score
  int64_t rows_same_above_different = 0;  // rows with same_mean > different_mean
  int64_t rows_top_key_same = 0;       // rows whose highest-scoring key is in the query's context
  // Left/right asymmetry: mean over f and over d = 1..N/2 of |mean(context c−d) − mean(context c+d)|,
  // c the query's context: keys at −θ and +θ around the query's context angle.
  double mirror_asymmetry = 0;
};
MapProperties measure_properties(const Tensor& rescaled_map, const ToySet& set);

// The set reflected about the query: ψ'_j = 2ψ_q − ψ_j, ξ'_j = 2ξ_q − ξ_j, so a key at −θ (content
// and context) from the query becomes one at +θ; the query stays where it is.
ToySet reflect_about_query(const ToySet& set);
// Left/right asymmetry free of the draw's noise: mean over f and keys of |a(q, j) − a(q, j')|, j' the
// reflection of key j, both through the PE, divided by the range of the map. A kernel that depends
// only on the differences ψ_q − ψ_j and ξ_q − ξ_j through an even function gives exactly 0.
double reflection_gap(Method method, const ToySet& set, const std::vector<double>& frequencies, double frequency_sign = 1.0);

}  // namespace stripes::toy
