#pragma once
// --trace FILE: a timeline of one run in the Chrome trace-event format, which Perfetto
// (ui.perfetto.dev) and chrome://tracing open: one track per thread or GPU stream, each span a
// complete event ("ph":"X") in microseconds since the run started. nsys is not on every GPU
// machine; this needs nothing but the file.
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace w2v {

class Trace {
 public:
  Trace();

  // The track called `name` (a thread, a stream), made on first use; thread-safe.
  std::uint32_t track(const std::string& name);
  // Microseconds since the trace began.
  double now_us() const;
  // A span of `duration_us` on `track` from `start_us`; `name` must outlive the trace (a
  // string literal). Thread-safe.
  void add(std::uint32_t track, const char* name, double start_us, double duration_us);

  // Times its own lifetime on a host track.
  class Span {
   public:
    Span(Trace* trace, std::uint32_t track, const char* name)
        : trace_(trace), track_(track), name_(name), start_(trace ? trace->now_us() : 0) {}
    ~Span() {
      if (trace_) trace_->add(track_, name_, start_, trace_->now_us() - start_);
    }
    Span(const Span&) = delete;
    Span& operator=(const Span&) = delete;

   private:
    Trace* trace_;
    std::uint32_t track_;
    const char* name_;
    double start_;
  };

  std::size_t event_count() const;
  // Writes the trace through AtomicFile (one event per line).
  void write(const std::string& path) const;

 private:
  struct Event {
    std::uint32_t track;
    const char* name;
    double start_us, duration_us;
  };
  mutable std::mutex mutex_;
  std::vector<std::string> tracks_;
  std::vector<Event> events_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace w2v
