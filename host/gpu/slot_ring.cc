#include "gpu/slot_ring.h"

#include <stdexcept>
#include <string>

#include "w2v/error.h"

namespace w2v {

SlotRing::SlotRing(std::size_t slots) : state_(slots, State::kFree) {
  if (slots == 0) throw Error("SlotRing: needs at least one slot");
  for (std::size_t s = 0; s < slots; ++s) free_.push_back(s);
}

// A call out of protocol is a bug in the trainer, not a user error: logic_error.
void SlotRing::expect(std::size_t slot, State from, const char* call) const {
  if (slot >= state_.size() || state_[slot] != from)
    throw std::logic_error(std::string("SlotRing::") + call + ": slot " + std::to_string(slot) +
                           " is not in the expected state");
}

std::optional<std::size_t> SlotRing::acquire_free() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return cancelled_ || !free_.empty(); });
  if (cancelled_) return std::nullopt;
  std::size_t slot = free_.front();
  free_.pop_front();
  state_[slot] = State::kFilling;
  return slot;
}

void SlotRing::publish(std::size_t slot) {
  {
    std::lock_guard lock(mutex_);
    expect(slot, State::kFilling, "publish");
    if (closed_) throw std::logic_error("SlotRing::publish after close");
    state_[slot] = State::kReady;
    ready_.push_back(slot);
  }
  changed_.notify_all();
}

void SlotRing::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
}

std::optional<std::size_t> SlotRing::acquire_ready() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return cancelled_ || !ready_.empty() || closed_; });
  if (cancelled_ || ready_.empty()) return std::nullopt;
  std::size_t slot = ready_.front();
  ready_.pop_front();
  state_[slot] = State::kInUse;
  return slot;
}

void SlotRing::release(std::size_t slot) {
  {
    std::lock_guard lock(mutex_);
    expect(slot, State::kInUse, "release");
    state_[slot] = State::kFree;
    free_.push_back(slot);
  }
  changed_.notify_all();
}

void SlotRing::cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
}

}  // namespace w2v
