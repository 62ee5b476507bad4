// `--device cpu|cuda`, the same on every command that runs a model: the option, and its check
// before any work starts (a machine without a usable GPU stops with the runtime's reason).
#pragma once

#include "tensor/cuda/cuda_backend.hpp"
#include "tensor/dtype.hpp"
#include "tensor/error.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace stripes::cli {

inline CLI::Option* add_device_option(CLI::App& command, std::string& device_name, const std::string& what) {
  return command.add_option("--device", device_name, what + ": cpu or cuda")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
}

// The parsed device; for cuda, stops with "<command> --device cuda: <why there is no GPU>" unless
// one is usable.
inline Device usable_device(const char* command, const std::string& device_name) {
  const Device device = parse_device(device_name);
  STRIPES_CHECK(device == Device::CPU || cuda::available(), "{} --device cuda: {}", command, cuda::device_description());
  return device;
}

}  // namespace stripes::cli
