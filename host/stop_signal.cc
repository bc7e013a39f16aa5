#include "w2v/stop_signal.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

#include "w2v/io.h"

namespace w2v {

namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_first_exits{false};
struct sigaction g_previous_int, g_previous_term;

extern "C" void on_stop_signal(int signal) {
  int none = 0;
  if (!g_first_exits.load() && g_signal.compare_exchange_strong(none, signal)) return;
  // The second signal (or the first, for a command with nothing to save): the user wants out
  // now. Only async-signal-safe calls from here.
  remove_unfinished_files();
  static constexpr char kSecond[] = "w2v: second signal: exiting at once\n";
  static constexpr char kFirst[] = "w2v: stopped by a signal: nothing written\n";
  [[maybe_unused]] const auto written = g_first_exits.load()
                                            ? ::write(2, kFirst, sizeof kFirst - 1)
                                            : ::write(2, kSecond, sizeof kSecond - 1);
  ::_exit(128 + signal);
}

}  // namespace

StopSignals::StopSignals(First first) {
  g_signal.store(0);
  g_first_exits.store(first == First::kExitsAtOnce);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, &g_previous_int);
  ::sigaction(SIGTERM, &action, &g_previous_term);
}

StopSignals::~StopSignals() {
  ::sigaction(SIGINT, &g_previous_int, nullptr);
  ::sigaction(SIGTERM, &g_previous_term, nullptr);
}

int stop_signal() { return g_signal.load(); }

}  // namespace w2v
