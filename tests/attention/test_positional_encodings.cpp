// Every positional encoding against the paper's equations (method.md §2), on random inputs.
#include "attention/positional_encoding.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/recorder.hpp"
#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numbers>
#include <optional>

#include <unistd.h>

using namespace stripes;
using namespace stripes::attention;

namespace {

Tensor randn(const Shape& shape, uint64_t seed) {
  Generator g(seed);
  return Tensor::randn(shape, g, DType::Float64);
}

PositionalEncodingConfig config(const std::string& name, int64_t heads = 2, int64_t head_dim = 8, int64_t position_dim = 1) {
  PositionalEncodingConfig c;
  c.name = name;
  c.heads = heads;
  c.head_dim = head_dim;
  c.position_dim = position_dim;
  c.dtype = DType::Float64;
  c.seed = 7;
  c.model_dim = heads * head_dim;
  return c;
}

// Scores a[b, h, m, n] = encode(q)_m · encode(k)_n
Tensor scores(PositionalEncoding& pe, const Tensor& q, const Tensor& k, const Tensor& positions) {
  const auto encoded = pe.encode(ag::Var(q), ag::Var(k), positions);
  return matmul(encoded.query.value(), encoded.key.value().transpose(-1, -2));
}

// Learned parameters drawn at random (so tests do not depend on the initialisation).
void randomize_parameters(PositionalEncoding& pe, uint64_t seed) {
  for (auto& [name, parameter] : pe.named_parameters()) {
    ag::Var p = parameter;
    p.mutable_value().copy_(randn(p.shape(), seed++) * 0.3);
  }
}

Tensor frequencies_of(PositionalEncoding& pe) { return pe.parameter("frequencies").value(); }

}  // namespace

TEST(Rope, ScoresDependOnlyOnTheLag) {
  for (const std::string name : {"rope-a", "rope-b", "rope-c"}) {
    auto pe = make_positional_encoding(config(name));
    const Tensor q = randn({1, 2, 6, 8}, 1), k = randn({1, 2, 6, 8}, 2);
    const Tensor p = randn({1, 6}, 3) * 5.0;
    const Tensor shifted = p + 17.25;
    EXPECT_LT(max_abs(scores(*pe, q, k, p) - scores(*pe, q, k, shifted)), 1e-10) << name;
    EXPECT_GT(max_abs(scores(*pe, q, k, p) - scores(*pe, q, k, p * 2.0)), 1e-3) << name << " ignores positions";
  }
}

TEST(Rope, ReproducesEquation14TermByTerm) {
  auto pe = make_positional_encoding(config("rope-c", 1, 6));
  randomize_parameters(*pe, 10);
  const Tensor q = randn({1, 1, 4, 6}, 4), k = randn({1, 1, 4, 6}, 5), p = randn({1, 4}, 6) * 3.0;
  const Tensor f = frequencies_of(*pe);  // [1, 3, 1]
  const Tensor a = scores(*pe, q, k, p);
  for (int64_t m = 0; m < 4; ++m)
    for (int64_t n = 0; n < 4; ++n) {
      double expected = 0;
      for (int64_t j = 0; j < 3; ++j) {
        const double q1 = q.at({0, 0, m, 2 * j}), q2 = q.at({0, 0, m, 2 * j + 1});
        const double k1 = k.at({0, 0, n, 2 * j}), k2 = k.at({0, 0, n, 2 * j + 1});
        const double lag = f.at({0, j, 0}) * (p.at({0, m}) - p.at({0, n}));
        expected += (q1 * k1 + q2 * k2) * std::cos(lag) + (q1 * k2 - q2 * k1) * std::sin(lag);
      }
      EXPECT_NEAR(a.at({0, 0, m, n}), expected, 1e-12);
    }
}

TEST(Rope, VectorPositionsUseTheDotProductOfFrequencyAndPosition) {
  auto pe = make_positional_encoding(config("rope-c", 1, 4, 3));
  randomize_parameters(*pe, 20);
  const Tensor q = randn({1, 1, 3, 4}, 7), k = randn({1, 1, 3, 4}, 8), p = randn({1, 3, 3}, 9);
  const Tensor f = frequencies_of(*pe);  // [1, 2, 3]
  const Tensor a = scores(*pe, q, k, p);
  double expected = 0;
  for (int64_t j = 0; j < 2; ++j) {
    double lag = 0;
    for (int64_t l = 0; l < 3; ++l) lag += f.at({0, j, l}) * (p.at({0, 2, l}) - p.at({0, 0, l}));
    const double q1 = q.at({0, 0, 2, 2 * j}), q2 = q.at({0, 0, 2, 2 * j + 1});
    const double k1 = k.at({0, 0, 0, 2 * j}), k2 = k.at({0, 0, 0, 2 * j + 1});
    expected += (q1 * k1 + q2 * k2) * std::cos(lag) + (q1 * k2 - q2 * k1) * std::sin(lag);
  }
  EXPECT_NEAR(a.at({0, 0, 2, 0}), expected, 1e-12);
  // a translation along any direction of the position space leaves the scores unchanged
  EXPECT_LT(max_abs(a - scores(*pe, q, k, p + randn({1, 1, 3}, 10))), 1e-10);
}

