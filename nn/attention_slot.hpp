// The pluggable attention slot of the Transformer encoder layer.
//
// Every attention — the causal softmax baseline here (nn/softmax_attention.hpp) and the kernelized
// variants with positional encodings (attention/) — is an AttentionLayer: a module mapping
// x [B, T, d_model] to [B, T, d_model], given the AttentionInputs of the batch. The encoder layer
// and stack (nn/transformer.hpp) take an AttentionFactory and call it once per layer, so
//
//   TransformerEncoder encoder(config, [&](int layer) { return make_my_attention(layer); }, ...);
//
// builds the same stack around any attention. The layer registers what the factory returns as
// its child "attn", so its parameters are named "layers.<i>.attn.<...>".
#pragma once

#include "autograd/variable.hpp"
#include "nn/module.hpp"
#include "tensor/tensor.hpp"

#include <functional>
#include <memory>

namespace stripes::nn {

struct AttentionInputs {
  // Undefined, or float [B, T] (scalar positions) or [B, T, L] (vector positions): the "context"
  // that positional encodings are computed from (time index, chord token, chroma vector, ...).
  Tensor positions;
  bool causal = true;
};

class AttentionLayer : public Module {  // input and output [B, T, d_model]
 public:
  virtual ag::Var forward(const ag::Var& x, const AttentionInputs& inputs) = 0;
};

// Builds the attention of layer `layer_index` (0-based).
using AttentionFactory = std::function<std::shared_ptr<AttentionLayer>(int layer_index)>;

}  // namespace stripes::nn
