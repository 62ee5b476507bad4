// The melody-harmonization model of "Of All StrIPEs" (method.md §4.2, §4.4) and its configuration.
//
//   x: melody + bridge pianoroll [B, T, 256], p: the context of each tick [B, T] or [B, T, L]
//   h = input_proj(x)                                   Linear 256 -> d_model          [B, T, d_model]
//   h = h + APE(p)                                      only for pe = "ape" (sinusoidal of p)
//   y = encoder(h, positions = p)                       causal Transformer encoder, L layers, attention
//                                                       = attention::PositionalAttention (any PE,
//                                                       linear or softmax), output Linear d_model -> 384
//   loss = BCE-with-logits(y, target)                   target: all three tracks at the next tick [B, T, 384]
//
// Parameter names: input_proj.{weight,bias}, encoder.layers.<i>.attn...., encoder.output_proj.*.
//
// The configuration holds everything of a run (model, data, optimisation, evaluation) so that one
// config.json in the run directory rebuilds it. Two presets:
//   paper  the paper's setting where known: 2 layers, 4 heads, d_model 512, d_ff 512, dropout 0.1,
//          ReLU, post-LN, FAVOR+ M = 128 (feature map and M are not stated by the paper: SPE's music
//          configs), T = 1024, batch 8, 15 epochs, Adam lr 5e-4 (middle of the grid {1,5,10}e-4),
//          warm-up 160 steps, StepLR γ = 0.85 per epoch, clip norm 5e-4, curriculum 16 -> T over
//          2875 steps (the StrIPE code's values).
//   small  the same model shape scaled down to train in minutes on 2 CPU cores (docs/harmonization.md).
#pragma once

#include "autograd/variable.hpp"
#include "data/contexts.hpp"
#include "data/dataset.hpp"
#include "experiments/metrics/pianoroll_metrics.hpp"
#include "nn/checkpoint.hpp"
#include "nn/linear.hpp"
#include "nn/module.hpp"
#include "nn/transformer.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace stripes::attention {
class PositionalAttention;
}

namespace stripes::harmonization {

struct HarmonizationConfig {
  std::string preset = "paper";
  // ---- model
  std::string pe = "ropepool";          // attention::positional_encoding_names()
  std::string context = "BIN";          // TIME | REP | KEY | BIN | MCP
  std::string attention = "linear";     // linear | softmax
  std::string feature_map = "favor";    // favor | trig | elu
  int64_t features = 128;               // M
  std::string causal_algorithm = "auto";    // causal product of linear attention: auto (chunked on the CPU, chunked-composed on the GPU) | chunked | chunked-composed | prefix
  int64_t d_model = 512;
  int64_t heads = 4;
  int64_t layers = 2;
  int64_t d_ff = 512;
  double dropout = 0.1;
  bool pre_norm = false;                // false: post-LN (StrIPE)
  // ---- data
  int sequence_length = 1024;           // training windows T (16 bars)
  int batch_size = 8;
  int64_t max_train_windows = 0;        // 0: every training window; else an evenly spaced subset
  // ---- optimisation
  int64_t epochs = 15;
  int64_t steps = 0;                    // 0: epochs × batches per epoch
  double learning_rate = 5e-4;
  int64_t warmup_steps = 160;
  double decay_gamma = 0.85;            // per epoch
  double clip_grad_norm = 5e-4;
  int64_t curriculum_start = 16;
  int64_t curriculum_ramp_steps = 2875;
  int64_t curriculum_multiple = 16;
  uint64_t seed = 0;
  int64_t checkpoint_every = 0;         // steps; 0: only at the end
  // ---- evaluation
  int eval_sequence_length = 1024;      // in-domain test windows
  int64_t max_eval_windows = 0;         // 0: every test window
  int64_t max_val_windows = 64;         // validation windows for the binarization grid search (0: all)
  bool grid_search = true;              // false: threshold 0.5
  // What the metrics score (method.md §6 item 7 leaves it open; docs/metrics.md "Which tracks are
  // scored"): "piano" (the accompaniment the model generates; default) or "all" (the three tracks).
  std::string scored_tracks = "piano";
  // SSMD vectors: "stripe-code-halved" (default: the StrIPE code's chroma counts per 2 ticks at the
  // paper's ×50 — on the piano track the only reading whose silent-prediction value matches the
  // paper's near-silent models), "paper" (chroma onsets per half-measure) or "stripe-code" (×100).
  std::string ssmd_variant = "stripe-code-halved";
  // NDD: "per-sixteenth" (default), "pooled" or "stripe-code" (un-normalized).
  std::string ndd_normalization = "per-sixteenth";

  // Throws stripes::Error naming the field (unknown PE / context: lists the valid names).
  void validate() const;
  data::ContextType context_type() const;
  int64_t position_dim() const;  // 1, 12 (BIN) or 3 (MCP)
  metrics::ScoringOptions scoring() const;  // from scored_tracks, ssmd_variant, ndd_normalization
};

// "paper" or "small"; throws listing them otherwise.
HarmonizationConfig preset_config(const std::string& name);
const std::vector<std::string>& preset_names();

void to_json(nlohmann::json& json, const HarmonizationConfig& config);
// Missing keys keep their defaults; unknown keys are an error.
void from_json(const nlohmann::json& json, HarmonizationConfig& config);

class HarmonizationModel : public nn::Module {
 public:
  explicit HarmonizationModel(const HarmonizationConfig& config);

  // input float32 [B, T, 256], positions [B, T] or [B, T, L] -> logits [B, T, 384], on the model's
  // device (Module::to); input, positions and target may be on any device and are copied to it.
  ag::Var forward(const Tensor& input, const Tensor& positions);
  // mean BCE-with-logits of forward(input, positions) against target [B, T, 384]
  ag::Var loss(const Tensor& input, const Tensor& target, const Tensor& positions);

  const HarmonizationConfig& config() const { return config_; }
  std::string describe() const override;
  // The generator of dropout masks (part of the run's state in checkpoints).
  std::shared_ptr<Generator> dropout_generator() const { return dropout_generator_; }
  // Every generator a training step draws from — dropout, each layer's random features, the PEs'
  // noise (SPE) — named for checkpoints, so that a resumed run continues bit-identically.
  nn::NamedGenerators run_generators();
  // After loading a checkpoint of `steps` training steps: the attention layers' training-forward
  // counts, which their feature-redraw policy reads (one training forward per step).
  void resume_at_step(int64_t steps);

 private:
  attention::PositionalAttention& attention_layer(int64_t index);

  HarmonizationConfig config_;
  std::shared_ptr<Generator> dropout_generator_;
  std::shared_ptr<nn::Linear> input_proj_;
  std::shared_ptr<nn::TransformerEncoder> encoder_;
};

}  // namespace stripes::harmonization