TEST(RopePool, ReproducesEquation23TermByTerm) {
  auto pe = make_positional_encoding(config("ropepool", 1, 8));
  randomize_parameters(*pe, 30);
  EXPECT_EQ(pe->feature_dim(), 4);
  const Tensor q = randn({1, 1, 5, 8}, 11), k = randn({1, 1, 5, 8}, 12), p = randn({1, 5}, 13) * 4.0;
  const Tensor f = frequencies_of(*pe);
  const Tensor a = scores(*pe, q, k, p);
  for (int64_t m = 0; m < 5; ++m)
    for (int64_t n = 0; n < 5; ++n) {
      double expected = 0;
      for (int64_t j = 0; j < 4; ++j) {
        const double q1 = q.at({0, 0, m, 2 * j}), q2 = q.at({0, 0, m, 2 * j + 1});
        const double k1 = k.at({0, 0, n, 2 * j}), k2 = k.at({0, 0, n, 2 * j + 1});
        const double minus = f.at({0, j, 0}) * (p.at({0, m}) - p.at({0, n}));
        const double plus = f.at({0, j, 0}) * (p.at({0, m}) + p.at({0, n}));
        expected += (q1 * k1 + q2 * k2) * std::cos(minus) + (q1 * k2 - q2 * k1) * std::sin(minus) +
                    (q1 * k1 - q2 * k2) * std::sin(plus) + (q1 * k2 + q2 * k1) * std::cos(plus);
      }
      EXPECT_NEAR(a.at({0, 0, m, n}), expected, 1e-12) << m << " " << n;
    }
}

TEST(RopePool, TwoDimensionalClosedFormOfEquation26) {
  // D = 2, unit vector at angle ψ, context ξ: c = √2 cos(ψ + f ξ − π/4)
  auto pe = make_positional_encoding(config("ropepool", 1, 2));
  const double f = 0.37;
  pe->parameter("frequencies").mutable_value().fill_(f);
  for (double psi : {-2.0, 0.3, 1.9}) {
    for (double xi : {0.0, 0.8, 2.6}) {
      const Tensor x = Tensor::from_vector<double>({std::cos(psi), std::sin(psi)}, {1, 1, 1, 2});
      const Tensor p = Tensor::full({1, 1}, xi, DType::Float64);
      const double c = pe->encode(ag::Var(x), ag::Var(x), p).query.value().item();
      EXPECT_NEAR(c, std::sqrt(2.0) * std::cos(psi + f * xi - std::numbers::pi / 4), 1e-12);
    }
  }
}

TEST(RopePool, ScoresAreNotLagOnly) {
  auto pe = make_positional_encoding(config("ropepool"));
  const Tensor q = randn({1, 2, 6, 8}, 14), k = randn({1, 2, 6, 8}, 15), p = randn({1, 6}, 16) * 5.0;
  EXPECT_GT(max_abs(scores(*pe, q, k, p) - scores(*pe, q, k, p + 3.0)), 1e-3);
  EXPECT_FALSE(pe->kernel_properties().lag_only);
  EXPECT_FALSE(pe->kernel_properties().positive_definite);
}

TEST(FStripe1, UnpooledReproducesEquation15) {
  PositionalEncodingConfig c = config("fstripe1", 1, 5);
  c.fstripe1_pooled = false;
  auto pe = make_positional_encoding(c);
  randomize_parameters(*pe, 40);
  const Tensor q = randn({1, 1, 4, 5}, 17), k = randn({1, 1, 4, 5}, 18), p = randn({1, 4}, 19) * 3.0;
  const Tensor f = frequencies_of(*pe);
  const Tensor a = scores(*pe, q, k, p);
  for (int64_t m = 0; m < 4; ++m)
    for (int64_t n = 0; n < 4; ++n) {
      double expected = 0;
      for (int64_t d = 0; d < 5; ++d)
        expected += q.at({0, 0, m, d}) * k.at({0, 0, n, d}) * std::cos(f.at({0, d, 0}) * (p.at({0, m}) - p.at({0, n})));
      EXPECT_NEAR(a.at({0, 0, m, n}), expected, 1e-12);
    }
  EXPECT_LT(max_abs(a - scores(*pe, q, k, p - 2.5)), 1e-10);
}

