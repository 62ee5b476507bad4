#include "attention/attention_gradchecks.hpp"

#include "attention/causal_product.hpp"
#include "attention/feature_maps.hpp"
#include "attention/linear_attention.hpp"
#include "attention/positional_attention.hpp"

namespace stripes::attention {

namespace {

Tensor fixed_randn(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  return Tensor::randn(shape, g, DType::Float64);
}

PositionalEncodingConfig small_pe(const std::string& name) {
  PositionalEncodingConfig c;
  c.name = name;
  c.heads = 2;
  c.head_dim = 4;
  c.model_dim = 8;
  c.position_dim = name == "fstripe" ? 2 : 1;
  c.num_sines = 2;
  c.realizations = 3;
  c.conv_kernel = 3;
  c.dtype = DType::Float64;
  c.seed = 7;
  return c;
}

AttentionConfig small_attention(const std::string& pe, const std::string& kind) {
  AttentionConfig c;
  c.kind = kind;
  c.model_dim = 8;
  c.heads = 2;
  c.features = 8;
  c.redraw = "fixed";
  c.dtype = DType::Float64;
  c.seed = 3;
  c.pe = small_pe(pe);
  c.pe.position_dim = pe == "fstripe" ? 3 : 1;
  return c;
}

void register_kernel_cases(ag::GradcheckRegistry& r) {
  // The fused rotation with independent cos/sin inputs, at full and at broadcast (batch 1) angles.
  for (bool pooled : {false, true}) {
    for (const Shape& angle_shape : {Shape{2, 3, 4, 3}, Shape{1, 3, 4, 3}}) {
      r.add({"rotate_pairs", fmt::format("{}x [2, 3, 4, 6], cos/sin {}", pooled ? "pooled, " : "", shape_str(angle_shape)),
             {ag::normal({2, 3, 4, 6}), ag::normal(angle_shape), ag::normal(angle_shape)},
             [pooled](const std::vector<ag::Var>& v) { return rotate_pairs(v[0], v[1], v[2], pooled); }});
    }
  }
  // Per-dimension codes, pooled and interleaved, K = 1 (F-StrIPE₁) and K = 2 (the spectral PEs),
  // with full and batch-broadcast cos/sin tables.
  for (bool pooled : {false, true}) {
    for (int64_t sines : {1, 2}) {
      for (int64_t table_batch : {2, 1}) {
        const Shape table_shape = {table_batch, 3, 4, 5 * sines};
        r.add({"dimension_codes", fmt::format("{}a [2, 3, 4, 5], cos/sin {}", pooled ? "pooled, " : "", shape_str(table_shape)),
               {ag::normal({2, 3, 4, 5}), ag::normal(table_shape), ag::normal(table_shape)},
               [pooled](const std::vector<ag::Var>& v) { return dimension_codes(v[0], v[1], v[2], pooled); }});
      }
    }
  }
  for (bool reverse : {false, true}) {
    r.add({"causal_product", reverse ? "reverse, [2, 5, 3] [2, 5, 3] [2, 5, 4]" : "[2, 5, 3] [2, 5, 3] [2, 5, 4]",
           {ag::normal({2, 5, 3}), ag::normal({2, 5, 3}), ag::normal({2, 5, 4})},
           [reverse](const std::vector<ag::Var>& v) { return causal_product(v[0], v[1], v[2], reverse); }});
  }
  // The chunked form with chunks of 2 on T = 5: two full chunks and a partial one.
  for (bool reverse : {false, true}) {
    r.add({"causal_product_chunked",
           reverse ? "reverse, chunk 2, [2, 5, 3] [2, 5, 3] [2, 5, 4]" : "chunk 2, [2, 5, 3] [2, 5, 3] [2, 5, 4]",
           {ag::normal({2, 5, 3}), ag::normal({2, 5, 3}), ag::normal({2, 5, 4})},
           [reverse](const std::vector<ag::Var>& v) { return causal_product_chunked(v[0], v[1], v[2], reverse, 2); }});
  }
  // Chunk 64 on T = 70 (one full chunk and a partial one): on the GPU, the chunked kernel's own size
  // (any other size runs composed there); and the composed form itself, chunk 2.
  for (bool reverse : {false, true}) {
    r.add({"causal_product_chunked",
           reverse ? "reverse, chunk 64, [1, 70, 3] [1, 70, 3] [1, 70, 2]" : "chunk 64, [1, 70, 3] [1, 70, 3] [1, 70, 2]",
           {ag::normal({1, 70, 3}), ag::normal({1, 70, 3}), ag::normal({1, 70, 2})},
           [reverse](const std::vector<ag::Var>& v) { return causal_product_chunked(v[0], v[1], v[2], reverse, 64); }});
    r.add({"causal_product_chunked_composed",
           reverse ? "reverse, chunk 2, [2, 5, 3] [2, 5, 3] [2, 5, 4]" : "chunk 2, [2, 5, 3] [2, 5, 3] [2, 5, 4]",
           {ag::normal({2, 5, 3}), ag::normal({2, 5, 3}), ag::normal({2, 5, 4})},
           [reverse](const std::vector<ag::Var>& v) {
             return causal_product(v[0], v[1], v[2], reverse, CausalAlgorithm::ChunkedComposed, 2);
           }});
  }
  r.add({"linear_attention", "causal, chunked (chunk 4), φ(q), φ(k) [2, 6, 4] > 0, v [2, 6, 3]",
         {ag::positive({2, 6, 4}), ag::positive({2, 6, 4}), ag::normal({2, 6, 3})},
         [](const std::vector<ag::Var>& v) {
           return linear_attention(v[0], v[1], v[2], true, kLinearAttentionEpsilon, nullptr, CausalAlgorithm::Chunked, 4);
         }});
  for (bool causal : {true, false}) {
    for (bool reference : {false, true}) {
      r.add({reference ? "linear_attention_reference" : "linear_attention",
             fmt::format("{}, φ(q), φ(k) [2, 6, 4] > 0, v [2, 6, 3]", causal ? "causal" : "non-causal"),
             {ag::positive({2, 6, 4}), ag::positive({2, 6, 4}), ag::normal({2, 6, 3})},
             [causal, reference](const std::vector<ag::Var>& v) {
               return reference ? linear_attention_reference(v[0], v[1], v[2], causal)
                                : linear_attention(v[0], v[1], v[2], causal);
             }});
    }
  }
  r.add({"softmax_attention", "causal, q, k [2, 5, 3], v [2, 5, 2]", {ag::normal({2, 5, 3}), ag::normal({2, 5, 3}), ag::normal({2, 5, 2})},
         [](const std::vector<ag::Var>& v) { return softmax_attention(v[0], v[1], v[2], true); }});
  const Tensor projection = fixed_randn({3, 4}, 11);
  for (bool stabilize : {false, true}) {
    r.add({"favor_features", stabilize ? "x [2, 4, 3], M 8, query stabilizer" : "x [2, 4, 3], M 8", {ag::normal({2, 4, 3})},
           [projection, stabilize](const std::vector<ag::Var>& v) {
             return favor_features(v[0], projection.to(v[0].value().device()), stabilize);
           }});
  }
  r.add({"trig_features", "x [2, 4, 3], M 8", {ag::normal({2, 4, 3})},
         [projection](const std::vector<ag::Var>& v) { return trig_features(v[0], projection.to(v[0].value().device())); }});
  // convSPE's depthwise filter, fused (CPU; the composed form on other devices) and composed, w.r.t.
  // the filter f [C = 6, K = 3] with fixed noise [6, T + K − 1 = 7, 4] (T = 5).
  const Tensor filter_noise = fixed_randn({6, 7, 4}, 13);
  for (bool composed : {false, true}) {
    r.add({composed ? "depthwise_filter_composed" : "depthwise_filter", "f [6, 3], noise [6, 7, 4], T 5",
           {ag::normal({6, 3})}, [filter_noise, composed](const std::vector<ag::Var>& v) {
             const Tensor noise = filter_noise.to(v[0].value().device());
             return composed ? depthwise_filter_composed(v[0], noise, 5) : depthwise_filter(v[0], noise, 5);
           }});
  }
  // convSPE's pooling without the codes, fused (CPU; composed on other devices) and composed, w.r.t.
  // a [2, 2, 18, 3] (two blocks of 16 steps, the second partial) and f [6, 3] with fixed noise.
  const Tensor pooling_noise = fixed_randn({6, 20, 4}, 14);
  for (bool composed : {false, true}) {
    r.add({composed ? "pooled_filtered_noise_composed" : "pooled_filtered_noise", "a [2, 2, 18, 3], f [6, 3], noise [6, 20, 4]",
           {ag::normal({2, 2, 18, 3}), ag::normal({6, 3})}, [pooling_noise, composed](const std::vector<ag::Var>& v) {
             const Tensor noise = pooling_noise.to(v[0].value().device());
             return composed ? pooled_filtered_noise_composed(v[0], v[1], noise) : pooled_filtered_noise(v[0], v[1], noise);
           }});
  }
  // F-StrIPE's pooled codes from the phases, fused (CPU; composed on other devices) and composed,
  // w.r.t. a [2, 2, 3, 2], the phases (per batch [2, 2, 3, 6] and shared [1, 2, 3, 6]) and λ [2, 6].
  for (bool composed : {false, true}) {
    for (int64_t phase_batch : {2, 1}) {
      r.add({composed ? "pooled_sinusoid_codes_composed" : "pooled_sinusoid_codes",
             fmt::format("a [2, 2, 3, 2], phases [{}, 2, 3, 6], gains [2, 6]", phase_batch),
             {ag::normal({2, 2, 3, 2}), ag::normal({phase_batch, 2, 3, 6}), ag::normal({2, 6})},
             [composed](const std::vector<ag::Var>& v) {
               return composed ? pooled_sinusoid_codes_composed(v[0], v[1], v[2]) : pooled_sinusoid_codes(v[0], v[1], v[2]);
             }});
    }
  }
  // sineSPE's and F-StrIPE:SFF's pooled codes from the phases, fused and composed, w.r.t. a
  // [2, 2, 3, 2], the phases (shared [1, 2, 3, 4] and per batch [2, 2, 3, 4]) and W [2, 8, 3].
  for (bool composed : {false, true}) {
    for (int64_t phase_batch : {1, 2}) {
      r.add({composed ? "pooled_noisy_codes_composed" : "pooled_noisy_codes",
             fmt::format("a [2, 2, 3, 2], phases [{}, 2, 3, 4], weights [2, 8, 3]", phase_batch),
             {ag::normal({2, 2, 3, 2}), ag::normal({phase_batch, 2, 3, 4}), ag::normal({2, 8, 3})},
             [composed](const std::vector<ag::Var>& v) {
               return composed ? pooled_noisy_codes_composed(v[0], v[1], v[2]) : pooled_noisy_codes(v[0], v[1], v[2]);
             }});
    }
  }
  ag::GradcheckCase elu_case{"elu_features", "x [2, 4, 3]", {ag::normal({2, 4, 3})},
                             [](const std::vector<ag::Var>& v) { return elu_features(v[0]); }};
  elu_case.kinks = {0.0};
  r.add(elu_case);
}

// Each PE's encode (or score bias) with q, k and every learned parameter as inputs. The PE is
// rebuilt from its seed at every evaluation, so stochastic PEs see the same noise.
void register_pe_cases(ag::GradcheckRegistry& r) {
  for (const std::string& name : positional_encoding_names()) {
    const PositionalEncodingConfig c = small_pe(name);
    const auto prototype = make_positional_encoding(c);
    std::vector<ag::InputSpec> inputs = {ag::normal({1, 2, 5, 4}), ag::normal({1, 2, 5, 4})};
    for (const auto& [parameter_name, parameter] : prototype->named_parameters()) inputs.push_back(ag::normal(parameter.shape()));
    const Tensor positions = c.position_dim == 1 ? fixed_randn({1, 5}, 5) : fixed_randn({1, 5, 2}, 5);
    r.add({"pe/" + name, "q, k [1, 2, 5, 4] and every PE parameter", inputs, [c, positions](const std::vector<ag::Var>& v) {
             auto pe = make_positional_encoding(c);
             pe->bind_parameters(std::vector<ag::Var>(v.begin() + 2, v.end()));
             if (pe->uses_score_bias()) return pe->score_bias(v[0], positions);
             const auto encoded = pe->encode(v[0], v[1], positions);
             return ag::concat({encoded.query, encoded.key}, -1);
           }});
  }
}

// The whole attention layer: input and every parameter (projections, PE), fixed features.
void register_layer_cases(ag::GradcheckRegistry& r) {
  for (const std::string& pe : positional_encoding_names()) {
    for (const std::string kind : {"linear", "softmax"}) {
      if (pe == "stripe" && kind == "linear") continue;
      const AttentionConfig c = small_attention(pe, kind);
      const PositionalAttention prototype(c, 0);
      std::vector<ag::InputSpec> inputs = {ag::normal({1, 4, 8})};
      for (const auto& [name, parameter] : prototype.named_parameters()) inputs.push_back(ag::normal(parameter.shape()));
      const Tensor positions = c.pe.position_dim == 1 ? fixed_randn({1, 4}, 5) : fixed_randn({1, 4, 3}, 5);
      ag::GradcheckCase check{"attention/" + kind + "/" + pe, "x [1, 4, 8], d_model 8, 2 heads, M 8", inputs,
                              [c, positions](const std::vector<ag::Var>& v) {
                                PositionalAttention layer(c, 0);
                                layer.bind_parameters(std::vector<ag::Var>(v.begin() + 1, v.end()));
                                return layer.forward(v[0], {positions, true});
                              }};
      check.tolerance = 1e-5;  // chains of ~20 ops in float64; a wrong rule errs by O(1)
      r.add(check);
    }
  }
  // One layer with the chunked causal product (chunks of 3 on T = 4).
  AttentionConfig c = small_attention("ropepool", "linear");
  c.causal_algorithm = "chunked";
  c.causal_chunk = 3;
  const PositionalAttention prototype(c, 0);
  std::vector<ag::InputSpec> inputs = {ag::normal({1, 4, 8})};
  for (const auto& [name, parameter] : prototype.named_parameters()) inputs.push_back(ag::normal(parameter.shape()));
  const Tensor positions = fixed_randn({1, 4}, 5);
  ag::GradcheckCase check{"attention/linear/ropepool", "chunked causal product (chunk 3), x [1, 4, 8], d_model 8, 2 heads, M 8",
                          inputs, [c, positions](const std::vector<ag::Var>& v) {
                            PositionalAttention layer(c, 0);
                            layer.bind_parameters(std::vector<ag::Var>(v.begin() + 1, v.end()));
                            return layer.forward(v[0], {positions, true});
                          }};
  check.tolerance = 1e-5;
  r.add(check);
}

}  // namespace

const ag::GradcheckRegistry& attention_gradchecks() {
  static const ag::GradcheckRegistry registry = [] {
    ag::GradcheckRegistry r;
    register_kernel_cases(r);
    register_pe_cases(r);
    register_layer_cases(r);
    return r;
  }();
  return registry;
}

}  // namespace stripes::attention
