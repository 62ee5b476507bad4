// Tensor-level HDF5 save/load (tensor/io/tensor_io.hpp): round trips of every dtype, 0-d and
// non-contiguous tensors, the shape/dtype attributes, and errors that name file and path.
#include "tensor/io/tensor_io.hpp"
#include "tensor/math.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace {

using namespace stripes;

class TensorIo : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             (std::string("stripes_test_tensor_io_") + info->name() + "_" + std::to_string(::getpid()) + ".h5"))
                .string();
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

TEST_F(TensorIo, RoundTripsEveryDtypeAndShape) {
  Generator g(1);
  const Tensor f32 = Tensor::randn({2, 3}, g), f64 = Tensor::randn({4}, g, DType::Float64);
  const Tensor i64 = Tensor::from_vector<int64_t>({-5, 0, 7, 1LL << 40}, {2, 2});
  const Tensor u8 = Tensor::from_vector<uint8_t>({0, 1, 255}, {3});
  const Tensor scalar = Tensor::scalar(2.5, DType::Float64);
  const Tensor transposed = Tensor::randn({3, 4}, g).transpose(0, 1);  // not contiguous
  {
    io::Hdf5File file(path_, io::OpenMode::kTruncate);
    io::save_tensor(file, "/a/f32", f32, {{"op", "randn"}});
    io::save_tensor(file, "/a/f64", f64);
    io::save_tensor(file, "/b/i64", i64);
    io::save_tensor(file, "/b/u8", u8);
    io::save_tensor(file, "scalar", scalar);
    io::save_tensor(file, "transposed", transposed);
  }
  const io::Hdf5File file(path_, io::OpenMode::kRead);
  for (const auto& [path, expected] : std::vector<std::pair<std::string, Tensor>>{
           {"/a/f32", f32}, {"/a/f64", f64}, {"/b/i64", i64}, {"/b/u8", u8}, {"/scalar", scalar}, {"/transposed", transposed}}) {
    const Tensor loaded = io::load_tensor(file, path);
    EXPECT_EQ(loaded.shape(), expected.shape()) << path;
    EXPECT_EQ(loaded.dtype(), expected.dtype()) << path;
    EXPECT_TRUE(loaded.is_contiguous());
    EXPECT_EQ(loaded.to(DType::Float64).to_vector<double>(), expected.to(DType::Float64).to_vector<double>()) << path;
    EXPECT_EQ(file.read_string_attribute(path, "dtype"), std::string(dtype_name(expected.dtype())));
    if (expected.dim() > 0) {
      EXPECT_EQ(file.read_int_vector_attribute(path, "shape"), expected.shape());
    }
  }
  EXPECT_EQ(file.read_string_attribute("/a/f32", "op"), "randn");
}

TEST_F(TensorIo, ErrorsNameTheFileThePathAndTheMismatch) {
  {
    io::Hdf5File file(path_, io::OpenMode::kTruncate);
    io::save_tensor(file, "/w", Tensor::zeros({2, 3}));
  }
  const io::Hdf5File file(path_, io::OpenMode::kRead);
  try {
    io::load_tensor(file, "/missing");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/missing"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path_), std::string::npos) << e.what();
  }
  try {
    io::load_tensor_expecting(file, "/w", {3, 2}, DType::Float32, "parameter 'layer.weight'");
    ADD_FAILURE();
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const char* part : {"parameter 'layer.weight'", "[2, 3]", "[3, 2]", "/w"}) {
      EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
    }
  }
  EXPECT_THROW(io::load_tensor_expecting(file, "/w", {2, 3}, DType::Float64, "w"), Error);
  EXPECT_NO_THROW(io::load_tensor_expecting(file, "/w", {2, 3}, DType::Float32, "w"));
}

}  // namespace
