// Tests of the HDF5 wrapper (tensor/io/hdf5_file.hpp): round trips of every element type, shapes,
// scalars, type conversion on read, groups and listing, attributes, and the error messages for
// missing files and paths (they must name the file and the path).
#include "tensor/io/hdf5_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using stripes::Error;
using stripes::io::ElementType;
using stripes::io::Hdf5File;
using stripes::io::OpenMode;

// A fresh file path in the temporary directory, removed at the end of the test.
class Hdf5FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             (std::string("stripes_test_hdf5_") + info->name() + "_" + std::to_string(::getpid()) + ".h5"))
                .string();
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
};

// Expects `statement` to throw stripes::Error whose message contains every one of `parts`.
template <typename Statement>
void expect_error_mentions(Statement statement, const std::vector<std::string>& parts) {
  try {
    statement();
    FAIL() << "expected stripes::Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
  }
}

template <typename T>
void expect_round_trip(Hdf5File& file, const std::string& path, ElementType expected_type) {
  const std::vector<int64_t> shape = {2, 3, 4};
  std::vector<T> values(24);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<T>(i * 3 + 1);
  file.write_dataset(path, shape, values);
  EXPECT_EQ(file.dataset_shape(path), shape);
  EXPECT_EQ(file.dataset_element_type(path), expected_type) << path;
  EXPECT_EQ(file.read_dataset<T>(path), values) << path;
}

TEST_F(Hdf5FileTest, RoundTripsEveryElementType) {
  Hdf5File file(path_, OpenMode::kTruncate);
  expect_round_trip<int8_t>(file, "/types/int8", ElementType::kInt8);
  expect_round_trip<uint8_t>(file, "/types/uint8", ElementType::kUInt8);
  expect_round_trip<int16_t>(file, "/types/int16", ElementType::kInt16);
  expect_round_trip<uint16_t>(file, "/types/uint16", ElementType::kUInt16);
  expect_round_trip<int32_t>(file, "/types/int32", ElementType::kInt32);
  expect_round_trip<uint32_t>(file, "/types/uint32", ElementType::kUInt32);
  expect_round_trip<int64_t>(file, "/types/int64", ElementType::kInt64);
  expect_round_trip<uint64_t>(file, "/types/uint64", ElementType::kUInt64);
  expect_round_trip<float>(file, "/types/float32", ElementType::kFloat32);
  expect_round_trip<double>(file, "/types/float64", ElementType::kFloat64);
}

TEST_F(Hdf5FileTest, DataSurvivesClosingAndReopening) {
  const std::vector<float> weights = {0.5f, -1.25f, 3.0f, 1e-7f, -0.0f, 65504.0f};
  {
    Hdf5File file(path_, OpenMode::kTruncate);
    file.write_dataset("/forward/layers.0/attn/weight", {2, 3}, weights);
    file.write_scalar<int64_t>("/step", 1234);
  }
  Hdf5File file(path_, OpenMode::kRead);
  EXPECT_EQ(file.read_dataset<float>("/forward/layers.0/attn/weight"), weights);
  EXPECT_EQ(file.read_scalar<int64_t>("/step"), 1234);
  EXPECT_TRUE(file.dataset_info("/step").is_scalar());
  EXPECT_EQ(file.dataset_info("/step").element_count(), 1);
}

TEST_F(Hdf5FileTest, ReadingConvertsToTheRequestedType) {
  Hdf5File file(path_, OpenMode::kTruncate);
  // As in the StrIPE golden windows: structure rows stored as int64, pianorolls as uint8.
  file.write_dataset<int64_t>("/chord_ids", {1, 4}, std::vector<int64_t>{8, 8, 394, 0});
  file.write_dataset<uint8_t>("/pianoroll", {2, 2}, std::vector<uint8_t>{0, 1, 1, 0});
  file.write_dataset<double>("/values", {3}, std::vector<double>{1.5, -2.0, 1e10});
  EXPECT_EQ(file.read_dataset<float>("/chord_ids"), (std::vector<float>{8, 8, 394, 0}));
  EXPECT_EQ(file.read_dataset<int32_t>("/chord_ids"), (std::vector<int32_t>{8, 8, 394, 0}));
  EXPECT_EQ(file.read_dataset<float>("/pianoroll"), (std::vector<float>{0, 1, 1, 0}));
  EXPECT_EQ(file.read_dataset<int64_t>("/pianoroll"), (std::vector<int64_t>{0, 1, 1, 0}));
  const std::vector<float> as_float = file.read_dataset<float>("/values");
  EXPECT_FLOAT_EQ(as_float[0], 1.5f);
  EXPECT_FLOAT_EQ(as_float[2], 1e10f);
}

