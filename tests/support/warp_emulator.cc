#include "support/warp_emulator.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>

#include "w2v/error.h"

#if defined(__SANITIZE_ADDRESS__)
#define W2V_EMULATOR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define W2V_EMULATOR_ASAN 1
#endif
#endif
#ifdef W2V_EMULATOR_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace w2v::emulator {
namespace {

constexpr int kLanes = 32;
constexpr std::size_t kStackBytes = std::size_t(64) << 10;  // the kernel's frames are small

// A lane's stack, with an inaccessible page below it: an overflow faults instead of writing
// over whatever lies beneath.
class LaneStack {
 public:
  LaneStack() : guard_(static_cast<std::size_t>(sysconf(_SC_PAGESIZE))) {
    void* p = mmap(nullptr, guard_ + kStackBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw Error("warp emulator: no memory for a lane's stack");
    base_ = static_cast<char*>(p);
    mprotect(base_, guard_, PROT_NONE);
  }
  ~LaneStack() { munmap(base_, guard_ + kStackBytes); }
  LaneStack(const LaneStack&) = delete;
  LaneStack& operator=(const LaneStack&) = delete;
  char* bottom() const { return base_ + guard_; }

 private:
  std::size_t guard_;
  char* base_ = nullptr;
};

enum class LaneState { kRunning, kAtCollective, kDone };

struct Warp {
  const std::function<void(int)>* body = nullptr;
  ucontext_t scheduler{};
  std::array<ucontext_t, kLanes> context{};
  std::array<LaneStack, kLanes> stack;
  std::array<LaneState, kLanes> state{};
  std::array<std::uint64_t, kLanes> value{}, result{};
  std::array<int, kLanes> source{};
  std::array<Collective, kLanes> kind{};
  std::array<std::exception_ptr, kLanes> error{};
  int current = 0;
#ifdef W2V_EMULATOR_ASAN
  const void* scheduler_stack = nullptr;
  std::size_t scheduler_stack_bytes = 0;
  std::array<void*, kLanes> lane_fake_stack{};
#endif
};

thread_local Warp* running = nullptr;

// Switches between the scheduler and a lane, telling ASan which stack it is on.
void enter_lane(Warp& w, int lane) {
  w.current = lane;
#ifdef W2V_EMULATOR_ASAN
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, w.stack[lane].bottom(), kStackBytes);
#endif
  swapcontext(&w.scheduler, &w.context[lane]);
#ifdef W2V_EMULATOR_ASAN
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

void leave_lane(Warp& w, int lane, bool finished) {
#ifdef W2V_EMULATOR_ASAN
  // A finished lane's fake stack is freed (null save slot); a waiting one keeps it.
  __sanitizer_start_switch_fiber(finished ? nullptr : &w.lane_fake_stack[lane], w.scheduler_stack,
                                 w.scheduler_stack_bytes);
#else
  (void)finished;
#endif
  swapcontext(&w.context[lane], &w.scheduler);
#ifdef W2V_EMULATOR_ASAN
  __sanitizer_finish_switch_fiber(w.lane_fake_stack[lane], &w.scheduler_stack,
                                  &w.scheduler_stack_bytes);
#endif
}

void lane_main() {
  Warp& w = *running;
  const int lane = w.current;
#ifdef W2V_EMULATOR_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &w.scheduler_stack, &w.scheduler_stack_bytes);
#endif
  try {
    (*w.body)(lane);
  } catch (...) {
    w.error[lane] = std::current_exception();
  }
  w.state[lane] = LaneState::kDone;
  leave_lane(w, lane, true);
}

std::string lanes_in(const Warp& w, LaneState state) {
  std::string list;
  for (int l = 0; l < kLanes; ++l)
    if (w.state[l] == state) list += (list.empty() ? "" : ",") + std::to_string(l);
  return list;
}

}  // namespace

int lane() { return running->current; }

std::uint64_t collective(unsigned mask, Collective kind, std::uint64_t value, int source_lane) {
  Warp& w = *running;
  const int l = w.current;
  if (mask != 0xffffffffu)
    throw Error("warp emulator: a collective over mask " + std::to_string(mask) +
                ", not the whole warp");
  w.value[l] = value;
  w.source[l] = source_lane;
  w.kind[l] = kind;
  w.state[l] = LaneState::kAtCollective;
  leave_lane(w, l, false);
  return w.result[l];
}

void run_warp(const std::function<void(int lane)>& body) {
  if (running != nullptr) throw Error("warp emulator: run_warp inside a lane");
  auto w = std::make_unique<Warp>();
  w->body = &body;
  for (int l = 0; l < kLanes; ++l) {
    getcontext(&w->context[l]);
    w->context[l].uc_stack.ss_sp = w->stack[l].bottom();
    w->context[l].uc_stack.ss_size = kStackBytes;
    w->context[l].uc_link = nullptr;  // lane_main never returns: it switches back itself
    makecontext(&w->context[l], lane_main, 0);
  }
  running = w.get();
  struct Reset {
    ~Reset() { running = nullptr; }
  } reset;
  for (;;) {
    for (int l = 0; l < kLanes; ++l) {
      if (w->state[l] == LaneState::kDone) continue;
      w->state[l] = LaneState::kRunning;
      enter_lane(*w, l);
    }
    for (int l = 0; l < kLanes; ++l)
      if (w->error[l]) std::rethrow_exception(w->error[l]);
    const std::string done = lanes_in(*w, LaneState::kDone);
    const std::string waiting = lanes_in(*w, LaneState::kAtCollective);
    if (waiting.empty()) return;
    if (!done.empty())
      throw Error("warp emulator: lanes " + done + " finished while lanes " + waiting +
                  " wait at a warp collective (divergence)");
    for (int l = 1; l < kLanes; ++l)
      if (w->kind[l] != w->kind[0])
        throw Error("warp emulator: lanes 0 and " + std::to_string(l) +
                    " are at different collectives (divergence)");
    std::uint64_t ballot = 0;
    for (int l = 0; l < kLanes; ++l) ballot |= std::uint64_t(w->value[l] != 0 ? 1 : 0) << l;
    for (int l = 0; l < kLanes; ++l) {
      switch (w->kind[l]) {
        case Collective::kShuffle:
          w->result[l] = w->value[w->source[l]];
          break;
        case Collective::kAny:
          w->result[l] = ballot != 0 ? 1 : 0;
          break;
        case Collective::kBallot:
          w->result[l] = ballot;
          break;
      }
    }
  }
}

}  // namespace w2v::emulator
