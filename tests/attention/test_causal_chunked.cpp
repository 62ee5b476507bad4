// The chunked causal product against the prefix-sum reference (and the masked T×T definition).
#include "attention/causal_product.hpp"
#include "attention/linear_attention.hpp"
#include "attention/positional_attention.hpp"

#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

using namespace stripes;
using namespace stripes::attention;

using stripes::test::randn;

TEST(CausalProductChunked, EqualsThePrefixSumToFloat64Precision) {
  // T = 37: full chunks and a partial last one for every chunk size below; C = 64 > T: one chunk.
  const Tensor a = randn({2, 3, 37, 5}, 1), b = randn({2, 3, 37, 5}, 2), c = randn({2, 3, 37, 4}, 3);
  for (bool reverse : {false, true}) {
    const Tensor prefix = causal_product_forward(a, b, c, reverse);
    EXPECT_LT(stripes::test::max_relative_error(prefix, causal_product_reference(a, b, c, reverse)), 1e-12);
    for (int64_t chunk : {1, 2, 5, 8, 16, 37, 64}) {
      const Tensor chunked = causal_product_chunked_forward(a, b, c, reverse, chunk);
      EXPECT_LT(stripes::test::max_relative_error(chunked, prefix), 1e-10) << "reverse " << reverse << " chunk " << chunk;
    }
  }
}

TEST(CausalProductChunked, TheComposedFormOfTheGpuEqualsTheCpuKernel) {
  // The GPU's path, run here on CPU tensors: batched GEMMs over every chunk and a cumsum of the
  // chunk states. T = 37 with partial last chunks, C = 64 > T (one chunk), C = 1 (a chunk per step);
  // T = 300 with the default chunk; a strided c.
  const Tensor a = randn({2, 3, 37, 5}, 21), b = randn({2, 3, 37, 5}, 22), c = randn({2, 3, 37, 4}, 23);
  for (bool reverse : {false, true}) {
    const Tensor prefix = causal_product_forward(a, b, c, reverse);
    for (int64_t chunk : {1, 5, 8, 37, 64}) {
      const Tensor composed = causal_product_chunked_composed(a, b, c, reverse, chunk);
      EXPECT_EQ(composed.shape(), c.shape());
      EXPECT_LT(stripes::test::max_relative_error(composed, prefix), 1e-10) << "reverse " << reverse << " chunk " << chunk;
    }
    const Tensor la = randn({2, 300, 16}, 24), lb = randn({2, 300, 16}, 25), wide = randn({2, 300, 12}, 26);
    const Tensor lc = wide.slice(-1, 1, 10);
    EXPECT_LT(stripes::test::max_relative_error(causal_product_chunked_composed(la, lb, lc, reverse),
                                                causal_product_chunked_forward(la, lb, lc.contiguous(), reverse)),
              1e-10)
        << "reverse " << reverse;
  }
  EXPECT_THROW(causal_product_chunked_composed(a, b, c, false, 0), Error);
  EXPECT_THROW(causal_product_chunked_composed(a, b.slice(2, 0, 30), c, false), Error);
}

TEST(CausalProductChunked, LongSequencesWithTheDefaultChunk) {
  // Many chunks (T = 300 = 4·64 + 44), attention-like sizes P = 16, Q = 9.
  const Tensor a = randn({2, 300, 16}, 4), b = randn({2, 300, 16}, 5), c = randn({2, 300, 9}, 6);
  for (bool reverse : {false, true}) {
    EXPECT_LT(stripes::test::max_relative_error(causal_product_chunked_forward(a, b, c, reverse), causal_product_forward(a, b, c, reverse)),
              1e-10);
  }
}

TEST(CausalProductChunked, AccumulatesIntoItsOutputAndReadsStridedInputs) {
  const Tensor a = randn({3, 20, 4}, 7), b = randn({3, 20, 4}, 8);
  const Tensor c_wide = randn({3, 20, 10}, 9);
  const Tensor c = c_wide.slice(-1, 2, 8);  // a strided view [3, 20, 6]
  Tensor out = randn({3, 20, 6}, 10);
  const Tensor before = out.clone();
  causal_product_chunked_accumulate(out, a, b, c, false, 8);
  EXPECT_LT(stripes::test::max_relative_error(out - before, causal_product_forward(a, b, c.contiguous(), false)), 1e-10);
}

