// The one-op FAVOR+ feature map against its composition of primitive ops.
#include "attention/feature_maps.hpp"

#include "tests/support/tensor_compare.hpp"

#include <gtest/gtest.h>

using namespace stripes;
using namespace stripes::attention;

using stripes::test::randn;

TEST(FavorFused, EqualsTheReferenceInValueAndGradient) {
  // [2, 3, 300, 8]: several row blocks of 128 per sequence and a partial one; a permuted view
  // (the layout split_heads produces) and a contiguous input.
  const Tensor base = randn({2, 300, 3, 8}, 1);
  Generator g(2);
  const Tensor projection = draw_random_projection(8, 12, g, DType::Float64);
  const Tensor grad = randn({2, 3, 300, 24}, 3);
  for (bool permuted : {true, false}) {
    const Tensor x = permuted ? base.permute({0, 2, 1, 3}) : base.permute({0, 2, 1, 3}).contiguous();
    for (bool stabilize : {false, true}) {
      ag::Var fused_input(x, true), reference_input(x, true);
      const ag::Var fused = favor_features(fused_input, projection, stabilize);
      const ag::Var reference = favor_features_reference(reference_input, projection, stabilize);
      EXPECT_LT(stripes::test::max_relative_error(fused.value(), reference.value()), 1e-13) << "stabilize " << stabilize;
      fused.backward(grad);
      reference.backward(grad);
      EXPECT_LT(stripes::test::max_relative_error(fused_input.grad(), reference_input.grad()), 1e-12)
          << "stabilize " << stabilize << " permuted " << permuted;
    }
  }
}

TEST(FavorFused, Float32AndSmallShapes) {
  Generator g(4);
  const Tensor projection = draw_random_projection(4, 2, g, DType::Float32);
  for (const Shape& shape : std::vector<Shape>{{1, 4}, {5, 4}, {2, 1, 3, 4}}) {
    const Tensor x = randn(shape, 5, DType::Float32);
    for (bool stabilize : {false, true}) {
      const Tensor fused = favor_features(ag::Var(x), projection, stabilize).value();
      const Tensor reference = favor_features_reference(ag::Var(x), projection, stabilize).value();
      ASSERT_EQ(fused.shape(), reference.shape());
      EXPECT_LT(stripes::test::max_relative_error(fused, reference), 1e-5);
    }
  }
  EXPECT_THROW(favor_features(ag::Var(randn({2, 3}, 6, DType::Float32)), projection, false), Error);
}
