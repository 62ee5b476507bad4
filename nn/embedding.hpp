// Token embeddings and absolute positional encodings.
//
// Embedding:  y[..., :] = W[index[...], :]      W: [V, D]   index: int64 [...]   y: [..., D]
//   Initialisation (PyTorch's default): W ~ N(0, 1) from the seeded `init` generator.
//
// sinusoidal_positions (Vaswani et al. 2017, the "APE" baseline of the StrIPE papers):
//   P[t, 2i] = sin(t / 10000^(2i/D)),  P[t, 2i+1] = cos(t / 10000^(2i/D))     P: [T, D]
#pragma once

#include "nn/module.hpp"

namespace stripes::nn {

class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& init, DType dtype = DType::Float32);

  ag::Var forward(const Tensor& index);  // int64 [...] in [0, V) -> [..., D]
  std::string describe() const override;

  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }
  const ag::Var& weight() const { return weight_; }

 private:
  int64_t num_embeddings_, embedding_dim_;
  ag::Var weight_;
};

// The [T, D] sinusoidal table (a constant, no gradient). D must be even.
Tensor sinusoidal_positions(int64_t length, int64_t dim, DType dtype = DType::Float32);

}  // namespace stripes::nn
