// Errors: every failure the user can cause (bad shapes, dtypes, indices, files, options) throws
// stripes::Error with a message that names the op / file / field and the offending shapes.
// Nothing in the library aborts or asserts on user input; the CLI catches Error, prints it and
// exits non-zero.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace stripes {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// throw_error("matmul: inner dimensions differ: a{} @ b{}", a.shape(), b.shape())
#ifndef __CUDACC__
template <typename... Args>
[[noreturn]] void throw_error(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}
#else
// nvcc cannot evaluate fmt's consteval format-string checks, so in .cu files the format string is
// checked at run time (the same strings in headers are checked at compile time by the host build).
template <typename... Args>
[[noreturn]] void throw_error(std::string_view format, Args&&... args) {
  throw Error(fmt::vformat(format, fmt::make_format_args(args...)));
}
#endif

}  // namespace stripes

// STRIPES_CHECK(condition, "op: what went wrong {}", detail) -> throws stripes::Error if false.
#define STRIPES_CHECK(condition, ...)          \
  do {                                         \
    if (!(condition)) {                        \
      ::stripes::throw_error(__VA_ARGS__);     \
    }                                          \
  } while (0)
