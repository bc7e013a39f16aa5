#pragma once
// The hand-off between the sampler thread and the GPU stream: a ring of N buffers ("slots")
// that each go free -> filled by the producer -> published -> used by the consumer -> released
// -> free. The producer never receives a slot the consumer has not released (for the GPU
// trainer: whose copy and kernels have not finished, as its event says), and the consumer
// receives slots in the order they were published. Device-agnostic: the GPU trainer keeps its
// pinned buffers and events beside the slot numbers.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace w2v {

class SlotRing {
 public:
  explicit SlotRing(std::size_t slots);

  // Producer: a free slot to fill, waiting for one if needed; nullopt once cancelled.
  std::optional<std::size_t> acquire_free();
  // Producer: the slot is filled; the consumer may take it.
  void publish(std::size_t slot);
  // Producer: nothing more will be published; the consumer drains what is there, then gets
  // nullopt.
  void close();

  // Consumer: the oldest published slot, waiting for one if needed; nullopt when the ring is
  // closed and drained, or cancelled.
  std::optional<std::size_t> acquire_ready();
  // Consumer: done with the slot; it may be filled again.
  void release(std::size_t slot);

  // Either side, on an error: both sides stop waiting and get nullopt from now on.
  void cancel();

  std::size_t size() const { return state_.size(); }

 private:
  enum class State { kFree, kFilling, kReady, kInUse };
  void expect(std::size_t slot, State from, const char* call) const;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<State> state_;
  std::deque<std::size_t> free_, ready_;
  bool closed_ = false, cancelled_ = false;
};

}  // namespace w2v
