// Test helper shared by the test programs: expect a stripes::Error whose message contains every
// given fragment (the op's name, the shapes, the offending value ...).
#pragma once

#include "tensor/error.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace stripes::testing {

inline void expect_error_message(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "expected stripes::Error";
  } catch (const Error& e) {
    for (const auto& fragment : fragments) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << "message: " << e.what() << "\nmissing: " << fragment;
    }
  }
}

}  // namespace stripes::testing
