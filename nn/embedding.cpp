#include "nn/embedding.hpp"

#include "autograd/ops.hpp"
#include "nn/module_gradcheck.hpp"

#include <cmath>

namespace stripes::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim, Generator& init, DType dtype)
    : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  STRIPES_CHECK(num_embeddings > 0 && embedding_dim > 0, "Embedding: sizes must be positive, got {} x {}",
                num_embeddings, embedding_dim);
  weight_ = register_parameter("weight", Tensor::randn({num_embeddings, embedding_dim}, init, dtype));
}

std::string Embedding::describe() const { return fmt::format("Embedding({} x {})", num_embeddings_, embedding_dim_); }

ag::Var Embedding::forward(const Tensor& index) {
  if (index.dtype() != DType::Int64) fail(fmt::format("index must be int64, got {}", index.description()));
  if (index.numel() > 0) {
    const Tensor flat = index.to(Device::CPU).contiguous();  // bounds are checked on the host, on every device
    const int64_t* values = flat.data<int64_t>();
    for (int64_t i = 0; i < flat.numel(); ++i) {
      if (values[i] < 0 || values[i] >= num_embeddings_) {
        fail(fmt::format("index {} at flat position {} of {} is outside [0, {})", values[i], i, index.description(),
                         num_embeddings_));
      }
    }
  }
  return ag::embedding(weight_, index);
}

Tensor sinusoidal_positions(int64_t length, int64_t dim, DType dtype) {
  STRIPES_CHECK(dim % 2 == 0 && dim > 0 && length >= 0, "sinusoidal_positions: need an even dimension, got [{}, {}]",
                length, dim);
  std::vector<double> table(size_t(length * dim));
  for (int64_t t = 0; t < length; ++t) {
    for (int64_t i = 0; i < dim / 2; ++i) {
      const double angle = double(t) / std::pow(10000.0, double(2 * i) / double(dim));
      table[size_t(t * dim + 2 * i)] = std::sin(angle);
      table[size_t(t * dim + 2 * i + 1)] = std::cos(angle);
    }
  }
  return Tensor::from_vector(table, {length, dim}).to(dtype);
}

// ---- gradient checks -----------------------------------------------------------------------------
void register_embedding_gradchecks(ag::GradcheckRegistry& registry) {
  // The index is fixed (a constant of the case) with repeats, so rows accumulate.
  registry.add(module_gradcheck(
      "nn.Embedding", "V 5, D 3, index [2, 4] with repeats", [] {
        Generator init(3);
        return std::make_shared<Embedding>(5, 3, init, DType::Float64);
      },
      {}, [](Embedding& m, const std::vector<ag::Var>&) {
        return m.forward(Tensor::from_vector<int64_t>({0, 4, 4, 1, 2, 0, 3, 0}, {2, 4}));
      }));
}

}  // namespace stripes::nn
