// Tensor core: views, broadcasting, reductions, matmul, scans, indexing, RNG, errors, printing.
// Expected values come from plain loops written here, never from the code under test.
#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/math.hpp"

#include "tests/support/expect_error.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

using namespace stripes;

namespace {

Tensor iota(const Shape& shape, DType dtype = DType::Float64, double start = 0.0) {
  Tensor t = Tensor::empty(shape, dtype);
  dispatch_floating(dtype, "iota", [&]<typename T>() {
    T* p = t.mutable_data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = T(start + double(i));
  });
  return t;
}

const auto expect_message = stripes::testing::expect_error_message;

}  // namespace

TEST(Views, ReshapeSharesStorageAndTransposeIsNotContiguous) {
  Tensor x = iota({2, 3, 4});
  Tensor r = x.reshape({6, 4});
  EXPECT_TRUE(r.shares_storage_with(x));
  EXPECT_EQ(r.at({5, 3}), 23.0);
  Tensor t = x.transpose(0, 2);  // [4, 3, 2]
  EXPECT_FALSE(t.is_contiguous());
  EXPECT_TRUE(t.shares_storage_with(x));
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 2; ++k) EXPECT_EQ(t.at({i, j, k}), x.at({k, j, i}));
  Tensor c = t.contiguous();
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_FALSE(c.shares_storage_with(x));
  EXPECT_EQ(c.to_vector<double>(), t.to_vector<double>());
  // reshape of a non-contiguous tensor copies; view refuses
  EXPECT_FALSE(t.reshape({24}).shares_storage_with(x));
  expect_message([&] { t.view({24}); }, {"view", "not contiguous"});
}

TEST(Views, SliceSelectExpandUnsqueezePermute) {
  Tensor x = iota({4, 5});
  Tensor s = x.slice(1, 1, 5, 2);  // columns 1, 3
  EXPECT_EQ(s.shape(), (Shape{4, 2}));
  EXPECT_EQ(s.at({2, 1}), 13.0);
  Tensor neg = x.slice(0, -2, 4);  // rows 2, 3
  EXPECT_EQ(neg.at({0, 0}), 10.0);
  Tensor row = x.select(0, 3);
  EXPECT_EQ(row.shape(), (Shape{5}));
  EXPECT_EQ(row.at({4}), 19.0);
  Tensor e = x.slice(0, 0, 1).expand({3, 5});
  EXPECT_EQ(e.strides()[0], 0);
  EXPECT_EQ(e.at({2, 4}), 4.0);
  EXPECT_EQ(x.unsqueeze(1).shape(), (Shape{4, 1, 5}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{4, 5, 1}));
  Tensor p = iota({2, 3, 4}).permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.at({3, 1, 2}), iota({2, 3, 4}).at({1, 2, 3}));
  // writes through a view reach the base tensor
  Tensor base = Tensor::zeros({3, 3}, DType::Float64);
  base.slice(1, 1, 2).fill_(7.0);
  EXPECT_EQ(base.at({2, 1}), 7.0);
  EXPECT_EQ(base.at({2, 2}), 0.0);
}

TEST(Views, ErrorsNameTheOpAndShapes) {
  Tensor x = iota({2, 3});
  expect_message([&] { x.reshape({4, 2}); }, {"view", "[4, 2]", "[2, 3]"});
  expect_message([&] { x.permute({0, 0}); }, {"permute", "twice"});
  expect_message([&] { x.slice(2, 0, 1); }, {"slice", "axis 2", "out of range"});
  expect_message([&] { x.select(0, 5); }, {"select", "index 5"});
  expect_message([&] { x.at({0, 3}); }, {"at", "index 3"});
  expect_message([&] { x.expand({4, 3}); }, {"expand"});
}

TEST(Broadcasting, MatchesNumpyRules) {
  Tensor a = iota({4, 1, 3});
  Tensor b = iota({2, 1}, DType::Float64, 100.0);
  Tensor c = a + b;
  ASSERT_EQ(c.shape(), (Shape{4, 2, 3}));
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(c.at({i, j, k}), a.at({i, 0, k}) + b.at({j, 0}));
  Tensor scalar = Tensor::scalar(2.0, DType::Float64);
  EXPECT_EQ((iota({3}) * scalar).to_vector<double>(), (std::vector<double>{0, 2, 4}));
  // broadcasting against a transposed (non-contiguous) operand
  Tensor t = iota({3, 2}).transpose(0, 1);  // [2, 3]
  Tensor d = t - iota({3});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t k = 0; k < 3; ++k) EXPECT_EQ(d.at({i, k}), t.at({i, k}) - double(k));
  expect_message([&] { iota({2, 3}) + iota({4}); }, {"add", "[2, 3]", "[4]", "cannot be broadcast"});
  EXPECT_EQ(broadcast_shapes("t", {5, 1, 4}, {3, 1}), (Shape{5, 3, 4}));
}