TEST_F(Hdf5FileTest, ReadScalarNeedsExactlyOneElement) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.write_dataset<int64_t>("/one", {1, 1}, std::vector<int64_t>{7});
  file.write_dataset<int64_t>("/three", {3}, std::vector<int64_t>{1, 2, 3});
  EXPECT_EQ(file.read_scalar<int32_t>("/one"), 7);
  expect_error_mentions([&] { file.read_scalar<int64_t>("/three"); }, {path_, "/three", "3 elements"});
}

TEST_F(Hdf5FileTest, GroupsAreCreatedWithTheirParentsAndListed) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.create_group("/forward/layers.0/attn");
  file.create_group("/forward/layers.0/attn");  // again: nothing happens
  file.write_dataset<float>("/forward/layers.1/ffn/bias", {2}, std::vector<float>{1, 2});
  EXPECT_TRUE(file.exists("/forward"));
  EXPECT_TRUE(file.is_group("/forward/layers.0/attn"));
  EXPECT_TRUE(file.is_dataset("/forward/layers.1/ffn/bias"));
  EXPECT_FALSE(file.is_group("/forward/layers.1/ffn/bias"));
  EXPECT_FALSE(file.exists("/forward/layers.7/attn"));  // missing intermediate group: false, no throw
  EXPECT_FALSE(file.exists("/nothing"));
  EXPECT_TRUE(file.exists("/"));
  EXPECT_EQ(file.list_children("/forward"), (std::vector<std::string>{"layers.0", "layers.1"}));
  EXPECT_EQ(file.list_children("/"), (std::vector<std::string>{"forward"}));
  // Name order is byte-wise: "10" sorts before "2".
  for (const char* name : {"2", "10", "1"}) file.create_group(std::string("/windows/") + name);
  EXPECT_EQ(file.list_children("windows"), (std::vector<std::string>{"1", "10", "2"}));
}

TEST_F(Hdf5FileTest, WritingAnExistingDatasetReplacesIt) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.write_dataset<float>("/w", {4}, std::vector<float>{1, 2, 3, 4});
  file.write_dataset<int32_t>("/w", {2, 1}, std::vector<int32_t>{5, 6});
  EXPECT_EQ(file.dataset_shape("/w"), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(file.dataset_element_type("/w"), ElementType::kInt32);
  EXPECT_EQ(file.read_dataset<int32_t>("/w"), (std::vector<int32_t>{5, 6}));
}

TEST_F(Hdf5FileTest, ReadWriteModeAppendsToAnExistingFile) {
  { Hdf5File(path_, OpenMode::kTruncate).write_scalar<double>("/a", 1.0); }
  { Hdf5File(path_, OpenMode::kReadWrite).write_scalar<double>("/b", 2.0); }
  Hdf5File file(path_, OpenMode::kRead);
  EXPECT_EQ(file.read_scalar<double>("/a"), 1.0);
  EXPECT_EQ(file.read_scalar<double>("/b"), 2.0);
}

TEST_F(Hdf5FileTest, EmptyDatasetsRoundTrip) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.write_dataset<float>("/empty", {0, 5}, std::vector<float>{});
  EXPECT_EQ(file.dataset_shape("/empty"), (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(file.read_dataset<float>("/empty").empty());
}

TEST_F(Hdf5FileTest, AttributesRoundTrip) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.write_dataset<float>("/model/weight", {2}, std::vector<float>{1, 2});
  file.write_attribute("/", "description", "windows of 513 ticks");
  file.write_attribute("/model", "d_model", int64_t{512});
  file.write_attribute("/model", "learning_rate", 5e-4);
  file.write_attribute("/model/weight", "shape", std::vector<int64_t>{2});
  file.write_attribute("/model", "unicode", std::string("C\xE2\x99\xAF minor"));  // "C♯ minor"
  EXPECT_EQ(file.read_string_attribute("/", "description"), "windows of 513 ticks");
  EXPECT_EQ(file.read_int_attribute("/model", "d_model"), 512);
  EXPECT_DOUBLE_EQ(file.read_double_attribute("/model", "learning_rate"), 5e-4);
  EXPECT_DOUBLE_EQ(file.read_double_attribute("/model", "d_model"), 512.0);  // converted
  EXPECT_EQ(file.read_int_vector_attribute("/model/weight", "shape"), (std::vector<int64_t>{2}));
  EXPECT_EQ(file.read_string_attribute("/model", "unicode"), "C\xE2\x99\xAF minor");
  EXPECT_TRUE(file.has_attribute("/model", "d_model"));
  EXPECT_FALSE(file.has_attribute("/model", "missing"));
  EXPECT_FALSE(file.has_attribute("/no/such/group", "d_model"));
  EXPECT_EQ(file.list_attributes("/model"), (std::vector<std::string>{"d_model", "learning_rate", "unicode"}));
  file.write_attribute("/model", "d_model", int64_t{256});  // replaces
  EXPECT_EQ(file.read_int_attribute("/model", "d_model"), 256);
}

