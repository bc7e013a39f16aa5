// The sampler -> GPU hand-off ring, with fake producers and consumers: no slot is handed to
// the producer while the consumer still uses it, and slots arrive in publication order, for
// a fast producer and a slow consumer, the reverse, and a consumer that releases slots late
// from another thread (as the GPU trainer does when a slot's event completes).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "gpu/slot_ring.h"

namespace w2v {
namespace {

using std::chrono::microseconds;

struct Pace {
  int producer_us, consumer_us;
  bool deferred_release;
};

class SlotRingStress : public ::testing::TestWithParam<Pace> {};

TEST_P(SlotRingStress, NoSlotIsReusedWhileInUseAndOrderIsKept) {
  const Pace pace = GetParam();
  constexpr std::size_t kSlots = 3, kWords = 512;
  constexpr std::uint64_t kBatches = 400;
  SlotRing ring(kSlots);
  std::vector<std::vector<std::uint64_t>> buffers(kSlots, std::vector<std::uint64_t>(kWords));
  std::atomic<int> corrupted{0}, out_of_order{0};

  std::thread producer([&] {
    for (std::uint64_t seq = 0; seq < kBatches; ++seq) {
      auto slot = ring.acquire_free();
      ASSERT_TRUE(slot.has_value());
      auto& buffer = buffers[*slot];
      for (std::size_t i = 0; i < kWords; ++i) {
        buffer[i] = seq;
        if (i == kWords / 2) std::this_thread::yield();  // widen the window for a race
      }
      if (pace.producer_us) std::this_thread::sleep_for(microseconds(pace.producer_us));
      ring.publish(*slot);
    }
    ring.close();
  });

  // Checks a slot's contents, "uses" it, and checks again: a producer writing into a slot in
  // use would change it in between.
  auto use = [&](std::size_t slot, std::uint64_t seq) {
    auto& buffer = buffers[slot];
    for (std::uint64_t v : buffer) corrupted += v != seq;
    if (pace.consumer_us) std::this_thread::sleep_for(microseconds(pace.consumer_us));
    for (std::uint64_t v : buffer) corrupted += v != seq;
  };

  std::uint64_t expected = 0;
  if (!pace.deferred_release) {
    while (auto slot = ring.acquire_ready()) {
      out_of_order += buffers[*slot][0] != expected;
      use(*slot, expected++);
      ring.release(*slot);
    }
  } else {
    // The consumer only enqueues work; a completion thread finishes it and releases the slot,
    // so up to all slots are in flight at once.
    std::mutex m;
    std::deque<std::pair<std::size_t, std::uint64_t>> in_flight;
    std::atomic<bool> done{false};
    std::thread completion([&] {
      while (true) {
        std::pair<std::size_t, std::uint64_t> item;
        {
          std::lock_guard lock(m);
          if (in_flight.empty()) {
            if (done) return;
            item = {kSlots, 0};
          } else {
            item = in_flight.front();
            in_flight.pop_front();
          }
        }
        if (item.first == kSlots) {
          std::this_thread::yield();
          continue;
        }
        use(item.first, item.second);
        ring.release(item.first);
      }
    });
    while (auto slot = ring.acquire_ready()) {
      out_of_order += buffers[*slot][0] != expected;
      std::lock_guard lock(m);
      in_flight.emplace_back(*slot, expected++);
    }
    done = true;
    completion.join();
  }
  producer.join();
  EXPECT_EQ(expected, kBatches) << "every published slot reached the consumer";
  EXPECT_EQ(corrupted.load(), 0) << "a slot was overwritten while in use";
  EXPECT_EQ(out_of_order.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Paces, SlotRingStress,
                         ::testing::Values(Pace{0, 0, false}, Pace{0, 200, false},
                                           Pace{200, 0, false}, Pace{0, 200, true},
                                           Pace{100, 0, true}));

TEST(SlotRing, CancelWakesBothSides) {
  SlotRing ring(2);
  auto a = ring.acquire_free(), b = ring.acquire_free();
  ASSERT_TRUE(a && b);
  std::thread blocked_producer([&] { EXPECT_FALSE(ring.acquire_free().has_value()); });
  std::thread blocked_consumer([&] { EXPECT_FALSE(ring.acquire_ready().has_value()); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ring.cancel();
  blocked_producer.join();
  blocked_consumer.join();
}

TEST(SlotRing, CloseDrainsThenEnds) {
  SlotRing ring(3);
  for (int i = 0; i < 2; ++i) ring.publish(*ring.acquire_free());
  ring.close();
  EXPECT_EQ(ring.acquire_ready(), std::optional<std::size_t>(0));
  EXPECT_EQ(ring.acquire_ready(), std::optional<std::size_t>(1));
  EXPECT_FALSE(ring.acquire_ready().has_value());
}

TEST(SlotRing, CallsOutOfProtocolAreBugs) {
  SlotRing ring(2);
  EXPECT_THROW(ring.publish(0), std::logic_error) << "publish of a slot never acquired";
  auto slot = ring.acquire_free();
  EXPECT_THROW(ring.release(*slot), std::logic_error) << "release of a slot not in use";
  ring.publish(*slot);
  ASSERT_EQ(ring.acquire_ready(), slot);
  ring.release(*slot);
  EXPECT_THROW(ring.release(*slot), std::logic_error) << "double release";
  EXPECT_THROW(ring.publish(7), std::logic_error) << "no such slot";
}

}  // namespace
}  // namespace w2v
