#include "w2v/trace.h"

#include <cstdio>

#include "w2v/io.h"

namespace w2v {

Trace::Trace() = default;

std::uint32_t Trace::track(const std::string& name) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::uint32_t t = 0; t < tracks_.size(); ++t)
    if (tracks_[t] == name) return t;
  tracks_.push_back(name);
  return static_cast<std::uint32_t>(tracks_.size() - 1);
}

double Trace::now_us() const {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start_)
      .count();
}

void Trace::add(std::uint32_t track, const char* name, double start_us, double duration_us) {
  std::lock_guard<std::mutex> lock(mutex_);
  events_.push_back({track, name, start_us, duration_us < 0 ? 0 : duration_us});
}

std::size_t Trace::event_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_.size();
}

namespace {
// Track and span names are ours (no quotes or control characters), but a file name in a
// track is not.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}
}  // namespace

void Trace::write(const std::string& path) const {
  std::lock_guard<std::mutex> lock(mutex_);
  AtomicFile out(path);
  out.write("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
  bool first = true;
  auto line = [&](const std::string& s) {
    out.write(first ? s : ",\n" + s);
    first = false;
  };
  line("{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"w2v\"}}");
  for (std::uint32_t t = 0; t < tracks_.size(); ++t) {
    line("{\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(t) +
         ",\"name\":\"thread_name\",\"args\":{\"name\":" + json_string(tracks_[t]) + "}}");
    line("{\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(t) +
         ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":" + std::to_string(t) + "}}");
  }
  char buf[96];
  for (const Event& e : events_) {
    std::snprintf(buf, sizeof buf, ",\"ts\":%.3f,\"dur\":%.3f}", e.start_us, e.duration_us);
    line("{\"ph\":\"X\",\"pid\":1,\"tid\":" + std::to_string(e.track) +
         ",\"name\":" + json_string(e.name) + buf);
  }
  out.write("\n]}\n");
  out.commit();
}

}  // namespace w2v
