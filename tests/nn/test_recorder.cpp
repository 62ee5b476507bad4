// The recorder of intermediate tensors (autograd/recorder.hpp): the name -> HDF5 path mapping,
// the filter, and a dump of one forward+backward of a model whose tensors must equal the
// in-memory ones (checked against values and gradients computed independently here).
#include "autograd/ops.hpp"
#include "autograd/recorder.hpp"
#include "nn/softmax_attention.hpp"
#include "nn/transformer.hpp"
#include "tensor/io/tensor_io.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace {

using namespace stripes;
using namespace stripes::nn;

std::string temp_path(const std::string& stem) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return (std::filesystem::temp_directory_path() /
          (std::string("stripes_test_") + stem + "_" + info->name() + "_" + std::to_string(::getpid()) + ".h5"))
      .string();
}

std::set<std::string> children(const io::Hdf5File& file, const std::string& group) {
  const auto names = file.list_children(group);
  return std::set<std::string>(names.begin(), names.end());
}

TEST(Recorder, NamesMapToGroupsThatMirrorTheModuleTree) {
  EXPECT_EQ(ag::dump_group_path("layers.0.attn.q"), "layers.0/attn/q");
  EXPECT_EQ(ag::dump_group_path("layers.12.ff.linear1.weight"), "layers.12/ff/linear1/weight");
  EXPECT_EQ(ag::dump_group_path("loss"), "loss");
  EXPECT_EQ(ag::dump_group_path("output_proj.bias"), "output_proj/bias");
  EXPECT_EQ(ag::dump_group_path("blocks.1.2.x"), "blocks.1.2/x");
  EXPECT_EQ(ag::dump_group_path("layer0.q"), "layer0/q");  // digits inside a name are not a list index
  EXPECT_THROW(ag::dump_group_path(""), Error);
  EXPECT_THROW(ag::dump_group_path("a..b"), Error);
}

