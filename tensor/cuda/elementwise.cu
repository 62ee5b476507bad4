// Elementwise kernels: copies and casts, fill, in-place add, the unary/binary/compare functors of
// tensor/scalar_functions.hpp, where, and counter-based random draws. Each kernel is index math
// over a grid-stride loop; the launchers below size the grid and check the launch.
#include "tensor/cuda/indexer.cuh"
#include "tensor/philox.hpp"

namespace stripes::cuda {

// ---- kernels -------------------------------------------------------------------------------------

// out[o0] = To(in[o1])
template <typename To, typename From>
__global__ void copy_kernel(To* out, const From* in, Indexer<2> indexer, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    int64_t o[2];
    indexer.offsets(i, o);
    out[o[0]] = To(in[o[1]]);
  }
}

template <typename T>
__global__ void fill_kernel(T* out, T value, Indexer<1> indexer, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    int64_t o[1];
    indexer.offsets(i, o);
    out[o[0]] = value;
  }
}

// out[o0] += alpha · in[o1]
template <typename T>
__global__ void add_kernel(T* out, const T* in, T alpha, Indexer<2> indexer, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    int64_t o[2];
    indexer.offsets(i, o);
    out[o[0]] += alpha * in[o[1]];
  }
}

// out[i] = f(x[o1])            (out contiguous)
template <typename T, typename F>
__global__ void unary_kernel(T* out, const T* x, F f, Indexer<2> indexer, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    int64_t o[2];
    indexer.offsets(i, o);
    out[o[0]] = f(x[o[1]]);
  }
}

// out[i] = f(a[o1], b[o2])
template <typename T, typename OutT, typename F>
__global__ void binary_kernel(OutT* out, const T* a, const T* b, F f, Indexer<3> indexer, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    int64_t o[3];
    indexer.offsets(i, o);
    out[o[0]] = f(a[o[1]], b[o[2]]);
  }
}

// out[i] = condition[o1] ? a[o2] : b[o3]
template <typename T>
__global__ void where_kernel(T* out, const uint8_t* condition, const T* a, const T* b, Indexer<4> indexer, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    int64_t o[4];
    indexer.offsets(i, o);
    out[o[0]] = condition[o[1]] ? a[o[2]] : b[o[3]];
  }
}

// out[i] = draw(seed, first + i): the CPU's formula (tensor/philox.hpp) on each element
template <typename T>
__global__ void random_kernel(T* out, int distribution, uint64_t seed, uint64_t first, double a, double b, int64_t n) {
  STRIPES_GRID_STRIDE_LOOP(i, n) {
    const uint64_t counter = first + uint64_t(i);
    double value;
    if (distribution == 0) value = philox::normal(counter, seed);
    else if (distribution == 1) value = a + (b - a) * philox::uniform(counter, seed);
    else value = philox::uniform(counter, seed) < a ? 1.0 : 0.0;
    out[i] = T(value);
  }
}

// ---- launchers -----------------------------------------------------------------------------------

void copy_into(Tensor& destination, const Tensor& source, const Strides& source_strides) {
  const int64_t n = destination.numel();
  if (n == 0) return;
  const Indexer<2> indexer = make_indexer<2>("copy", destination.shape(), {destination.strides(), source_strides});
  const LaunchShape launch = launch_shape(n);
  dispatch_any(destination.dtype(), [&]<typename To>() {
    To* out = destination.raw_mutable_data<To>();
    dispatch_any(source.dtype(), [&]<typename From>() {
      copy_kernel<To, From><<<launch.blocks, launch.threads>>>(out, source.raw_data<From>(), indexer, n);
      STRIPES_CUDA_CHECK_LAUNCH(copy_kernel);
    });
  });
}

void fill_into(Tensor& destination, double value) {
  const int64_t n = destination.numel();
  if (n == 0) return;
  const Indexer<1> indexer = make_indexer<1>("fill_", destination.shape(), {destination.strides()});
  const LaunchShape launch = launch_shape(n);
  dispatch_any(destination.dtype(), [&]<typename T>() {
    fill_kernel<T><<<launch.blocks, launch.threads>>>(destination.raw_mutable_data<T>(), T(value), indexer, n);
    STRIPES_CUDA_CHECK_LAUNCH(fill_kernel);
  });
}

