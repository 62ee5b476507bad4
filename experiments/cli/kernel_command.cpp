// `stripes kernel`: build one attention layer with a chosen positional encoding on random inputs
// (or given positions) and write the materialized T×T attention kernel — exact and random-feature
// estimate — with every intermediate of the layer, so a reader can look at it in h5py.
//
//   /forward/...                the layer's recorded intermediates (q, k, v, PE angles / codes, φ(q̂), φ(k̂), ...)
//   /kernel/positions           the positions used, [T] or [T, L]
//   /kernel/scores              a_mn = q̂_m · k̂_n per head                        [H, T, T]
//   /kernel/exact               softmax weights: row-normalized exp(a_mn/√d_φ + bias), causal   [H, T, T]
//   /kernel/estimate            linear-attention weights: row-normalized φ(q̂_m)·φ(k̂_n), causal [H, T, T]
//   /kernel/estimate_unnormalized   φ(q̂_m)·φ(k̂_n)                              [H, T, T]
#include "attention/linear_attention.hpp"
#include "attention/positional_attention.hpp"
#include "autograd/recorder.hpp"
#include "experiments/cli/command_registry.hpp"
#include "nn/softmax_attention.hpp"
#include "tensor/io/tensor_io.hpp"

#include <fmt/core.h>

#include <cmath>
#include <sstream>

