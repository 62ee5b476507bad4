// Large products are split into blocks of output rows or columns across the threads: every
// operand layout (row-major, transposed view) and a small batch, against a plain triple loop.
#include "tensor/math.hpp"
#include "tensor/tensor.hpp"

#include <gtest/gtest.h>

using namespace stripes;

namespace {
// c[i, j] = Σ_k a[i, k] b[k, j] in double, element by element.
Tensor naive_product(const Tensor& a, const Tensor& b) {
  const int64_t m = a.size(0), k = a.size(1), n = b.size(1);
  const Tensor ad = a.contiguous().to(DType::Float64), bd = b.contiguous().to(DType::Float64);
  const double* pa = ad.data<double>();
  const double* pb = bd.data<double>();
  Tensor c = Tensor::zeros({m, n}, DType::Float64);
  double* pc = c.mutable_data<double>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j) pc[i * n + j] += pa[i * k + p] * pb[p * n + j];
  return c;
}
}  // namespace

TEST(MatmulBlocks, EveryLayoutOfALargeProductEqualsTheTripleLoop) {
  Generator g(1);
  // 2·m·k·n ≥ 2^24: the blocked path; m > n splits rows, m < n splits columns
  for (const auto& [m, k, n] : std::vector<std::array<int64_t, 3>>{{500, 200, 300}, {150, 300, 420}}) {
    const Tensor a = Tensor::randn({m, k}, g), b = Tensor::randn({k, n}, g);
    const Tensor reference = naive_product(a, b);
    const Tensor a_t = a.transpose(0, 1).contiguous().transpose(0, 1);  // column-major views
    const Tensor b_t = b.transpose(0, 1).contiguous().transpose(0, 1);
    for (const auto& [left, right] : std::vector<std::pair<Tensor, Tensor>>{{a, b}, {a_t, b}, {a, b_t}, {a_t, b_t}}) {
      const Tensor c = matmul(left, right).to(DType::Float64);
      EXPECT_LT(max_abs(c - reference), 1e-3 * max_abs(reference)) << m << "x" << k << "x" << n;
    }
  }
  // A batch of two large products (each is split in turn).
  const Tensor a = Tensor::randn({2, 300, 200}, g), b = Tensor::randn({2, 200, 300}, g);
  const Tensor c = matmul(a, b);
  for (int64_t i = 0; i < 2; ++i) {
    const Tensor reference = naive_product(a.select(0, i), b.select(0, i));
    EXPECT_LT(max_abs(c.select(0, i).to(DType::Float64) - reference), 1e-3 * max_abs(reference));
  }
}
