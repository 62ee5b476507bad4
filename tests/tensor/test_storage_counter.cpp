// The process-wide CPU allocation counter (Storage::cpu_bytes_in_use / cpu_bytes_peak) and the
// named timers of tensor/profile.hpp.
#include "tensor/math.hpp"
#include "tensor/profile.hpp"
#include "tensor/tensor.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

using namespace stripes;

TEST(StorageCounter, AllocatingRaisesCurrentAndPeakFreeingLowersCurrent) {
  const size_t before = Storage::cpu_bytes_in_use();
  Storage::reset_cpu_peak();
  EXPECT_EQ(Storage::cpu_bytes_peak(), before);
  size_t with_tensor = 0;
  {
    const Tensor t = Tensor::empty({1000, 3}, DType::Float64);  // 24 000 bytes
    with_tensor = Storage::cpu_bytes_in_use();
    EXPECT_EQ(with_tensor, before + 24000);
    EXPECT_EQ(Storage::cpu_bytes_peak(), before + 24000);
    const Tensor view = t.slice(0, 0, 10).transpose(0, 1);  // views allocate nothing
    EXPECT_EQ(Storage::cpu_bytes_in_use(), with_tensor);
    const Tensor second = Tensor::zeros({250}, DType::Float32);  // 1 000 bytes
    EXPECT_EQ(Storage::cpu_bytes_in_use(), before + 25000);
    EXPECT_EQ(Storage::cpu_bytes_peak(), before + 25000);
  }
  EXPECT_EQ(Storage::cpu_bytes_in_use(), before);
  EXPECT_EQ(Storage::cpu_bytes_peak(), before + 25000);  // the high-water mark stays
  Storage::reset_cpu_peak();
  EXPECT_EQ(Storage::cpu_bytes_peak(), before);
}

TEST(StorageCounter, CountsAllocationsOfEveryThread) {
  const size_t before = Storage::cpu_bytes_in_use();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([] {
      for (int j = 0; j < 200; ++j) {
        const Tensor t = Tensor::empty({64});
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(Storage::cpu_bytes_in_use(), before);
}

TEST(Profile, ScopesAreFreeWhenOffAndExclusiveWhenOn) {
  profile::reset();
  {
    profile::Scope off("never");
  }
  EXPECT_EQ(profile::seconds("never"), 0.0);
  EXPECT_TRUE(profile::entries().empty());
  const auto start = std::chrono::steady_clock::now();
  {
    profile::EnableGuard on;
    profile::Scope outer("outer");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      profile::Scope inner("inner");
      EXPECT_STREQ(profile::current_label(), "inner");
      std::this_thread::sleep_for(std::chrono::milliseconds(40));
    }
    EXPECT_STREQ(profile::current_label(), "outer");
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(profile::enabled());
  EXPECT_EQ(profile::current_label(), nullptr);
  // Exclusive: the outer scope does not count the inner one's time, so the two add up to at most
  // the wall time around them (inclusive timing would count the inner 40 ms twice).
  EXPECT_GE(profile::seconds("inner"), 0.035);
  EXPECT_GE(profile::seconds("outer"), 0.015);
  EXPECT_LE(profile::seconds("outer") + profile::seconds("inner"), wall);
  const auto entries = profile::entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].calls, 1);
  EXPECT_STREQ(profile::backward_label("inner"), "inner (backward)");
  EXPECT_EQ(profile::backward_label("inner"), profile::backward_label(profile::intern("inner")));
  EXPECT_STREQ(profile::backward_label(nullptr), "(backward)");
  profile::reset();
  EXPECT_TRUE(profile::entries().empty());
}

TEST(StorageCounter, LargeBlocksAreCachedForReuseAndNotCountedAsInUse) {
  Storage::release_cpu_cache();
  const size_t before = Storage::cpu_bytes_in_use();
  const void* first = nullptr;
  {
    const Tensor t = Tensor::empty({1 << 20});  // 4 MiB
    first = t.data<float>();
  }
  EXPECT_EQ(Storage::cpu_bytes_in_use(), before);
  EXPECT_GE(Storage::cpu_bytes_cached(), size_t(4) << 20);
  {
    const Tensor again = Tensor::empty({1 << 20});  // the same size class: the cached block
    EXPECT_EQ(again.data<float>(), first);
    EXPECT_EQ(Storage::cpu_bytes_in_use(), before + (size_t(4) << 20));
  }
  Storage::set_cpu_cache_limit(0);  // off: freed blocks go back at once
  EXPECT_EQ(Storage::cpu_bytes_cached(), 0u);
  {
    const Tensor t = Tensor::zeros({1 << 20});
    EXPECT_EQ(t.at({123}), 0.0);
  }
  EXPECT_EQ(Storage::cpu_bytes_cached(), 0u);
  Storage::set_cpu_cache_limit(size_t(4) << 30);
}

// matmul adds 2·m·n·k per product (batched: times the batch) to the work counter, only while
// profiling is on; reset() clears it.
TEST(Profile, MatmulWorkIsCountedOnlyWhileOn) {
  profile::reset();
  Generator generator(3);
  const Tensor a = Tensor::randn({2, 3, 4}, generator), b = Tensor::randn({4, 5}, generator);
  matmul(a, b);
  EXPECT_EQ(profile::matmul_totals().calls, 0);
  {
    profile::EnableGuard on;
    matmul(a, b);                                                    // 2 · (2·3) · 5 · 4 = 240
    matmul(Tensor::randn({64, 32}, generator), Tensor::randn({32, 16}, generator));  // 2·64·16·32 = 65536
  }
  const profile::MatmulTotals totals = profile::matmul_totals();
  EXPECT_EQ(totals.calls, 2);
  EXPECT_EQ(totals.flops, 240.0 + 65536.0);
  EXPECT_GT(totals.seconds, 0.0);
  profile::reset();
  EXPECT_EQ(profile::matmul_totals().calls, 0);
  EXPECT_EQ(profile::matmul_totals().flops, 0.0);
}