namespace stripes::cli {

namespace {

struct KernelOptions {
  std::string pe = "rope-c";
  std::string positions = "time";
  int64_t steps = 64;
  int64_t model_dim = 64;
  int64_t heads = 2;
  int64_t features = 128;
  std::string feature_map = "favor";
  uint64_t seed = 0;
  std::string dump;
};

Tensor floor_positions(const Tensor& x) {
  Tensor out = x.clone();
  float* p = out.mutable_data<float>();
  for (int64_t i = 0; i < out.numel(); ++i) p[i] = std::floor(p[i]);
  return out;
}

// "time" -> 0..T-1; "random:N" -> integers in [0, N); "chroma" -> random 12-bit vectors;
// "1,5,5,2,..." -> the given values (T of them).
Tensor make_positions(const std::string& spec, int64_t steps, Generator& generator, int64_t& position_dim) {
  position_dim = 1;
  if (spec == "time") return Tensor::arange(steps, DType::Int64).to(DType::Float32).reshape({1, steps});
  if (spec.rfind("random:", 0) == 0) {
    const int64_t n = std::stoll(spec.substr(7));
    STRIPES_CHECK(n > 0, "kernel: --positions random:N needs N > 0, got '{}'", spec);
    return floor_positions(Tensor::rand({1, steps}, generator, DType::Float32, 0.0, double(n)));
  }
  if (spec == "chroma") {
    position_dim = 12;
    return Tensor::bernoulli({1, steps, 12}, 0.25, generator, DType::Float32);
  }
  std::vector<float> values;
  std::stringstream stream(spec);
  std::string item;
  while (std::getline(stream, item, ',')) {
    try {
      values.push_back(std::stof(item));
    } catch (const std::exception&) {
      throw_error("kernel: --positions: '{}' is not a number (expected time, random:N, chroma or a comma list)", item);
    }
  }
  STRIPES_CHECK(int64_t(values.size()) == steps, "kernel: --positions gives {} values but --T is {}", values.size(), steps);
  return Tensor::from_vector(values, {1, steps});
}

}  // namespace

static void add_kernel_command(CLI::App& app) {
  auto options = std::make_shared<KernelOptions>();
  auto* cmd = app.add_subcommand("kernel", "Write one attention layer's materialized T x T kernel (exact and estimated) to HDF5");
  cmd->add_option("--pe", options->pe, "Positional encoding")->check(CLI::IsMember(attention::positional_encoding_names()));
  cmd->add_option("--positions", options->positions, "time | random:N | chroma | comma-separated values");
  cmd->add_option("--T", options->steps, "Sequence length")->check(CLI::Range(1, 4096));
  cmd->add_option("--d-model", options->model_dim, "Model dimension");
  cmd->add_option("--heads", options->heads, "Attention heads");
  cmd->add_option("--features", options->features, "Random features M of the feature map");
  cmd->add_option("--feature-map", options->feature_map, "favor | trig | elu")->check(CLI::IsMember({"favor", "trig", "elu"}));
  cmd->add_option("--seed", options->seed, "Seed for inputs, parameters and features");
  cmd->add_option("--dump", options->dump, "Output HDF5 file")->required();
  cmd->callback([options] {
    const KernelOptions& o = *options;
    Generator generator(o.seed);
    int64_t position_dim = 1;
    const Tensor positions = make_positions(o.positions, o.steps, generator, position_dim);
    attention::AttentionConfig config;
    config.kind = o.pe == "stripe" ? "softmax" : "linear";
    config.model_dim = o.model_dim;
    config.heads = o.heads;
    config.features = o.features;
    config.feature_map = o.feature_map;
    config.redraw = "fixed";
    config.seed = o.seed;
    config.pe.name = o.pe;
    config.pe.position_dim = position_dim;
    attention::PositionalAttention layer(config, 0);
    layer.eval();
    const Tensor x = Tensor::randn({1, o.steps, o.model_dim}, generator);

    ag::NoGradGuard no_grad;
    {
      ag::Recorder recorder(o.dump);
      ag::RecordingScope scope(recorder);
      layer.forward(ag::Var(x), {positions, true});
    }
    // The kernel itself, from the same layer and the queries and keys it recorded.
    io::Hdf5File file(o.dump, io::OpenMode::kReadWrite);
    const Tensor rq = io::load_tensor(file, "/forward/q"), rk = io::load_tensor(file, "/forward/k");
    const auto encoded = layer.positional_encoding().encode(ag::Var(rq), ag::Var(rk), positions);
    const Tensor scores = matmul(encoded.query.value(), encoded.key.value().transpose(-1, -2)).squeeze(0);  // [H, T, T]
    Tensor logits = scores * (1.0 / std::sqrt(double(encoded.query.size(-1))));
    if (layer.positional_encoding().uses_score_bias()) {
      logits = logits + layer.positional_encoding().score_bias(ag::Var(rq), positions).value().squeeze(0);
    }
    const Tensor masked = where(nn::causal_mask(o.steps), Tensor::scalar(-INFINITY), logits);
    const Tensor shifted = exp(masked - max(masked, {-1}, true));
    const Tensor exact = shifted / sum(shifted, {-1}, true);
    io::save_tensor(file, "/kernel/positions", positions.squeeze(0), {{"description", "positions (context) used"}});
    io::save_tensor(file, "/kernel/scores", scores, {{"description", "a_mn = q̂_m · k̂_n per head [H, T, T]"}});
    io::save_tensor(file, "/kernel/exact", exact,
                    {{"description", "softmax attention weights, row-normalized exp(a/√d_φ + bias), causal [H, T, T]"}});
    double relative_error = NAN;
    if (config.kind == "linear") {
      const ag::Var phi_q = layer.features(encoded.query, true), phi_k = layer.features(encoded.key, false);
      const Tensor raw = matmul(phi_q.value(), phi_k.value().transpose(-1, -2)).squeeze(0);
      const Tensor estimate = attention::linear_attention_weights(phi_q.value(), phi_k.value(), true).squeeze(0);
      io::save_tensor(file, "/kernel/estimate_unnormalized", raw, {{"description", "φ(q̂_m) · φ(k̂_n) [H, T, T]"}});
      io::save_tensor(file, "/kernel/estimate", estimate,
                      {{"description", "linear-attention weights, row-normalized φ(q̂)·φ(k̂), causal [H, T, T]"}});
      const Tensor diff = estimate - exact;
      relative_error = std::sqrt(sum(diff * diff).item() / sum(exact * exact).item());
    }
    file.write_attribute("/kernel", "pe", o.pe);
    file.write_attribute("/kernel", "feature_map", config.kind == "linear" ? o.feature_map : std::string("none (exact)"));
    file.write_attribute("/kernel", "features", o.features);
    const auto properties = layer.positional_encoding().kernel_properties();
    fmt::print("{}: T {}, d_φ {}, kernel {} and {}{}\n", layer.describe(), o.steps, layer.positional_encoding().feature_dim(),
               properties.positive_definite ? "positive definite" : "not positive definite",
               properties.lag_only ? "lag-only" : "not lag-only", properties.stochastic ? ", stochastic" : "");
    if (!std::isnan(relative_error)) {
      fmt::print("relative error of the random-feature estimate (M = {}) against the exact softmax weights: {:.4f}\n",
                 o.features, relative_error);
    }
    fmt::print("wrote {} (/kernel/exact{}, /kernel/scores and the layer's intermediates under /forward)\n", o.dump,
               config.kind == "linear" ? ", /kernel/estimate" : "");
  });
}
STRIPES_REGISTER_COMMANDS(add_kernel_command)

}  // namespace stripes::cli