TEST(Broadcasting, DtypeMismatchIsAnError) {
  expect_message([&] { iota({2}) + iota({2}, DType::Float32); }, {"add", "dtype mismatch", "float64", "float32"});
  expect_message([&] { exp(Tensor::arange(3)); }, {"exp", "int64"});
}

TEST(Elementwise, LargeTensorsUseAllThreadsAndAgree) {
  // Big enough to take the parallel path; compare with a serial loop.
  Generator g(3);
  Tensor x = Tensor::randn({300, 401}, g, DType::Float32);
  Tensor y = tanh(x) * 2.0 + x;
  const auto xv = x.to_vector<float>();
  const auto yv = y.to_vector<float>();
  for (size_t i = 0; i < xv.size(); i += 997) EXPECT_FLOAT_EQ(yv[i], 2.0f * std::tanh(xv[i]) + xv[i]);
}

TEST(Elementwise, StableSigmoidAndSoftplus) {
  Tensor x = Tensor::from_vector<double>({-800.0, -1.0, 0.0, 1.0, 800.0}, {5});
  const auto s = sigmoid(x).to_vector<double>();
  EXPECT_EQ(s[0], 0.0);
  EXPECT_NEAR(s[1], 1.0 / (1.0 + std::exp(1.0)), 1e-15);
  EXPECT_EQ(s[4], 1.0);
  const auto sp = softplus(x).to_vector<double>();
  EXPECT_EQ(sp[0], 0.0);
  EXPECT_NEAR(sp[2], std::log(2.0), 1e-15);
  EXPECT_EQ(sp[4], 800.0);
}

TEST(Reductions, SumMeanMaxOverAxes) {
  Tensor x = iota({2, 3, 4});
  Tensor s = sum(x, {0, 2});
  ASSERT_EQ(s.shape(), (Shape{3}));
  for (int64_t j = 0; j < 3; ++j) {
    double expected = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 4; ++k) expected += x.at({i, j, k});
    EXPECT_EQ(s.at({j}), expected);
  }
  EXPECT_EQ(sum(x, {1}, true).shape(), (Shape{2, 1, 4}));
  EXPECT_EQ(sum(x).item(), 276.0);
  EXPECT_EQ(mean(x, {-1}).at({1, 2}), (20.0 + 21 + 22 + 23) / 4);
  EXPECT_EQ(max(x, {0}).at({2, 3}), 23.0);
  EXPECT_EQ(min(x, {1, 2}).at({1}), 12.0);
  // leading-axes fast path and the general path agree
  Generator g(0);
  Tensor r = Tensor::randn({64, 33}, g, DType::Float64);
  const Tensor leading = sum(r, {0});
  const Tensor general = sum(r.transpose(0, 1), {1});
  for (int64_t j = 0; j < 33; ++j) EXPECT_NEAR(leading.at({j}), general.at({j}), 1e-12);
  expect_message([&] { sum(x, {3}); }, {"sum", "axis 3"});
  expect_message([&] { sum(x, {1, -2}); }, {"sum", "twice"});
}

TEST(Reductions, SumToUndoesBroadcasting) {
  Tensor g = Tensor::ones({4, 2, 3}, DType::Float64);
  EXPECT_EQ(sum_to(g, {2, 1}).to_vector<double>(), (std::vector<double>{12, 12}));
  EXPECT_EQ(sum_to(g, {3}).to_vector<double>(), (std::vector<double>{8, 8, 8}));
  EXPECT_EQ(sum_to(g, {}).item(), 24.0);
  expect_message([&] { sum_to(g, {5}); }, {"sum_to"});
}