void add_into(Tensor& destination, const Tensor& source, const Strides& source_strides, double alpha) {
  const int64_t n = destination.numel();
  if (n == 0) return;
  const Indexer<2> indexer = make_indexer<2>("add_", destination.shape(), {destination.strides(), source_strides});
  const LaunchShape launch = launch_shape(n);
  dispatch_floating(destination.dtype(), "add_", [&]<typename T>() {
    add_kernel<T><<<launch.blocks, launch.threads>>>(destination.raw_mutable_data<T>(), source.raw_data<T>(), T(alpha), indexer, n);
    STRIPES_CUDA_CHECK_LAUNCH(add_kernel);
  });
}

Tensor unary(scalar::UnaryOp op, const Tensor& x, const scalar::UnaryParams& params) {
  Tensor out = Tensor::empty(x.shape(), x.dtype(), Device::CUDA);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const Indexer<2> indexer = make_indexer<2>("unary", x.shape(), {out.strides(), x.strides()});
  const LaunchShape launch = launch_shape(n);
  dispatch_floating(x.dtype(), "unary", [&]<typename T>() {
    scalar::visit_unary(op, params, [&](auto f) {
      unary_kernel<T><<<launch.blocks, launch.threads>>>(out.raw_mutable_data<T>(), x.raw_data<T>(), f, indexer, n);
      STRIPES_CUDA_CHECK_LAUNCH(unary_kernel);
    });
  });
  return out;
}

Tensor binary(scalar::BinaryOp op, const Tensor& a, const Tensor& b, const Shape& shape) {
  Tensor out = Tensor::empty(shape, a.dtype(), Device::CUDA);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const Indexer<3> indexer = make_indexer<3>("binary", shape, {out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                                                               broadcast_strides(b.shape(), b.strides(), shape)});
  const LaunchShape launch = launch_shape(n);
  dispatch_floating(a.dtype(), "binary", [&]<typename T>() {
    scalar::visit_binary(op, [&](auto f) {
      binary_kernel<T, T><<<launch.blocks, launch.threads>>>(out.raw_mutable_data<T>(), a.raw_data<T>(), b.raw_data<T>(), f,
                                                             indexer, n);
      STRIPES_CUDA_CHECK_LAUNCH(binary_kernel);
    });
  });
  return out;
}

Tensor compare(scalar::CompareOp op, const Tensor& a, const Tensor& b, const Shape& shape) {
  Tensor out = Tensor::empty(shape, DType::UInt8, Device::CUDA);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const Indexer<3> indexer = make_indexer<3>("compare", shape, {out.strides(), broadcast_strides(a.shape(), a.strides(), shape),
                                                                broadcast_strides(b.shape(), b.strides(), shape)});
  const LaunchShape launch = launch_shape(n);
  dispatch_any(a.dtype(), [&]<typename T>() {
    scalar::visit_compare(op, [&](auto f) {
      binary_kernel<T, uint8_t><<<launch.blocks, launch.threads>>>(out.raw_mutable_data<uint8_t>(), a.raw_data<T>(),
                                                                   b.raw_data<T>(), f, indexer, n);
      STRIPES_CUDA_CHECK_LAUNCH(binary_kernel);
    });
  });
  return out;
}

Tensor where(const Tensor& condition, const Tensor& a, const Tensor& b, const Shape& shape) {
  Tensor out = Tensor::empty(shape, a.dtype(), Device::CUDA);
  const int64_t n = out.numel();
  if (n == 0) return out;
  const Indexer<4> indexer =
      make_indexer<4>("where", shape, {out.strides(), broadcast_strides(condition.shape(), condition.strides(), shape),
                                       broadcast_strides(a.shape(), a.strides(), shape), broadcast_strides(b.shape(), b.strides(), shape)});
  const LaunchShape launch = launch_shape(n);
  dispatch_any(a.dtype(), [&]<typename T>() {
    where_kernel<T><<<launch.blocks, launch.threads>>>(out.raw_mutable_data<T>(), condition.raw_data<uint8_t>(), a.raw_data<T>(),
                                                       b.raw_data<T>(), indexer, n);
    STRIPES_CUDA_CHECK_LAUNCH(where_kernel);
  });
  return out;
}

void random_into(Tensor& destination, Distribution distribution, uint64_t seed, uint64_t first_counter, double a, double b) {
  const int64_t n = destination.numel();
  if (n == 0) return;
  STRIPES_CHECK(destination.is_contiguous(), "random (cuda): destination must be contiguous");
  const LaunchShape launch = launch_shape(n);
  dispatch_floating(destination.dtype(), "random", [&]<typename T>() {
    random_kernel<T><<<launch.blocks, launch.threads>>>(destination.raw_mutable_data<T>(), int(distribution), seed,
                                                        first_counter, a, b, n);
    STRIPES_CUDA_CHECK_LAUNCH(random_kernel);
  });
}

}  // namespace stripes::cuda