TEST_F(Hdf5FileTest, MissingFileErrorNamesTheFile) {
  expect_error_mentions([&] { Hdf5File file(path_, OpenMode::kRead); }, {path_, "cannot open"});
  expect_error_mentions([&] { Hdf5File file(path_, OpenMode::kReadWrite); }, {path_, "cannot open"});
  expect_error_mentions([] { Hdf5File file("/no/such/folder/x.h5", OpenMode::kTruncate); },
                        {"/no/such/folder/x.h5", "cannot create"});
}

TEST_F(Hdf5FileTest, MissingPathErrorsNameFileAndPath) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.write_dataset<float>("/group/data", {1}, std::vector<float>{1});
  expect_error_mentions([&] { file.read_dataset<float>("/group/missing"); }, {path_, "/group/missing", "no dataset"});
  expect_error_mentions([&] { file.read_dataset<float>("/nowhere/at/all"); }, {path_, "/nowhere/at/all"});
  expect_error_mentions([&] { file.dataset_shape("/group"); }, {path_, "/group", "is a group"});
  expect_error_mentions([&] { file.list_children("/group/data"); }, {path_, "/group/data", "not a group"});
  expect_error_mentions([&] { file.list_children("/absent"); }, {path_, "/absent", "no group"});
  expect_error_mentions([&] { file.read_int_attribute("/group", "missing"); }, {path_, "missing", "/group"});
  expect_error_mentions([&] { file.write_attribute("/absent", "a", int64_t{1}); }, {path_, "/absent"});
  expect_error_mentions([&] { file.write_dataset<float>("/group", {1}, std::vector<float>{1}); },
                        {path_, "/group", "a group of that name exists"});
  expect_error_mentions([&] { file.create_group("/group/data"); }, {path_, "/group/data", "dataset"});
  expect_error_mentions([&] { file.write_dataset<float>("/x", {2, 2}, std::vector<float>{1}); },
                        {path_, "/x", "1 elements", "(2, 2)"});
}

TEST_F(Hdf5FileTest, WrongKindOfAttributeIsAnError) {
  Hdf5File file(path_, OpenMode::kTruncate);
  file.write_attribute("/", "name", "text");
  file.write_attribute("/", "count", int64_t{3});
  file.write_attribute("/", "shape", std::vector<int64_t>{1, 2});
  expect_error_mentions([&] { file.read_int_attribute("/", "name"); }, {path_, "name", "not numeric"});
  expect_error_mentions([&] { file.read_string_attribute("/", "count"); }, {path_, "count", "not a string"});
  expect_error_mentions([&] { file.read_int_attribute("/", "shape"); }, {path_, "shape", "2 values"});
}

TEST_F(Hdf5FileTest, ReadOnlyFilesRefuseWrites) {
  { Hdf5File(path_, OpenMode::kTruncate).write_scalar<float>("/a", 1.0f); }
  Hdf5File file(path_, OpenMode::kRead);
  expect_error_mentions([&] { file.write_scalar<float>("/b", 2.0f); }, {path_, "/b", "read-only"});
  expect_error_mentions([&] { file.create_group("/g"); }, {path_, "/g", "read-only"});
}

TEST_F(Hdf5FileTest, MovedFileKeepsWorking) {
  Hdf5File first(path_, OpenMode::kTruncate);
  Hdf5File second = std::move(first);
  second.write_scalar<int32_t>("/x", 3);
  EXPECT_EQ(second.read_scalar<int32_t>("/x"), 3);
  EXPECT_EQ(second.path(), path_);
}

}  // namespace