TEST(CausalProductChunked, Float32IsCloseAndBadArgumentsAreErrors) {
  const Tensor a = randn({2, 70, 8}, 11, DType::Float32), b = randn({2, 70, 8}, 12, DType::Float32);
  const Tensor c = randn({2, 70, 5}, 13, DType::Float32);
  EXPECT_LT(stripes::test::max_relative_error(causal_product_chunked_forward(a, b, c, false), causal_product_forward(a, b, c, false)), 1e-5);
  EXPECT_THROW(causal_product_chunked_forward(a, b, c, false, 0), Error);
  EXPECT_THROW(causal_product_chunked_forward(a, b.slice(1, 0, 60), c, false), Error);
  EXPECT_THROW(parse_causal_algorithm("scan"), Error);
  EXPECT_EQ(parse_causal_algorithm("chunked"), CausalAlgorithm::Chunked);
}

TEST(CausalProductChunked, AutoIsTheDevicesFasterChunkedForm) {
  // auto: the CPU's chunked loop, the GPU's composed form (cuBLAS), as measured (docs/performance.md);
  // every named algorithm stays itself on both devices.
  EXPECT_EQ(parse_causal_algorithm("auto"), CausalAlgorithm::Auto);
  EXPECT_EQ(causal_algorithm_name(CausalAlgorithm::Auto), "auto");
  EXPECT_EQ(resolve_causal_algorithm(CausalAlgorithm::Auto, Device::CPU), CausalAlgorithm::Chunked);
  EXPECT_EQ(resolve_causal_algorithm(CausalAlgorithm::Auto, Device::CUDA), CausalAlgorithm::ChunkedComposed);
  for (CausalAlgorithm named : {CausalAlgorithm::Prefix, CausalAlgorithm::Chunked, CausalAlgorithm::ChunkedComposed}) {
    for (Device device : {Device::CPU, Device::CUDA}) EXPECT_EQ(resolve_causal_algorithm(named, device), named);
  }
  // and the product through auto is the product
  const Tensor a = randn({2, 70, 8}, 21), b = randn({2, 70, 8}, 22), c = randn({2, 70, 5}, 23);
  EXPECT_LT(stripes::test::max_relative_error(causal_product_forward(a, b, c, true, CausalAlgorithm::Auto),
                                              causal_product_reference(a, b, c, true)),
            1e-12);
}

TEST(CausalProductChunked, GradientsEqualThoseOfThePrefixSum) {
  const Tensor a = randn({2, 45, 6}, 14), b = randn({2, 45, 6}, 15), c = randn({2, 45, 3}, 16);
  const Tensor g = randn({2, 45, 3}, 17);
  for (bool reverse : {false, true}) {
    std::vector<Tensor> grads[2];
    for (int algorithm = 0; algorithm < 2; ++algorithm) {
      ag::Var va(a, true), vb(b, true), vc(c, true);
      const ag::Var out = causal_product(va, vb, vc, reverse, algorithm ? CausalAlgorithm::Chunked : CausalAlgorithm::Prefix, 16);
      out.backward(g);
      grads[algorithm] = {va.grad(), vb.grad(), vc.grad()};
    }
    for (size_t i = 0; i < 3; ++i) {
      EXPECT_LT(stripes::test::max_relative_error(grads[1][i], grads[0][i]), 1e-10) << "reverse " << reverse << " input " << i;
    }
  }
}

TEST(CausalProductChunked, LinearAttentionAndTheLayerGiveTheSameOutputEitherWay) {
  Generator g(18);
  const Tensor phi_q = Tensor::rand({2, 2, 100, 8}, g, DType::Float64, 0.1, 1.0);
  const Tensor phi_k = Tensor::rand({2, 2, 100, 8}, g, DType::Float64, 0.1, 1.0);
  const Tensor v = randn({2, 2, 100, 4}, 19);
  const Tensor prefix = linear_attention(ag::Var(phi_q), ag::Var(phi_k), ag::Var(v), true).value();
  const Tensor chunked = linear_attention(ag::Var(phi_q), ag::Var(phi_k), ag::Var(v), true, kLinearAttentionEpsilon,
                                          nullptr, CausalAlgorithm::Chunked)
                             .value();
  EXPECT_LT(stripes::test::max_relative_error(chunked, prefix), 1e-10);

  AttentionConfig config;
  config.model_dim = 16;
  config.heads = 2;
  config.features = 8;
  config.redraw = "fixed";
  config.dtype = DType::Float64;
  config.pe.name = "ropepool";
  const Tensor x = randn({2, 70, 16}, 20);
  Tensor outputs[2];
  for (int algorithm = 0; algorithm < 2; ++algorithm) {
    config.causal_algorithm = algorithm ? "chunked" : "prefix";
    config.causal_chunk = 16;
    PositionalAttention layer(config, 0);
    outputs[algorithm] = layer.forward(ag::Var(x), {Tensor(), true}).value();
  }
  EXPECT_LT(stripes::test::max_relative_error(outputs[1], outputs[0]), 1e-10);
  config.causal_algorithm = "scan";
  EXPECT_THROW(PositionalAttention(config, 0), Error);
}