TEST(FStripe1, PooledFeaturesAreTwoDimensionalAndAddCrossTerms) {
  auto pe = make_positional_encoding(config("fstripe1", 1, 5));
  randomize_parameters(*pe, 50);
  EXPECT_EQ(pe->feature_dim(), 2);
  const Tensor q = randn({1, 1, 3, 5}, 20), k = randn({1, 1, 3, 5}, 21), p = randn({1, 3}, 22) * 3.0;
  const Tensor f = frequencies_of(*pe);
  const Tensor a = scores(*pe, q, k, p);
  double expected = 0;  // Σ_{d,d'} q_d k_d' cos(f_d p_m − f_d' p_n) for m = 2, n = 1
  for (int64_t d = 0; d < 5; ++d)
    for (int64_t e = 0; e < 5; ++e)
      expected += q.at({0, 0, 2, d}) * k.at({0, 0, 1, e}) * std::cos(f.at({0, d, 0}) * p.at({0, 2}) - f.at({0, e, 0}) * p.at({0, 1}));
  EXPECT_NEAR(a.at({0, 0, 2, 1}), expected, 1e-12);
}

TEST(FStripe, RffIsDeterministicAndMatchesItsKernel) {
  PositionalEncodingConfig c = config("fstripe", 1, 3, 2);
  c.num_sines = 4;
  auto pe = make_positional_encoding(c);
  EXPECT_FALSE(pe->kernel_properties().stochastic);
  EXPECT_EQ(pe->feature_dim(), 8);
  const Tensor q = randn({1, 1, 3, 3}, 23), k = randn({1, 1, 3, 3}, 24), p = randn({1, 3, 2}, 25) * 2.0;
  const Tensor first = scores(*pe, q, k, p), second = scores(*pe, q, k, p);
  EXPECT_EQ(max_abs(first - second), 0.0);
  // q̂_m·k̂_n = (1/K) Σ_{d,d'} q_d k_d' Σ_k λ_dk λ_d'k cos(2π f_dkᵀp_m + θ_dk − 2π f_d'kᵀp_n)
  const Tensor f = pe->parameter("frequencies").value(), theta = pe->parameter("phases").value(),
               lambda = pe->parameter("gains").value();
  auto phase = [&](int64_t d, int64_t kk, int64_t t) {
    double v = 0;
    for (int64_t l = 0; l < 2; ++l) v += f.at({0, d * 4 + kk, l}) * p.at({0, t, l});
    return 2 * std::numbers::pi * v;
  };
  double expected = 0;
  for (int64_t d = 0; d < 3; ++d)
    for (int64_t e = 0; e < 3; ++e)
      for (int64_t kk = 0; kk < 4; ++kk)
        expected += q.at({0, 0, 2, d}) * k.at({0, 0, 0, e}) * lambda.at({0, d * 4 + kk}) * lambda.at({0, e * 4 + kk}) *
                    std::cos(phase(d, kk, 2) + theta.at({0, d * 4 + kk}) - phase(e, kk, 0)) / 4.0;
  EXPECT_NEAR(first.at({0, 0, 2, 0}), expected, 1e-12);
}

// E[q̂_m·k̂_n] = √(R/D) Σ_d q_md k_nd [ (1 − g_d)/(2K) Σ_k λ_dk² cos(φ^Q_dk(m) − φ^K_dk(n)) + g_d ]
// (g = 0 without the gate). The noisy estimate converges to it as R grows, roughly as 1/√R.
static double spe_relative_error(bool gated, int64_t realizations) {
  PositionalEncodingConfig c = config("spe-sine", 1, 4);
  c.num_sines = 3;
  c.realizations = realizations;
  c.gated = gated;
  auto pe = make_positional_encoding(c);
  const Tensor q = randn({1, 1, 6, 4}, 26), k = randn({1, 1, 6, 4}, 27);
  const Tensor estimate = scores(*pe, q, k, Tensor()) * std::sqrt(4.0 / double(realizations));
  const Tensor fr = sigmoid(pe->parameter("frequencies").value()) * 0.5;
  const Tensor theta = pe->parameter("phases").value(), lambda = softplus(pe->parameter("gains").value());
  Tensor expected = Tensor::zeros({6, 6}, DType::Float64);
  for (int64_t m = 0; m < 6; ++m)
    for (int64_t n = 0; n < 6; ++n) {
      double v = 0;
      for (int64_t d = 0; d < 4; ++d) {
        double kernel = 0;
        for (int64_t kk = 0; kk < 3; ++kk) {
          const double l = lambda.at({0, d * 3 + kk});
          kernel += l * l * std::cos(2 * std::numbers::pi * fr.at({0, d * 3 + kk, 0}) * double(m - n) + theta.at({0, d * 3 + kk}));
        }
        kernel /= 6.0;
        if (gated) {
          const double g = 1.0 / (1.0 + std::exp(-pe->parameter("gate").value().at({0, d})));
          kernel = (1 - g) * kernel + g;
        }
        v += q.at({0, 0, m, d}) * k.at({0, 0, n, d}) * kernel;
      }
      expected.mutable_data<double>()[m * 6 + n] = v;
    }
  const Tensor diff = estimate.reshape({6, 6}) - expected;
  return std::sqrt(sum(diff * diff).item() / sum(expected * expected).item());
}

