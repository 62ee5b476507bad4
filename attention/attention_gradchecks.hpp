// The attention layer's cases for the generic finite-difference checker: the causal product,
// both linear-attention implementations, the feature maps, every positional encoding (gradients
// of q, k and every learned PE parameter) and the attention layer with every PE and both kinds.
// `stripes gradcheck` runs them with the core ops; tests/attention runs each as a test.
#pragma once

#include "autograd/gradcheck.hpp"

namespace stripes::attention {

const ag::GradcheckRegistry& attention_gradchecks();

}  // namespace stripes::attention