TEST(Matmul, MatchesNaiveLoopsWithBroadcastAndTransposedViews) {
  Generator gen(11);
  Tensor a = Tensor::randn({2, 1, 3, 5}, gen, DType::Float64);
  Tensor b = Tensor::randn({4, 5, 2}, gen, DType::Float64);
  Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 4, 3, 2}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 4; ++j)
      for (int64_t m = 0; m < 3; ++m)
        for (int64_t n = 0; n < 2; ++n) {
          double expected = 0;
          for (int64_t k = 0; k < 5; ++k) expected += a.at({i, 0, m, k}) * b.at({j, k, n});
          EXPECT_NEAR(c.at({i, j, m, n}), expected, 1e-12);
        }
  // transposed operands are read in place and give the same product as contiguous copies
  Tensor w = Tensor::randn({7, 5}, gen, DType::Float64);
  Tensor x = Tensor::randn({6, 5}, gen, DType::Float64);
  Tensor via_view = matmul(x, w.transpose(0, 1));
  Tensor via_copy = matmul(x, w.transpose(0, 1).contiguous());
  EXPECT_LT(max_abs(via_view - via_copy), 1e-12);
  Tensor both = matmul(x.transpose(0, 1), Tensor::randn({6, 3}, gen, DType::Float64));
  EXPECT_EQ(both.shape(), (Shape{5, 3}));
  expect_message([&] { matmul(a, a); }, {"matmul", "inner dimensions", "[2, 1, 3, 5]"});
  expect_message([&] { matmul(iota({3}), iota({3, 1})); }, {"matmul", "at least 2"});
}

TEST(Matmul, Float32IsAccurate) {
  Generator gen(5);
  Tensor a = Tensor::randn({64, 128}, gen, DType::Float64);
  Tensor b = Tensor::randn({128, 32}, gen, DType::Float64);
  Tensor exact = matmul(a, b);
  Tensor single = matmul(a.to(DType::Float32), b.to(DType::Float32)).to(DType::Float64);
  EXPECT_LT(max_abs(exact - single) / max_abs(exact), 1e-5);
}

TEST(Scans, CumsumForwardAndReverse) {
  Tensor x = iota({2, 4, 3});
  Tensor y = cumsum(x, 1);
  Tensor r = cumsum(x, 1, true);
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t k = 0; k < 3; ++k) {
      double prefix = 0, suffix = 0;
      for (int64_t t = 0; t < 4; ++t) {
        prefix += x.at({i, t, k});
        EXPECT_EQ(y.at({i, t, k}), prefix);
        suffix += x.at({i, 3 - t, k});
        EXPECT_EQ(r.at({i, 3 - t, k}), suffix);
      }
    }
}