TEST(Spe, EstimateConvergesToItsKernelAsRealizationsGrow) {
  for (bool gated : {false, true}) {
    const double e64 = spe_relative_error(gated, 64), e1024 = spe_relative_error(gated, 1024),
                 e16384 = spe_relative_error(gated, 16384);
    std::cout << (gated ? "gated " : "") << "SPE relative error at R = 64, 1024, 16384: " << e64 << " " << e1024 << " "
              << e16384 << "\n";
    EXPECT_LT(e1024, e64 / 2.0);      // 1/√R predicts a factor 4 per 16× R
    EXPECT_LT(e16384, e1024 / 2.0);
    EXPECT_LT(e16384, 0.1);
  }
}

TEST(Spe, NoiseIsRedrawnAtEveryForward) {
  auto pe = make_positional_encoding(config("spe-sine"));
  EXPECT_TRUE(pe->kernel_properties().stochastic);
  const Tensor q = randn({1, 2, 5, 8}, 28), k = randn({1, 2, 5, 8}, 29);
  EXPECT_GT(max_abs(scores(*pe, q, k, Tensor()) - scores(*pe, q, k, Tensor())), 1e-6);
}

TEST(SpeConv, ExpectedScoresAreStationary) {
  // Averaged over many realizations the pooled scores of constant q, k depend on m − n only.
  PositionalEncodingConfig c = config("spe-conv", 1, 2);
  c.realizations = 20000;
  c.conv_kernel = 4;
  c.gated = false;
  auto pe = make_positional_encoding(c);
  const Tensor ones = Tensor::ones({1, 1, 6, 2}, DType::Float64);
  const Tensor a = scores(*pe, ones, ones, Tensor());
  const double scale = max_abs(a);
  for (int64_t lag = 0; lag < 3; ++lag)
    for (int64_t m = lag; m + 1 < 6; ++m)
      EXPECT_NEAR(a.at({0, 0, m, m - lag}), a.at({0, 0, m + 1, m + 1 - lag}), 0.08 * scale) << "lag " << lag;
}

TEST(Stripe, ScoreBiasMatchesTheSinusoidalSRpeDefinition) {
  auto pe = make_positional_encoding(config("stripe", 2, 2));  // d_model = 4
  EXPECT_TRUE(pe->uses_score_bias());
  const Tensor q = randn({1, 2, 3, 2}, 30), p = randn({1, 3}, 31) * 10.0;
  const Tensor bias = pe->score_bias(ag::Var(q), p).value();
  const Tensor w = pe->parameter("structure_0").value();  // [4, 4]
  // e_mn (head h) = Σ_e q[h, m, e] (W emb(p_m − p_n))[e·H + h] / √E
  for (int64_t h = 0; h < 2; ++h)
    for (int64_t m = 0; m < 3; ++m)
      for (int64_t n = 0; n < 3; ++n) {
        const double delta = p.at({0, m}) - p.at({0, n});
        std::vector<double> emb(4);
        for (int64_t c = 0; c < 4; ++c) {
          const double angle = delta / std::pow(10001.0, double(2 * (c / 2)) / 4.0);
          emb[size_t(c)] = c % 2 == 0 ? std::sin(angle) : std::cos(angle);
        }
        double expected = 0;
        for (int64_t e = 0; e < 2; ++e) {
          double projected = 0;
          for (int64_t c = 0; c < 4; ++c) projected += w.at({e * 2 + h, c}) * emb[size_t(c)];
          expected += q.at({0, h, m, e}) * projected;
        }
        EXPECT_NEAR(bias.at({0, h, m, n}), expected / std::sqrt(2.0), 1e-12);
      }
}

TEST(Ape, SinusoidalEmbeddingMatchesItsDefinition) {
  const Tensor e = sinusoidal_position_embedding(Tensor::from_vector<double>({0, 3}, {1, 2}), 6, 10000.0, DType::Float64);
  EXPECT_NEAR(e.at({0, 1, 4}), std::sin(3.0 / std::pow(10000.0, 4.0 / 6.0)), 1e-12);
  EXPECT_NEAR(e.at({0, 1, 5}), std::cos(3.0 / std::pow(10000.0, 4.0 / 6.0)), 1e-12);
  EXPECT_EQ(e.at({0, 0, 1}), 1.0);
}

