// The CUDA backend's entry points, called by the tensor kernels of tensor/*.cpp when a tensor
// lives on Device::CUDA. Each is implemented in tensor/cuda/*.cu as a kernel (pure index math)
// and a host launcher that sizes the grid and checks every CUDA call. A build without CUDA links
// tensor/cuda/cuda_unavailable.cpp instead, where available() is false and every entry throws.
//
// Conventions: outputs are fresh contiguous device tensors unless the name says "into"; operands'
// strides are honoured (views are read in place); shapes have at most kMaxDims dimensions.
#pragma once

#include "tensor/scalar_functions.hpp"
#include "tensor/tensor.hpp"

#include <cstdlib>
#include <string>

namespace stripes::cuda {

constexpr int kMaxDims = 8;

// Whether this build has the CUDA backend (a device may still be absent: see available()). Ops
// choose their GPU kernels with it where the kernel is only declared in CUDA builds.
#ifdef STRIPES_HAVE_CUDA
constexpr bool kBuiltWithCuda = true;
#else
constexpr bool kBuiltWithCuda = false;
#endif

// Whether ops on the GPU run their fused kernels (the causal product's chunked kernel, the PEs',
// FAVOR+'s, convSPE's filter, layer norm, softmax, BCE): true unless the environment sets
// STRIPES_CUDA_FUSED=0, when they run their composed forms from the primitive kernels instead —
// to compare the two on a GPU, or to go on around a fused kernel that fails there. Read once.
inline bool fused_kernels_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("STRIPES_CUDA_FUSED");
    return value == nullptr || std::string(value) != "0";
  }();
  return enabled;
}

// Built with CUDA and at least one device visible.
bool available();
// "NVIDIA H200 (sm 9.0, 139 GiB)" or why there is none.
std::string device_description();

// ---- memory: a caching allocator over cudaMalloc (never managed memory) ---------------------------
void* allocate(size_t nbytes);
void release(void* pointer, size_t nbytes);
struct MemoryStats {
  size_t in_use = 0;   // bytes held by live tensors
  size_t peak = 0;     // high-water mark of in_use since reset_peak()
  size_t cached = 0;   // bytes kept for reuse (freed by empty_cache())
};
MemoryStats memory_stats();
// Tests: fill every new allocation with 0xFF bytes (NaN in float32/float64) so that a kernel
// that leaves an output element unwritten is caught.
void set_poison_new_allocations(bool on);
void reset_peak();
void empty_cache();
void synchronize();

// Raw copies between host and device memory (or device and device).
void copy_bytes(void* destination, Device destination_device, const void* source, Device source_device, size_t nbytes);

// ---- elementwise ---------------------------------------------------------------------------------
// destination[i] = source[i] elementwise over destination's shape; source strides may broadcast
// (stride 0); dtypes may differ (a cast). Both on the device.
void copy_into(Tensor& destination, const Tensor& source, const Strides& source_strides);
void fill_into(Tensor& destination, double value);
void add_into(Tensor& destination, const Tensor& source, const Strides& source_strides, double alpha);
Tensor unary(scalar::UnaryOp op, const Tensor& x, const scalar::UnaryParams& params);
Tensor binary(scalar::BinaryOp op, const Tensor& a, const Tensor& b, const Shape& shape);
Tensor compare(scalar::CompareOp op, const Tensor& a, const Tensor& b, const Shape& shape);
Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b, const Shape& shape);
// counter-based draws, identical to the CPU's for the same (seed, first counter)
enum class Distribution { Normal, Uniform, Bernoulli };
void random_into(Tensor& destination, Distribution distribution, uint64_t seed, uint64_t first_counter, double a, double b);

// ---- reductions over the last axis of a contiguous [outer, inner] tensor -------------------------
enum class Reduction { Sum, Max, Min };
Tensor reduce_rows(Reduction kind, const Tensor& rows, int64_t outer, int64_t inner, const Shape& out_shape);
bool all_finite(const Tensor& x);

// ---- linear algebra, scans, indexing -------------------------------------------------------------
Tensor matmul(const Tensor& a, const Tensor& b);  // cuBLAS, same contract as stripes::matmul
Tensor cumsum(const Tensor& x, int64_t axis, bool reverse);
Tensor index_select(const Tensor& x, int64_t axis, const Tensor& index);
void index_add_into(Tensor& target, int64_t axis, const Tensor& index, const Tensor& source);
Tensor gather(const Tensor& x, int64_t axis, const Tensor& index);
void scatter_add_into(Tensor& target, int64_t axis, const Tensor& index, const Tensor& source);

}  // namespace stripes::cuda