TEST(Indexing, ConcatIndexSelectIndexAddGatherScatter) {
  Tensor a = iota({2, 2}), b = iota({2, 1}, DType::Float64, 10.0);
  Tensor c = concat({a, b}, 1);
  EXPECT_EQ(c.to_vector<double>(), (std::vector<double>{0, 1, 10, 2, 3, 11}));
  expect_message([&] { concat({a, iota({3, 1})}, 1); }, {"concat", "tensor 1"});

  Tensor table = iota({5, 3});
  Tensor index = Tensor::from_vector<int64_t>({4, 0, 4, 2}, {2, 2});
  Tensor rows = index_select(table, 0, index);
  ASSERT_EQ(rows.shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(rows.at({1, 0, 2}), 14.0);
  Tensor grad = Tensor::zeros({5, 3}, DType::Float64);
  index_add_(grad, 0, index.reshape({4}), Tensor::ones({4, 3}, DType::Float64));
  EXPECT_EQ(grad.to_vector<double>(), (std::vector<double>{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 2, 2, 2}));
  expect_message([&] { index_select(table, 0, Tensor::from_vector<int64_t>({5}, {1})); },
                 {"index_select", "index 5", "out of range [0, 5)"});

  Tensor x = iota({2, 3});
  Tensor gi = Tensor::from_vector<int64_t>({2, 0, 1, 1}, {2, 2});
  EXPECT_EQ(gather(x, 1, gi).to_vector<double>(), (std::vector<double>{2, 0, 4, 4}));
  Tensor target = Tensor::zeros({2, 3}, DType::Float64);
  scatter_add_(target, 1, gi, Tensor::ones({2, 2}, DType::Float64));
  EXPECT_EQ(target.to_vector<double>(), (std::vector<double>{1, 0, 1, 0, 2, 0}));
}

TEST(Where, SelectsAndBroadcasts) {
  Tensor m = Tensor::from_vector<uint8_t>({1, 0, 1}, {3});
  Tensor w = where(m, iota({2, 3}), Tensor::scalar(-1.0, DType::Float64));
  EXPECT_EQ(w.to_vector<double>(), (std::vector<double>{0, -1, 2, 3, -1, 5}));
  EXPECT_EQ(greater(iota({3}), Tensor::scalar(1.0, DType::Float64)).to_vector<uint8_t>(), (std::vector<uint8_t>{0, 0, 1}));
  expect_message([&] { where(iota({3}), iota({3}), iota({3})); }, {"where", "uint8"});
}

TEST(Random, SameSeedSameNumbersWhateverTheThreadCount) {
  Generator g1(42), g2(42), g3(43);
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const auto a = Tensor::randn({100000}, g1, DType::Float64).to_vector<double>();
  omp_set_num_threads(std::max(2, threads));
  const auto b = Tensor::randn({100000}, g2, DType::Float64).to_vector<double>();
  omp_set_num_threads(threads);
  const auto c = Tensor::randn({100000}, g3, DType::Float64).to_vector<double>();
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // the generator advances: a second draw differs from the first
  EXPECT_NE(Tensor::randn({4}, g1, DType::Float64).to_vector<double>(), std::vector<double>(a.begin(), a.begin() + 4));
  double mean = 0, var = 0;
  for (double v : a) mean += v;
  mean /= double(a.size());
  for (double v : a) var += (v - mean) * (v - mean);
  var /= double(a.size());
  EXPECT_NEAR(mean, 0.0, 0.02);  // 6 standard errors
  EXPECT_NEAR(var, 1.0, 0.03);
  const auto u = Tensor::rand({50000}, g1, DType::Float64, -1.0, 3.0).to_vector<double>();
  for (double v : u) ASSERT_TRUE(v >= -1.0 && v < 3.0);
  const double keep = sum(Tensor::bernoulli({50000}, 0.3, g1, DType::Float64)).item() / 50000.0;
  EXPECT_NEAR(keep, 0.3, 0.015);
}

TEST(Random, StateCanBeSavedAndRestored) {
  Generator g(7);
  Tensor::randn({10}, g);
  Generator copy;
  copy.set_state(g.seed(), g.offset());
  EXPECT_EQ(Tensor::randn({5}, g).to_vector<float>(), Tensor::randn({5}, copy).to_vector<float>());
}

TEST(VersionCounter, InPlaceWritesBumpIt) {
  Tensor x = Tensor::zeros({3});
  const uint64_t v0 = x.version();
  x.fill_(1.0);
  EXPECT_GT(x.version(), v0);
  Tensor view = x.slice(0, 0, 1);
  const uint64_t v1 = x.version();
  view.add_(Tensor::ones({1}));
  EXPECT_GT(x.version(), v1);  // a write through a view counts for the base
}

TEST(Printing, ShowsValuesShapeAndDtype) {
  const std::string s = fmt::format("{}", iota({2, 2}, DType::Float32));
  EXPECT_NE(s.find("[[0, 1],"), std::string::npos) << s;
  EXPECT_NE(s.find("shape=[2, 2]"), std::string::npos);
  EXPECT_NE(s.find("float32"), std::string::npos);
  const std::string big = fmt::format("{}", Tensor::zeros({2000}));
  EXPECT_NE(big.find("..."), std::string::npos);
  EXPECT_LT(big.size(), 200u);
}

TEST(Casting, ToDtypeConverts) {
  Tensor x = Tensor::from_vector<double>({1.5, -2.25}, {2});
  EXPECT_EQ(x.to(DType::Float32).to_vector<float>(), (std::vector<float>{1.5f, -2.25f}));
  EXPECT_EQ(x.to(DType::Int64).to_vector<int64_t>(), (std::vector<int64_t>{1, -2}));
  if (cuda::available()) {  // with a GPU the move works and comes back unchanged
    EXPECT_EQ(x.to(Device::CUDA).to(Device::CPU).to_vector<double>(), (std::vector<double>{1.5, -2.25}));
  } else {  // without one it is refused by name
    expect_message([&] { x.to(Device::CUDA); }, {"cuda"});
  }
  expect_message([&] { parse_dtype("float16"); }, {"float16"});
}
