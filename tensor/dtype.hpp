// Element types and devices. A Tensor carries both tags; every kernel checks them and says which
// op refused which type. There is no silent promotion: float32 + float64 is an error.
#pragma once

#include "tensor/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace stripes {

enum class DType : uint8_t { Float32, Float64, Int64, UInt8 };

// Where the bytes live. The CUDA backend (issue: CUDA backend) adds kernels for Device::CUDA;
// until it is built every kernel refuses CUDA tensors with a clear error.
enum class Device : uint8_t { CPU, CUDA };

constexpr size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::Float32: return 4;
    case DType::Float64: return 8;
    case DType::Int64: return 8;
    case DType::UInt8: return 1;
  }
  return 0;
}

constexpr std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::Float32: return "float32";
    case DType::Float64: return "float64";
    case DType::Int64: return "int64";
    case DType::UInt8: return "uint8";
  }
  return "?";
}

constexpr std::string_view device_name(Device device) {
  return device == Device::CPU ? "cpu" : "cuda";
}

constexpr bool is_floating(DType dtype) { return dtype == DType::Float32 || dtype == DType::Float64; }

DType parse_dtype(std::string_view name);    // "float32" | "float64" | "int64" | "uint8"
Device parse_device(std::string_view name);  // "cpu" | "cuda"

// C++ type -> DType
template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::Float32; }
template <> constexpr DType dtype_of<double>() { return DType::Float64; }
template <> constexpr DType dtype_of<int64_t>() { return DType::Int64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::UInt8; }

// Call `body.template operator()<T>()` with T the C++ type of a floating dtype:
//   dispatch_floating(x.dtype(), "exp", [&]<typename T>() { ... });
template <typename Body>
decltype(auto) dispatch_floating(DType dtype, std::string_view op, Body&& body) {
  switch (dtype) {
    case DType::Float32: return body.template operator()<float>();
    case DType::Float64: return body.template operator()<double>();
    default: throw_error("{}: expected a float32 or float64 tensor, got {}", op, dtype_name(dtype));
  }
}

// Same for every dtype (copies, casts, indexing).
template <typename Body>
decltype(auto) dispatch_any(DType dtype, Body&& body) {
  switch (dtype) {
    case DType::Float32: return body.template operator()<float>();
    case DType::Float64: return body.template operator()<double>();
    case DType::Int64: return body.template operator()<int64_t>();
    case DType::UInt8: return body.template operator()<uint8_t>();
  }
  throw_error("unknown dtype");
}

}  // namespace stripes
