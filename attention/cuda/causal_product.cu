// Launchers of the causal product's GPU kernels (attention/cuda/causal_product_kernels.cuh, where
// the kernels and their equations are): each sizes the grid, checks the shared memory it needs
// against the device, and checks the launch.
#include "attention/causal_product.hpp"
#include "attention/cuda/causal_product_kernels.cuh"
#include "tensor/cuda/indexer.cuh"

namespace stripes::attention::cuda_kernels {

namespace {

// An attribute of the current device (the process uses one device).
int device_attribute(cudaDeviceAttr attribute) {
  int device = 0, value = 0;
  STRIPES_CUDA_CHECK(cudaGetDevice(&device));
  STRIPES_CUDA_CHECK(cudaDeviceGetAttribute(&value, attribute, device));
  return value;
}

// The opt-in maximum of shared memory per block (227 KiB on an H100), asked once.
int shared_memory_optin() {
  static const int optin = device_attribute(cudaDevAttrMaxSharedMemoryPerBlockOptin);
  return optin;
}

// Kernels needing over 48 KiB of dynamic shared memory must say so first; the opt-in maximum is the
// limit.
template <typename Kernel>
void allow_shared_memory(Kernel kernel, size_t bytes, const char* op, int64_t p) {
  const int optin = shared_memory_optin();
  STRIPES_CHECK(bytes <= size_t(optin), "{} (cuda): feature dimension {} needs {} bytes of shared memory per block, over the device's {}",
                op, p, bytes, optin);
  if (bytes > 48 * 1024) {
    STRIPES_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
  }
}

// The device's multiprocessors (132 on an H100), asked once.
int64_t multiprocessors() {
  static const int count = device_attribute(cudaDevAttrMultiProcessorCount);
  return count;
}

}  // namespace

Tensor causal_product_forward_cuda(const Tensor& a_in, const Tensor& b_in, const Tensor& c_in, bool reverse) {
  const Tensor a = a_in.contiguous(), b = b_in.contiguous(), c = c_in.contiguous();
  const int64_t steps = a.size(-2), p = a.size(-1), q = c.size(-1);
  const int64_t sequences = a.numel() / std::max<int64_t>(steps * p, 1);
  Tensor out = Tensor::empty(c.shape(), c.dtype(), Device::CUDA);
  if (out.numel() == 0) return out;
  return dispatch_floating(a.dtype(), "causal_product", [&]<typename T>() {
    const size_t shared = causal_product_recurrent_shared_bytes(p, sizeof(T));
    allow_shared_memory(causal_product_recurrent_kernel<T>, shared, "causal_product", p);
    STRIPES_CHECK(sequences <= INT32_MAX, "causal_product (cuda): too many sequences ({})", sequences);
    const dim3 grid(unsigned(sequences), unsigned((q + kRecurrentColumnsPerBlock - 1) / kRecurrentColumnsPerBlock));
    causal_product_recurrent_kernel<T><<<grid, kRecurrentColumnsPerBlock, shared>>>(
        out.raw_mutable_data<T>(), a.raw_data<T>(), b.raw_data<T>(), c.raw_data<T>(), steps, p, q, reverse);
    STRIPES_CUDA_CHECK_LAUNCH(causal_product_recurrent_kernel);
    return out;
  });
}

void causal_product_chunked_cuda(Tensor& out, const Tensor& a_in, const Tensor& b_in, const Tensor& c_in, bool reverse,
                                 bool accumulate, int64_t groups) {
  const Tensor a = a_in.contiguous(), b = b_in.contiguous(), c = c_in.contiguous();
  STRIPES_CHECK(out.device() == Device::CUDA && out.is_contiguous() && out.shape() == c.shape() && out.dtype() == c.dtype(),
                "causal_product_chunked (cuda): output {} must be a contiguous GPU tensor with the shape and dtype of c {}",
                out.description(), c.description());
  const int64_t steps = a.size(-2), p = a.size(-1), q = c.size(-1);
  const int64_t sequences = a.numel() / std::max<int64_t>(steps * p, 1);
  if (out.numel() == 0) return;
  const int64_t chunks = (steps + kChunkRows - 1) / kChunkRows;
  const int64_t column_tiles = (q + kChunkColumnsPerBlock - 1) / kChunkColumnsPerBlock;
  if (groups <= 0) groups = causal_product_chunk_groups(sequences, column_tiles, chunks, multiprocessors());
  STRIPES_CHECK(groups <= chunks, "causal_product_chunked (cuda): {} groups of chunks for {} chunks", groups, chunks);
  const int64_t chunks_per_group = (chunks + groups - 1) / groups;
  groups = (chunks + chunks_per_group - 1) / chunks_per_group;  // no empty group
  STRIPES_CHECK(sequences <= INT32_MAX && groups <= 65535, "causal_product_chunked (cuda): too many sequences ({}) or groups ({})", sequences, groups);
  const dim3 grid{unsigned(sequences), unsigned(column_tiles), unsigned(groups)};
  dispatch_floating(a.dtype(), "causal_product_chunked", [&]<typename T>() {
    const size_t shared = causal_product_chunked_shared_bytes(p, sizeof(T));
    allow_shared_memory(causal_product_chunked_kernel<T>, shared, "causal_product_chunked", p);
    // D_g, the groups' state totals [S, G, P, Q], only when there is more than one group.
    Tensor group_states;
    if (groups > 1) {
      allow_shared_memory(causal_product_group_states_kernel<T>, shared, "causal_product_chunked", p);
      group_states = Tensor::empty({sequences, groups, p, q}, a.dtype(), Device::CUDA);
      causal_product_group_states_kernel<T><<<grid, kChunkThreads, shared>>>(group_states.raw_mutable_data<T>(),
                                                                             b.raw_data<T>(), c.raw_data<T>(), steps, p,
                                                                             q, chunks_per_group);
      STRIPES_CUDA_CHECK_LAUNCH(causal_product_group_states_kernel);
    }
    causal_product_chunked_kernel<T><<<grid, kChunkThreads, shared>>>(
        out.raw_mutable_data<T>(), groups > 1 ? group_states.raw_data<T>() : nullptr, a.raw_data<T>(), b.raw_data<T>(),
        c.raw_data<T>(), steps, p, q, chunks_per_group, reverse, accumulate);
    STRIPES_CUDA_CHECK_LAUNCH(causal_product_chunked_kernel);
  });
}

}  // namespace stripes::attention::cuda_kernels