TEST(PositionalEncodings, EveryNameIsConstructibleAndUnknownNamesAreRejected) {
  for (const std::string& name : positional_encoding_names()) {
    auto pe = make_positional_encoding(config(name));
    EXPECT_EQ(pe->pe_name(), name);
  }
  try {
    make_positional_encoding(config("rope-d"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rope-d"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("ropepool"), std::string::npos);
  }
  auto pe = make_positional_encoding(config("rope-a", 2, 8, 3));
  EXPECT_THROW(pe->encode(ag::Var(randn({1, 2, 4, 8}, 1)), ag::Var(randn({1, 2, 4, 8}, 2)), randn({1, 4}, 3)), Error);
}


// The fused rotate_pairs op against the composed form: the output and the gradients of x, cos and
// sin agree to rounding (the compiler may fuse a product and a sum into one FMA), with full and
// broadcast angles and a strided (split-heads) x.
TEST(RotatePairs, FusedOpMatchesTheComposedForm) {
  for (bool pooled : {false, true}) {
    for (const Shape& angle_shape : {Shape{3, 2, 5, 4}, Shape{1, 2, 5, 4}}) {
      for (DType dtype : {DType::Float64, DType::Float32}) {
        Generator g(17);
        // x as split_heads leaves it: a [B, T, H, D] tensor viewed as [B, H, T, D] (not contiguous)
        const Tensor x = Tensor::randn({3, 5, 2, 8}, g, dtype).permute({0, 2, 1, 3});
        const Tensor angles = Tensor::randn(angle_shape, g, dtype) * 3.0;
        const Tensor cos_angles = cos(angles), sin_angles = sin(angles);
        const Tensor grad_y = Tensor::randn(pooled ? Shape{3, 2, 5, 4} : Shape{3, 2, 5, 8}, g, dtype);
        std::vector<Tensor> results[2];
        for (int fused = 0; fused < 2; ++fused) {
          ag::Var xv(x, true), cv(cos_angles, true), sv(sin_angles, true);
          const ag::Var y = fused ? rotate_pairs(xv, cv, sv, pooled) : rotate_pairs_composed(xv, cv, sv, pooled);
          y.backward(grad_y);
          results[fused] = {y.value(), xv.grad(), cv.grad(), sv.grad()};
        }
        const std::string what = fmt::format("pooled {} angles {} {}", pooled, shape_str(angle_shape), dtype_name(dtype));
        for (size_t i = 0; i < 4; ++i) {
          const Tensor& fused = results[1][i];
          const Tensor& composed = results[0][i];
          ASSERT_EQ(fused.shape(), composed.shape()) << what;
          EXPECT_LT(stripes::test::norm_relative_error(fused, composed), dtype == DType::Float64 ? 1e-13 : 1e-6)
              << (i == 0 ? "output" : "gradient " + std::to_string(i)) << ", " << what;
        }
      }
    }
  }
}

// The fused per-dimension codes op against the composed form: output and the gradients of a, cos
// and sin, pooled and interleaved, K = 1 (F-StrIPE₁) and K = 3 (the spectral PEs), with full and
// broadcast tables and a strided (split-heads) a.
TEST(DimensionCodes, FusedOpMatchesTheComposedForm) {
  for (bool pooled : {false, true}) {
    for (int64_t sines : {1, 3}) {
      for (int64_t table_batch : {3, 1}) {
        for (DType dtype : {DType::Float64, DType::Float32}) {
          Generator g(19);
          const Tensor a = Tensor::randn({3, 5, 2, 8}, g, dtype).permute({0, 2, 1, 3});  // [B, H, T, D], strided
          const Tensor phases = Tensor::randn({table_batch, 2, 5, 8 * sines}, g, dtype) * 3.0;
          const Tensor cos_phases = cos(phases), sin_phases = sin(phases);
          const Tensor grad_y = Tensor::randn({3, 2, 5, pooled ? 2 * sines : 16 * sines}, g, dtype);
          std::vector<Tensor> results[2];
          for (int fused = 0; fused < 2; ++fused) {
            ag::Var av(a, true), cv(cos_phases, true), sv(sin_phases, true);
            const ag::Var y = fused ? dimension_codes(av, cv, sv, pooled) : dimension_codes_composed(av, cv, sv, pooled);
            if (fused) {  // not the composed fallback
              EXPECT_EQ(y.grad_fn()->op, "dimension_codes") << "pooled " << pooled;
            }
            y.backward(grad_y);
            results[fused] = {y.value(), av.grad(), cv.grad(), sv.grad()};
          }
          const std::string what = fmt::format("pooled {} K {} tables batch {} {}", pooled, sines, table_batch, dtype_name(dtype));
          for (size_t i = 0; i < 4; ++i) {
            ASSERT_EQ(results[1][i].shape(), results[0][i].shape()) << what;
            EXPECT_LT(stripes::test::norm_relative_error(results[1][i], results[0][i]), dtype == DType::Float64 ? 1e-13 : 1e-6)
                << (i == 0 ? "output" : "gradient " + std::to_string(i)) << ", " << what;
          }
        }
      }
    }
  }
}

// convSPE's depthwise filter: the fused CPU op against the composed form that runs on other
// devices, in float64 on random inputs: the output and ∂f agree to rounding. Also with a noise
// tensor that is a strided view (the slice of a wider draw), which both must read correctly.
TEST(DepthwiseFilter, FusedOpMatchesTheComposedForm) {
  Generator g(23);
  const int64_t channels = 6, taps = 5, steps = 11, realizations = 7;
  const Tensor filter = Tensor::randn({channels, taps}, g, DType::Float64);
  const Tensor contiguous_noise = Tensor::randn({channels, steps + taps - 1, realizations}, g, DType::Float64);
  const Tensor strided_noise =
      Tensor::randn({channels, steps + taps - 1, 2 * realizations}, g, DType::Float64).slice(-1, 0, 2 * realizations, 2);
  const Tensor grad_y = Tensor::randn({channels, steps, realizations}, g, DType::Float64);
  for (const Tensor& noise : {contiguous_noise, strided_noise}) {
    Tensor outputs[2], gradients[2];
    for (int fused = 0; fused < 2; ++fused) {
      ag::Var f(filter, true);
      const ag::Var y = fused ? depthwise_filter(f, noise, steps) : depthwise_filter_composed(f, noise, steps);
      y.backward(grad_y);
      outputs[fused] = y.value();
      gradients[fused] = f.grad();
    }
    const std::string what = noise.is_contiguous() ? "contiguous noise" : "strided noise";
    ASSERT_EQ(outputs[1].shape(), (Shape{channels, steps, realizations})) << what;
    ASSERT_EQ(outputs[0].shape(), outputs[1].shape()) << what;
    EXPECT_LT(stripes::test::norm_relative_error(outputs[1], outputs[0]), 1e-13) << "output, " << what;
    EXPECT_LT(stripes::test::norm_relative_error(gradients[1], gradients[0]), 1e-13) << "∂f, " << what;
  }
  // One value by hand: y[c, t, r] = Σ_τ f[c, τ] x[c, t + τ, r]
  double expected = 0;
  for (int64_t tau = 0; tau < taps; ++tau) expected += filter.at({2, tau}) * contiguous_noise.at({2, 3 + tau, 4});
  EXPECT_NEAR(depthwise_filter(ag::Var(filter), contiguous_noise, steps).value().at({2, 3, 4}), expected, 1e-12);
  // Shapes that do not fit are named.
  EXPECT_THROW(depthwise_filter(ag::Var(filter), contiguous_noise, steps + 1), Error);
  EXPECT_THROW(depthwise_filter_composed(ag::Var(filter), contiguous_noise.to(DType::Float32), steps), Error);
}

// convSPE's pooling without the codes: the fused CPU op against the composed form (depthwise
// filter, permute, batched matmul), in float64. T = 37 is two blocks of 16 steps and a partial one;
// K = 11 taps are one tile of 8 and three single taps; R = 9 puts 144 outputs (one tile of 128 and
// 16 more) in a full block and 45 (no tile) in the partial one. Also on a strided noise view.
TEST(PooledFilteredNoise, FusedOpMatchesTheComposedForm) {
  const int64_t batch = 2, heads = 2, steps = 37, dims = 3, taps = 11, realizations = 9;
  const Tensor a = randn({batch, heads, steps, dims}, 40);
  const Tensor filter = randn({heads * dims, taps}, 41);
  const Tensor contiguous_noise = randn({heads * dims, steps + taps - 1, realizations}, 42);
  const Tensor strided_noise =
      randn({heads * dims, steps + taps - 1, 2 * realizations}, 43).slice(-1, 0, 2 * realizations, 2);
  const Tensor grad_out = randn({batch, heads, steps, realizations}, 44);
  for (const Tensor& noise : {contiguous_noise, strided_noise}) {
    Tensor outputs[2], grad_a[2], grad_f[2];
    for (int fused = 0; fused < 2; ++fused) {
      ag::Var av(a, true), fv(filter, true);
      const ag::Var y = fused ? pooled_filtered_noise(av, fv, noise) : pooled_filtered_noise_composed(av, fv, noise);
      if (fused) {
        EXPECT_EQ(y.grad_fn()->op, "pooled_filtered_noise");
      }
      y.backward(grad_out);
      outputs[fused] = y.value();
      grad_a[fused] = av.grad();
      grad_f[fused] = fv.grad();
    }
    const std::string what = noise.is_contiguous() ? "contiguous noise" : "strided noise";
    ASSERT_EQ(outputs[1].shape(), (Shape{batch, heads, steps, realizations})) << what;
    EXPECT_LT(stripes::test::norm_relative_error(outputs[1], outputs[0]), 1e-13) << "output, " << what;
    EXPECT_LT(stripes::test::norm_relative_error(grad_a[1], grad_a[0]), 1e-13) << "∂a, " << what;
    EXPECT_LT(stripes::test::norm_relative_error(grad_f[1], grad_f[0]), 1e-13) << "∂f, " << what;
  }
  // One value by hand: out[b, h, t, r] = Σ_d a[b, h, t, d] Σ_τ f[h·D + d, τ] x[h·D + d, t + τ, r]
  double expected = 0;
  for (int64_t d = 0; d < dims; ++d)
    for (int64_t tau = 0; tau < taps; ++tau)
      expected += a.at({1, 1, 35, d}) * filter.at({dims + d, tau}) * contiguous_noise.at({dims + d, 35 + tau, 4});
  EXPECT_NEAR(pooled_filtered_noise(ag::Var(a), ag::Var(filter), contiguous_noise).value().at({1, 1, 35, 4}), expected, 1e-12);
  // Shapes that do not fit are named: a filter for another head count, noise of another length.
  EXPECT_THROW(pooled_filtered_noise(ag::Var(a), ag::Var(randn({dims, taps}, 45)), contiguous_noise.slice(0, 0, dims)), Error);
  EXPECT_THROW(pooled_filtered_noise(ag::Var(a.slice(2, 0, steps - 1)), ag::Var(filter), contiguous_noise), Error);
}

// spe-conv's encoding takes the fused pooling unless a recorder is started (dumps record the codes
// q̄, k̄ [H, T, D, R]); both draw the same noise and give the same pooled q̂, k̂ and gradients, gated
// and not.
TEST(SpeConv, FusedEncodingMatchesTheRecordedCodesPath) {
  for (bool gated : {true, false}) {
    PositionalEncodingConfig c = config("spe-conv", 2, 4);
    c.realizations = 6;
    c.conv_kernel = 5;
    c.gated = gated;
    const Tensor q = randn({2, 2, 21, 4}, 46), k = randn({2, 2, 21, 4}, 47), grad = randn({2, 2, 21, 6}, 48);
    Tensor pooled[2][2], grads[2][4];
    for (int recorded = 0; recorded < 2; ++recorded) {
      auto pe = make_positional_encoding(c);
      randomize_parameters(*pe, 49);
      const std::string path = (std::filesystem::temp_directory_path() /
                                ("stripes_test_spe_conv_" + std::to_string(::getpid()) + ".h5")).string();
      std::optional<ag::Recorder> recorder;
      if (recorded) {
        recorder.emplace(path);
        recorder->start();
      }
      ag::Var qv(q, true), kv(k, true);
      const auto encoded = pe->encode(qv, kv, Tensor());
      if (recorder) recorder->stop();
      (ag::sum(encoded.query * ag::Var(grad)) + ag::sum(encoded.key * ag::Var(grad) * 0.5)).backward();
      pooled[recorded][0] = encoded.query.value();
      pooled[recorded][1] = encoded.key.value();
      grads[recorded][0] = qv.grad();
      grads[recorded][1] = kv.grad();
      grads[recorded][2] = pe->parameter("query_filter").grad();
      grads[recorded][3] = gated ? pe->parameter("gate").grad() : pe->parameter("key_filter").grad();
      recorder.reset();
      std::filesystem::remove(path);
    }
    const std::string what = gated ? "gated" : "not gated";
    for (int i = 0; i < 2; ++i) EXPECT_LT(stripes::test::norm_relative_error(pooled[1][i], pooled[0][i]), 1e-12) << what << " output " << i;
    for (int i = 0; i < 4; ++i) EXPECT_LT(stripes::test::norm_relative_error(grads[1][i], grads[0][i]), 1e-12) << what << " gradient " << i;
  }
}

namespace {

// A three-input op's fused form and its composed form run on the same inputs (each requiring a
// gradient) and the same output gradient; [0] is the composed run, [1] the fused one.
struct FusedAndComposed {
  Tensor outputs[2], grads[2][3];
};
using ThreeInputOp = ag::Var (*)(const ag::Var&, const ag::Var&, const ag::Var&);
FusedAndComposed run_fused_and_composed(ThreeInputOp fused_form, ThreeInputOp composed_form, const std::string& fused_op,
                                        const Tensor (&inputs)[3], const Tensor& grad_y) {
  FusedAndComposed runs;
  for (int fused = 0; fused < 2; ++fused) {
    ag::Var v[3] = {ag::Var(inputs[0], true), ag::Var(inputs[1], true), ag::Var(inputs[2], true)};
    const ag::Var y = fused ? fused_form(v[0], v[1], v[2]) : composed_form(v[0], v[1], v[2]);
    if (fused) {
      EXPECT_EQ(y.grad_fn()->op, fused_op);
    }
    y.backward(grad_y);
    runs.outputs[fused] = y.value();
    for (int i = 0; i < 3; ++i) runs.grads[fused][i] = v[i].grad();
  }
  return runs;
}

// The fused run's output has `shape`, and its output and three gradients equal the composed run's
// to 1e-13 (relative norm).
void expect_fused_equals_composed(const FusedAndComposed& runs, const Shape& shape, const char* const (&names)[3],
                                  const std::string& what) {
  ASSERT_EQ(runs.outputs[1].shape(), shape) << what;
  EXPECT_LT(stripes::test::norm_relative_error(runs.outputs[1], runs.outputs[0]), 1e-13) << "output, " << what;
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(runs.grads[1][i].shape(), runs.grads[0][i].shape()) << names[i] << ", " << what;
    EXPECT_LT(stripes::test::norm_relative_error(runs.grads[1][i], runs.grads[0][i]), 1e-13) << names[i] << ", " << what;
  }
}

}  // namespace

// F-StrIPE's pooled codes from the phases: the fused CPU op against the composed form (dimension_codes
// of λ cos φ, λ sin φ), in float64, with per-batch phases [B, H, T, D·K] and shared ones [1, H, T, D·K]
// (∂φ summed over the batch). T = 37 is two blocks of 16 steps and a partial one (∂λ's block sums).
TEST(PooledSinusoidCodes, FusedOpMatchesTheComposedForm) {
  const int64_t batch = 2, heads = 2, steps = 37, dims = 3, sines = 4;
  const Tensor a = randn({batch, heads, steps, dims}, 50), gains = randn({heads, dims * sines}, 51);
  const Tensor grad_y = randn({batch, heads, steps, 2 * sines}, 52);
  for (int64_t phase_batch : {batch, int64_t(1)}) {
    const Tensor phase = randn({phase_batch, heads, steps, dims * sines}, 53) * 5.0;
    const FusedAndComposed runs = run_fused_and_composed(pooled_sinusoid_codes, pooled_sinusoid_codes_composed,
                                                         "pooled_sinusoid_codes", {a, phase, gains}, grad_y);
    const std::string what = fmt::format("phases of batch {}", phase_batch);
    expect_fused_equals_composed(runs, {batch, heads, steps, 2 * sines}, {"∂a", "∂φ", "∂λ"}, what);
    const Tensor& output = runs.outputs[1];
    // One value by hand: y[b, h, t, 2k + 1] = Σ_d a[b, h, t, d] λ[h, d·K + k] sin φ[b|0, h, t, d·K + k]
    double expected = 0;
    for (int64_t d = 0; d < dims; ++d) {
      expected += a.at({1, 1, 36, d}) * gains.at({1, d * sines + 2}) *
                  std::sin(phase.at({phase_batch - 1, 1, 36, d * sines + 2}));
    }
    EXPECT_NEAR(output.at({1, 1, 36, 5}), expected, 1e-12) << what;
  }
  // Shapes that do not fit are named: gains of another D·K, phases of another head count.
  EXPECT_THROW(pooled_sinusoid_codes(ag::Var(a), ag::Var(randn({batch, heads, steps, dims * sines}, 54)),
                                     ag::Var(randn({heads, dims * sines + 1}, 55))),
               Error);
  EXPECT_THROW(pooled_sinusoid_codes(ag::Var(a), ag::Var(randn({batch, heads + 1, steps, dims * sines}, 56)), ag::Var(gains)),
               Error);
}

// sineSPE's and F-StrIPE:SFF's pooled codes from the phases: the fused CPU op against the composed
// form (dimension_codes, interleaved, then the joint-axis matmul with W), in float64, with shared
// phases [1, H, T, D·K] (time positions: q̄ made once for the batch) and per-batch ones.
// T = 300 is two parts of ∂W's sums (256 + 44 steps), the second one block of 32 steps and a
// partial one.
TEST(PooledNoisyCodes, FusedOpMatchesTheComposedForm) {
  const int64_t batch = 3, heads = 2, steps = 300, dims = 3, sines = 2, realizations = 5;
  const Tensor a = randn({batch, heads, steps, dims}, 60), weights = randn({heads, 2 * dims * sines, realizations}, 61);
  const Tensor grad_y = randn({batch, heads, steps, realizations}, 62);
  for (int64_t phase_batch : {int64_t(1), batch}) {
    const Tensor phase = randn({phase_batch, heads, steps, dims * sines}, 63) * 5.0;
    const FusedAndComposed runs = run_fused_and_composed(pooled_noisy_codes, pooled_noisy_codes_composed,
                                                         "pooled_noisy_codes", {a, phase, weights}, grad_y);
    const std::string what = fmt::format("phases of batch {}", phase_batch);
    expect_fused_equals_composed(runs, {batch, heads, steps, realizations}, {"∂a", "∂φ", "∂W"}, what);
    const Tensor& output = runs.outputs[1];
    // One value by hand: y[b, h, t, r] = Σ_{d, k} a_d (cos φ_dk W[h, 2(dK + k), r] + sin φ_dk W[h, 2(dK + k) + 1, r])
    double expected = 0;
    for (int64_t d = 0; d < dims; ++d) {
      for (int64_t k = 0; k < sines; ++k) {
        const double phi = phase.at({phase_batch - 1, 1, 299, d * sines + k});
        expected += a.at({2, 1, 299, d}) * (std::cos(phi) * weights.at({1, 2 * (d * sines + k), 3}) +
                                            std::sin(phi) * weights.at({1, 2 * (d * sines + k) + 1, 3}));
      }
    }
    EXPECT_NEAR(output.at({2, 1, 299, 3}), expected, 1e-12) << what;
  }
  // Shapes that do not fit are named: weights for another D·K, phases of another batch.
  EXPECT_THROW(pooled_noisy_codes(ag::Var(a), ag::Var(randn({1, heads, steps, dims * sines}, 64)),
                                  ag::Var(randn({heads, dims * sines, realizations}, 65))),
               Error);
  EXPECT_THROW(pooled_noisy_codes(ag::Var(a), ag::Var(randn({2, heads, steps, dims * sines}, 66)), ag::Var(weights)), Error);
}