TEST(Recorder, FilterIsACommaSeparatedListOfGlobs) {
  EXPECT_TRUE(ag::name_matches_filter("", "anything"));
  EXPECT_TRUE(ag::name_matches_filter("layers.0.*", "layers.0.attn.q"));
  EXPECT_FALSE(ag::name_matches_filter("layers.0.*", "layers.1.attn.q"));
  EXPECT_FALSE(ag::name_matches_filter("layers.0.*", "layers.0"));
  EXPECT_FALSE(ag::name_matches_filter("layers.0.*", "layers.01.x"));
  EXPECT_TRUE(ag::name_matches_filter("*.attn.weights", "layers.3.attn.weights"));
  EXPECT_TRUE(ag::name_matches_filter("loss, layers.?.attn.*", "layers.7.attn.k"));
  EXPECT_TRUE(ag::name_matches_filter("loss, layers.?.attn.*", "loss"));
  EXPECT_FALSE(ag::name_matches_filter("loss, layers.?.attn.*", "layers.10.attn.k"));
  EXPECT_TRUE(ag::glob_match("*", ""));
  EXPECT_TRUE(ag::glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(ag::glob_match("a*b*c", "aXXbYY"));
}

TEST(Recorder, IsOffByDefaultAndThenTouchesNothing) {
  EXPECT_FALSE(ag::recorder_active());
  ag::Var x(Tensor::ones({2}), true);
  const ag::Var y = x * x;
  ag::record("layers.0.y", y, "mul", "nothing happens");
  ag::record("scope", "leaf", y.value(), "mul", "nothing happens");
  EXPECT_FALSE(y.data()->retains_grad);
  ag::sum(y).backward();
  EXPECT_FALSE(y.grad().defined());
}

struct RecordedModel {
  std::shared_ptr<TransformerEncoder> encoder;
  Tensor x, weights_r;
  ag::Var output;
};

TransformerConfig dump_config() {
  TransformerConfig config;
  config.input = InputKind::Features;
  config.input_dim = 3;
  config.d_model = 4;
  config.num_heads = 2;
  config.d_ff = 6;
  config.num_layers = 2;
  config.dropout = 0.0;
  config.output_dim = 2;
  config.dtype = DType::Float64;
  return config;  // post-LN: layer 0's attention reads `embedded` directly
}

// One forward+backward with L = Σ output ⊙ R, recorded into `path` with `filter`.
RecordedModel record_one_step(const std::string& path, const std::string& filter) {
  RecordedModel run;
  const TransformerConfig config = dump_config();
  Generator init(3);
  run.encoder = std::make_shared<TransformerEncoder>(config, softmax_attention_factory(config, init, nullptr), init, nullptr);
  Generator g(4);
  run.x = Tensor::randn({2, 5, 3}, g, DType::Float64);
  run.weights_r = Tensor::randn({2, 5, 2}, g, DType::Float64);
  ag::Recorder recorder(path, filter);
  {
    ag::RecordingScope scope(recorder);
    EXPECT_TRUE(ag::recorder_active());
    run.output = run.encoder->forward(ag::Var(run.x));
    const ag::Var loss = ag::sum(run.output * ag::Var(run.weights_r));
    ag::record("loss", loss, "sum", "Σ output ⊙ R");
    loss.backward();
  }
  EXPECT_FALSE(ag::recorder_active());
  recorder.write_gradients(run.encoder->named_parameters());
  recorder.write_root_attribute("step", int64_t(0));
  recorder.close();
  return run;
}

TEST(Recorder, DumpHoldsTheModuleTreeAndTheInMemoryTensors) {
  const std::string path = temp_path("dump");
  const RecordedModel run = record_one_step(path, "");
  const io::Hdf5File file(path, io::OpenMode::kRead);

  // The layout: groups mirror the module tree (what `h5ls -r` / `h5dump -n` list).
  EXPECT_EQ(children(file, "/"), (std::set<std::string>{"backward", "forward", "parameters"}));
  EXPECT_EQ(children(file, "/forward"), (std::set<std::string>{"embedded", "layers.0", "layers.1", "loss", "output"}));
  EXPECT_EQ(children(file, "/forward/layers.0"), (std::set<std::string>{"attn", "attn_residual", "ff", "norm1", "norm2", "out"}));
  EXPECT_EQ(children(file, "/forward/layers.0/attn"),
            (std::set<std::string>{"context", "k", "out", "q", "scores", "v", "weights"}));
  EXPECT_TRUE(file.is_dataset("/backward/layers.0/attn/q.grad"));
  EXPECT_TRUE(file.is_dataset("/backward/layers.1/ff/linear2/weight.grad"));
  EXPECT_TRUE(file.is_dataset("/parameters/layers.1/attn/q_proj/weight"));
  EXPECT_EQ(file.read_string_attribute("/", "format"), "stripes-dump");
  EXPECT_EQ(file.read_int_attribute("/", "step"), 0);

  // Attributes of a dataset.
  const std::string q_path = "/forward/layers.0/attn/q";
  EXPECT_EQ(file.read_int_vector_attribute(q_path, "shape"), (std::vector<int64_t>{2, 2, 5, 2}));
  EXPECT_EQ(file.read_string_attribute(q_path, "dtype"), "float64");
  EXPECT_EQ(file.read_string_attribute(q_path, "op"), "linear");
  EXPECT_EQ(file.read_string_attribute(q_path, "name"), "layers.0.attn.q");
  EXPECT_FALSE(file.read_string_attribute(q_path, "description").empty());

  // Values, computed independently: embedded = x Wᵀ + b, q = split_heads(embedded W_qᵀ + b_q).
  const TransformerEncoder& encoder = *run.encoder;
  const Tensor w_in = encoder.parameter("input_proj.weight").value(), b_in = encoder.parameter("input_proj.bias").value();
  const Tensor embedded = matmul(run.x, w_in.transpose(0, 1)) + b_in;
  EXPECT_LT(max_abs(io::load_tensor(file, "/forward/embedded") - embedded), 1e-12);
  const Tensor w_q = encoder.parameter("layers.0.attn.q_proj.weight").value();
  const Tensor b_q = encoder.parameter("layers.0.attn.q_proj.bias").value();
  const Tensor q = (matmul(embedded, w_q.transpose(0, 1)) + b_q).reshape({2, 5, 2, 2}).permute({0, 2, 1, 3});
  EXPECT_LT(max_abs(io::load_tensor(file, q_path) - q), 1e-12);
  EXPECT_EQ(max_abs(io::load_tensor(file, "/forward/output") - run.output.value()), 0.0);

  // Attention weights: distributions over the past only.
  const Tensor weights = io::load_tensor(file, "/forward/layers.0/attn/weights");
  EXPECT_LT(max_abs(sum(weights, {-1}) - 1.0), 1e-12);
  EXPECT_EQ(weights.at({1, 1, 2, 3}), 0.0);
  EXPECT_GT(weights.at({1, 1, 3, 2}), 0.0);

  // Gradients: ∂L/∂output = R exactly; parameters' gradients equal the in-memory ones; and
  // ∂L/∂W_in = Σ_positions (∂L/∂embedded)ᵀ x ties the recorded activation gradient to them.
  EXPECT_EQ(max_abs(io::load_tensor(file, "/backward/output.grad") - run.weights_r), 0.0);
  for (const auto& [name, parameter] : encoder.named_parameters()) {
    const std::string dataset = "/backward/" + ag::dump_group_path(name) + ".grad";
    ASSERT_TRUE(file.is_dataset(dataset)) << dataset;
    EXPECT_EQ(max_abs(io::load_tensor(file, dataset) - parameter.grad()), 0.0) << name;
    EXPECT_EQ(max_abs(io::load_tensor(file, "/parameters/" + ag::dump_group_path(name)) - parameter.value()), 0.0) << name;
  }
  const Tensor grad_embedded = io::load_tensor(file, "/backward/embedded.grad").reshape({10, 4});
  const Tensor grad_w_in = matmul(grad_embedded.transpose(0, 1), run.x.reshape({10, 3}));
  EXPECT_LT(max_abs(grad_w_in - encoder.parameter("input_proj.weight").grad()), 1e-12);
  std::filesystem::remove(path);
}

TEST(Recorder, FilterKeepsOnlyMatchingNames) {
  const std::string path = temp_path("filtered");
  record_one_step(path, "layers.0.attn.*");
  const io::Hdf5File file(path, io::OpenMode::kRead);
  EXPECT_EQ(children(file, "/forward"), (std::set<std::string>{"layers.0"}));
  EXPECT_EQ(children(file, "/forward/layers.0"), (std::set<std::string>{"attn"}));
  EXPECT_EQ(children(file, "/parameters/layers.0/attn"), (std::set<std::string>{"k_proj", "out_proj", "q_proj", "v_proj"}));
  EXPECT_FALSE(file.exists("/parameters/input_proj"));
  EXPECT_TRUE(file.is_dataset("/backward/layers.0/attn/weights.grad"));
  std::filesystem::remove(path);
}

TEST(Recorder, RepeatedNamesAreNumberedAndCollisionsExplained) {
  const std::string path = temp_path("repeats");
  {
    ag::Recorder recorder(path);
    ag::RecordingScope scope(recorder);
    ag::record("block.x", Tensor::ones({2}), "ones", "first");
    ag::record("block.x", Tensor::zeros({2}), "zeros", "second");
    try {
      ag::record("block", Tensor::ones({1}), "ones", "collides with the group 'block'");
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("block.out"), std::string::npos) << e.what();
    }
    ag::Recorder other(temp_path("other"));
    EXPECT_THROW(other.start(), Error);  // one recording at a time
  }
  const io::Hdf5File file(path, io::OpenMode::kRead);
  EXPECT_EQ(children(file, "/forward/block"), (std::set<std::string>{"x", "x#2"}));
  EXPECT_EQ(io::load_tensor(file, "/forward/block/x#2").at({0}), 0.0);
  EXPECT_EQ(file.read_int_attribute("/forward/block/x#2", "order"), 1);
  std::filesystem::remove(path);
  std::filesystem::remove(temp_path("other"));
}

TEST(Recorder, FindsTheFirstNonFiniteActivation) {
  const std::string path = temp_path("nonfinite");
  ag::Recorder recorder(path);
  ag::RecordingScope scope(recorder);
  ag::record("a", Tensor::ones({2}), "ones", "finite");
  ag::record("b", Tensor::full({2}, NAN), "nan", "not finite");
  ag::record("c", Tensor::full({2}, INFINITY), "inf", "not finite");
  ASSERT_NE(recorder.first_non_finite(), nullptr);
  EXPECT_EQ(recorder.first_non_finite()->name, "b");
  recorder.close();
  std::filesystem::remove(path);
}

}  // namespace
