// A host tensor's copy on one other device, made on first use and then kept: for the constants a
// module holds on the host (a drawn random projection, a fixed frequency table) and uses on its
// inputs' device at every forward, where a fresh host-to-device copy each time would wait for the
// GPU. The owner calls clear() when the constant itself changes.
#pragma once

#include "tensor/tensor.hpp"

namespace stripes {

class CachedDeviceCopy {
 public:
  // `source` itself when it is undefined or already on `device`; else the kept copy, made now if
  // there is none on `device` yet.
  const Tensor& get(const Tensor& source, Device device) {
    if (!source.defined() || source.device() == device) return source;
    if (!copy_.defined() || copy_.device() != device) copy_ = source.to(device);
    return copy_;
  }
  void clear() { copy_ = Tensor(); }

 private:
  Tensor copy_;
};

}  // namespace stripes
