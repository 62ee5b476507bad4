// Backward time is attributed to the profile label that was open when each node was recorded.
#include "autograd/ops.hpp"
#include "tensor/profile.hpp"

#include <gtest/gtest.h>

using namespace stripes;

TEST(ProfileBackward, NodesCarryTheirForwardLabelIntoBackward) {
  profile::reset();
  profile::EnableGuard on;
  Generator g(1);
  const ag::Var x(Tensor::randn({64, 64}, g), true);
  ag::Var y;
  {
    profile::Scope scope("first");
    y = ag::matmul(x, x);
  }
  ag::Var z;
  {
    profile::Scope scope("second");
    z = ag::sum(ag::exp(y * 0.01));
  }
  EXPECT_STREQ(y.grad_fn()->profile_label, "first (backward)");
  EXPECT_STREQ(z.grad_fn()->profile_label, "second (backward)");
  const ag::Var unlabelled = y + 1.0;
  EXPECT_STREQ(unlabelled.grad_fn()->profile_label, "(backward)");
  z.backward();
  EXPECT_GT(profile::seconds("first (backward)"), 0.0);
  EXPECT_GT(profile::seconds("second (backward)"), 0.0);
  EXPECT_GT(profile::seconds("first"), 0.0);
  profile::reset();
}

TEST(ProfileBackward, NodesRecordedWhileOffHaveNoLabel) {
  Generator g(2);
  const ag::Var x(Tensor::randn({4}, g), true);
  const ag::Var y = ag::exp(x);
  EXPECT_EQ(y.grad_fn()->profile_label, nullptr);
}
