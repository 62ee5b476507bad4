// The CUDA backend's entry points in a build without CUDA: available() is false, and everything
// else says that this build has no CUDA backend (no tensor can reach them: Storage refuses to
// allocate on Device::CUDA first).
#ifndef STRIPES_HAVE_CUDA

#include "tensor/cuda/cuda_backend.hpp"

namespace stripes::cuda {

[[noreturn]] static void unavailable(const char* what) {
  throw_error("{}: this build of stripes has no CUDA backend (configure with -DSTRIPES_CUDA=ON on a machine with nvcc)", what);
}

bool available() { return false; }
std::string device_description() { return "no CUDA backend in this build"; }
void* allocate(size_t) { unavailable("cuda::allocate"); }
void release(void*, size_t) {}
MemoryStats memory_stats() { return {}; }
void set_poison_new_allocations(bool) {}
void reset_peak() {}
void empty_cache() {}
void synchronize() {}
void copy_bytes(void*, Device, const void*, Device, size_t) { unavailable("cuda::copy_bytes"); }
void copy_into(Tensor&, const Tensor&, const Strides&) { unavailable("copy"); }
void fill_into(Tensor&, double) { unavailable("fill"); }
void add_into(Tensor&, const Tensor&, const Strides&, double) { unavailable("add_"); }
Tensor unary(scalar::UnaryOp, const Tensor&, const scalar::UnaryParams&) { unavailable("elementwise op"); }
Tensor binary(scalar::BinaryOp, const Tensor&, const Tensor&, const Shape&) { unavailable("elementwise op"); }
Tensor compare(scalar::CompareOp, const Tensor&, const Tensor&, const Shape&) { unavailable("comparison"); }
Tensor where(const Tensor&, const Tensor&, const Tensor&, const Shape&) { unavailable("where"); }
void random_into(Tensor&, Distribution, uint64_t, uint64_t, double, double) { unavailable("random"); }
Tensor reduce_rows(Reduction, const Tensor&, int64_t, int64_t, const Shape&) { unavailable("reduction"); }
bool all_finite(const Tensor&) { unavailable("all_finite"); }
Tensor matmul(const Tensor&, const Tensor&) { unavailable("matmul"); }
Tensor cumsum(const Tensor&, int64_t, bool) { unavailable("cumsum"); }
Tensor index_select(const Tensor&, int64_t, const Tensor&) { unavailable("index_select"); }
void index_add_into(Tensor&, int64_t, const Tensor&, const Tensor&) { unavailable("index_add_"); }
Tensor gather(const Tensor&, int64_t, const Tensor&) { unavailable("gather"); }
void scatter_add_into(Tensor&, int64_t, const Tensor&, const Tensor&) { unavailable("scatter_add_"); }

}  // namespace stripes::cuda

#endif  // STRIPES_HAVE_CUDA
