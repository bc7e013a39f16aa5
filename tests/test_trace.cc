// --trace (include/w2v/trace.h): the Chrome trace-event file, the GPU pipeline's sampler and
// driver tracks on its CPU twin, and the binary's main and CPU worker tracks; on a GPU, the copy
// and compute streams' spans (CUDA events, host/gpu/cuda_ops.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gpu/host_ops.h"
#include "support/require_gpu.h"
#include "support/run_w2v.h"
#include "support/temp_dir.h"
#include "support/training.h"
#include "w2v/cpu_trainer.h"
#include "w2v/trace.h"

namespace w2v {
namespace {

struct Span {
  std::string track, name;
  double start = 0, duration = 0;
};

// Reads a trace file as Trace::write lays it out (one event per line), failing the test on
// any line that is not exactly a metadata or a complete event.
std::vector<Span> read_trace(const std::string& path) {
  const std::vector<std::string> lines = test::split_lines(test::read_file(path));
  EXPECT_GE(lines.size(), 3u);
  if (lines.size() < 3) return {};
  EXPECT_EQ(lines.front(), "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
  EXPECT_EQ(lines.back(), "]}");
  const std::regex track_name(
      R"re(\{"ph":"M","pid":1,"tid":(\d+),"name":"thread_name","args":\{"name":"((?:[^"\\]|\\.)*)"\}\})re");
  const std::regex sort_index(
      R"re(\{"ph":"M","pid":1,"tid":\d+,"name":"thread_sort_index","args":\{"sort_index":\d+\}\})re");
  const std::regex process(
      R"re(\{"ph":"M","pid":1,"name":"process_name","args":\{"name":"w2v"\}\})re");
  const std::regex event(
      R"re(\{"ph":"X","pid":1,"tid":(\d+),"name":"([^"\\]*)","ts":([0-9.]+),"dur":([0-9.]+)\})re");
  std::map<std::string, std::string> tracks;
  std::vector<Span> spans;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    std::smatch m;
    std::string line = lines[i];
    // Every event but the last is followed by a comma.
    const bool comma = !line.empty() && line.back() == ',';
    EXPECT_EQ(comma, i + 2 < lines.size()) << "line " << i << ": " << line;
    if (comma) line.pop_back();
    if (std::regex_match(line, m, track_name)) {
      tracks[m[1]] = std::regex_replace(m[2].str(), std::regex(R"(\\(.))"), "$1");
    } else if (std::regex_match(line, m, event)) {
      spans.push_back({m[1], m[2], std::stod(m[3]), std::stod(m[4])});
    } else {
      EXPECT_TRUE(std::regex_match(line, sort_index) || std::regex_match(line, process))
          << "line " << i << ": " << line;
    }
  }
  for (Span& s : spans) {
    EXPECT_EQ(tracks.count(s.track), 1u) << "span on an unnamed track " << s.track;
    s.track = tracks[s.track];
  }
  return spans;
}

std::map<std::string, int> count_by(const std::vector<Span>& spans, const std::string& track) {
  std::map<std::string, int> counts;
  for (const Span& s : spans)
    if (s.track == track) ++counts[s.name];
  return counts;
}

// Spans of one thread follow each other: none starts before the previous one ended.
// The first span called `name` on `track` (a failed test and an empty span if none).
Span spans_named(const std::vector<Span>& spans, const std::string& track,
                 const std::string& name) {
  for (const Span& s : spans)
    if (s.track == track && s.name == name) return s;
  ADD_FAILURE() << "no span " << name << " on " << track;
  return {};
}

void expect_sequential(const std::vector<Span>& spans, const std::string& track) {
  double end = 0;
  for (const Span& s : spans) {
    if (s.track != track) continue;
    EXPECT_GE(s.start + 1e-3, end) << track << ": " << s.name << " overlaps the span before";
    end = s.start + s.duration;
  }
}

// Trains on the first `bytes` of text8 through `train`, given the job with a trace on, and
// reads back the trace it wrote.
std::vector<Span> traced_training(const TrainConfig& c, std::size_t bytes,
                                  const std::function<void(TrainJob&, Model&, Progress&)>& train) {
  test::TempDir dir;
  Trace trace;
  test::train_prefix(c, bytes, [&](const TrainJob& job, Model& model, Progress& progress) {
    TrainJob traced = job;
    traced.trace = &trace;
    train(traced, model, progress);
  });
  trace.write(dir.file("trace.json"));
  return read_trace(dir.file("trace.json"));
}

TEST(Trace, OneTrackPerThreadAndEverySpanInTheFile) {
  test::TempDir dir;
  Trace trace;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&trace, t] {
      const std::uint32_t track = trace.track("worker \"" + std::to_string(t) + "\"");
      for (int i = 0; i < 50; ++i) {
        const Trace::Span span(&trace, track, "work");
      }
    });
  for (auto& th : threads) th.join();
  trace.add(trace.track("main"), "explicit", 10.0, 2.5);
  EXPECT_EQ(trace.event_count(), 151u);
  trace.write(dir.file("t.json"));

  // Quotes in a track name are escaped.
  EXPECT_NE(test::read_file(dir.file("t.json")).find(R"("name":"worker \"2\"")"),
            std::string::npos);
  const std::vector<Span> spans = read_trace(dir.file("t.json"));
  ASSERT_EQ(spans.size(), 151u);
  for (int t = 0; t < 3; ++t) {
    const std::string track = "worker \"" + std::to_string(t) + "\"";
    EXPECT_EQ(count_by(spans, track), (std::map<std::string, int>{{"work", 50}})) << track;
    expect_sequential(spans, track);
  }
  EXPECT_EQ(spans.back().track, "main");
  EXPECT_EQ(spans.back().name, "explicit");
  EXPECT_DOUBLE_EQ(spans.back().start, 10.0);
  EXPECT_DOUBLE_EQ(spans.back().duration, 2.5);
}

TEST(Trace, TheGpuPipelineTimesEverySamplerAndTheDriver) {
  if (!file_exists(test::kText8)) GTEST_SKIP() << "no " << test::kText8;
  TrainConfig c = test::base_config();
  c.batch = 256;
  c.sampler_threads = 2;
  c.epochs = 1;
  c.gpu_path = GpuPathKind::kModular;
  const std::vector<Span> spans =
      traced_training(c, 1'000'000, [](TrainJob& job, Model& model, Progress& progress) {
        train_modular_on_host(job, model, progress);
      });
  const std::map<std::string, int> driver = count_by(spans, "driver");
  ASSERT_GT(driver.count("enqueue step"), 0u);
  EXPECT_GT(driver.at("enqueue step"), 10) << "a batch of 256 centers: many steps in 1 MB";
  EXPECT_GE(driver.at("wait for a packed batch"), driver.at("enqueue step"));
  int packed = 0;
  for (const char* sampler : {"sampler 0", "sampler 1"}) {
    const std::map<std::string, int> own = count_by(spans, sampler);
    ASSERT_GT(own.count("pack batch"), 0u) << sampler;
    packed += own.at("pack batch");
    EXPECT_EQ(own.at("wait for a free slot"), own.at("pack batch")) << sampler;
    expect_sequential(spans, sampler);
  }
  // Every step's batch was packed; the samplers' last, empty batches are never stepped.
  EXPECT_GE(packed, driver.at("enqueue step"));
  EXPECT_LE(packed, driver.at("enqueue step") + 2);
  expect_sequential(spans, "driver");
}

// The fused_ns spans of the compute streams, in the order they began.
std::vector<Span> fused_launches(const std::vector<Span>& spans) {
  std::vector<Span> launches;
  for (const Span& span : spans)
    if (span.track.rfind("compute stream", 0) == 0 && span.name == "fused_ns")
      launches.push_back(span);
  std::sort(launches.begin(), launches.end(),
            [](const Span& a, const Span& b) { return a.start < b.start; });
  return launches;
}

// One epoch on the GPU's fused path with 2 sampler threads.
TrainConfig fused_trace_config() {
  TrainConfig c = test::base_config();
  c.epochs = 1;
  c.gpu_path = GpuPathKind::kFused;
  c.sampler_threads = 2;
  return c;
}

// traced_training on the GPU trainer.
std::vector<Span> traced_on_gpu(const TrainConfig& c, std::size_t bytes) {
  return traced_training(c, bytes, [](TrainJob& job, Model& model, Progress& progress) {
    make_gpu_trainer()->train(job, model, progress);
  });
}

void expect_one_launch_at_a_time(const std::vector<Span>& launches) {
  for (std::size_t i = 1; i < launches.size(); ++i)
    EXPECT_GE(launches[i].start + 1e-3, launches[i - 1].start + launches[i - 1].duration)
        << "launch " << i << " began before launch " << i - 1 << " ended";
}

// On a GPU the fused path's batches take the compute streams in turn (--fused-streams): each
// batch's copy on the copy stream, its kernel and loss copy on its compute stream, whose spans
// follow each other. These batches have fewer chunks than the device holds warps, so their
// launches never overlap (GpuOps::fused_ns).
TEST(Trace, TheFusedPathsBatchesTakeTheComputeStreamsInTurn) {
  REQUIRE_GPU();
  if (!file_exists(test::kText8)) GTEST_SKIP() << "no " << test::kText8;
  TrainConfig c = fused_trace_config();
  c.fused_tokens = kMaxSentenceTokens;
  for (std::uint32_t streams : {1u, 2u}) {
    SCOPED_TRACE(std::to_string(streams) + " compute streams");
    c.fused_streams = streams;
    const std::vector<Span> spans = traced_on_gpu(c, 1'000'000);
    const int steps = count_by(spans, "driver")["enqueue step"];
    EXPECT_GT(steps, 10) << "batches of " << kMaxSentenceTokens << " tokens: many in 1 MB";
    EXPECT_EQ(count_by(spans, "copy stream")["copy batch"], steps);
    expect_sequential(spans, "copy stream");
    int kernels = 0;
    for (std::uint32_t s = 1; s <= 2; ++s) {
      const std::string track = s == 1 ? "compute stream" : "compute stream " + std::to_string(s);
      std::map<std::string, int> own = count_by(spans, track);
      if (s > streams) {
        EXPECT_TRUE(own.empty()) << track;
        continue;
      }
      EXPECT_GE(own["fused_ns"], steps / int(streams)) << track;
      EXPECT_EQ(own["copy losses"], own["fused_ns"]) << track;
      kernels += own["fused_ns"];
      expect_sequential(spans, track);
    }
    EXPECT_EQ(kernels, steps);
    expect_one_launch_at_a_time(fused_launches(spans));
  }
}

// Under --fused-warps below what the device holds, launches of any size never overlap either:
// two would run more warps at once than the cap, and than their repeat scales assume.
TEST(Trace, FusedLaunchesUnderFusedWarpsNeverOverlap) {
  REQUIRE_GPU();
  if (!file_exists(test::kText8)) GTEST_SKIP() << "no " << test::kText8;
  TrainConfig c = fused_trace_config();
  c.epochs = 2;
  c.fused_tokens = 1u << 18;  // thousands of chunks a batch, far more than the 64 warps
  c.fused_streams = 2;
  c.fused_warps = 64;
  const std::vector<Span> launches = fused_launches(traced_on_gpu(c, 4'000'000));
  ASSERT_GE(launches.size(), 4u);
  expect_one_launch_at_a_time(launches);
}

// Checkpoints pause the CPU workers: the pauses and the saves are on the timeline, and a
// worker's training spans never cover its pauses.
TEST(Trace, CpuWorkersShowTheirPausesForCheckpoints) {
  if (!file_exists(test::kText8)) GTEST_SKIP() << "no " << test::kText8;
  TrainConfig c = test::base_config();
  c.threads = 2;
  c.epochs = 2;
  TrainControl control;
  control.save_every_seconds = 0.02;
  int saves = 0;
  control.save = [&](const TrainerState&, const Model&) { ++saves; };
  const std::vector<Span> spans =
      traced_training(c, 2'000'000, [&](TrainJob& job, Model& model, Progress& progress) {
        job.control = &control;
        CpuTrainer().train(job, model, progress);
      });
  ASSERT_GT(saves, 0) << "the run was too short for a checkpoint";
  EXPECT_EQ(count_by(spans, "monitor")["save checkpoint"], saves);
  for (const char* worker : {"worker 0", "worker 1"}) {
    std::map<std::string, int> own = count_by(spans, worker);
    EXPECT_GT(own["train"], 10) << worker;
    EXPECT_GT(own["paused for a checkpoint"], 0) << worker;
    expect_sequential(spans, worker);
  }
}

TEST(Trace, TheBinaryWritesItsMainTrack) {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 20000; ++i) {
    text += 'w';
    text += std::to_string(i % 97);
    text += i % 11 ? ' ' : '\n';
  }
  test::write_file(dir.file("c.txt"), text);
  const test::RunResult r = test::run_w2v(
      {"train", "--corpus", dir.file("c.txt"), "--output", dir.file("v.txt"), "--epochs", "1",
       "--dim", "8", "--threads", "2", "--device", "cpu", "--trace", dir.file("run.json")});
  ASSERT_EQ(r.exit_status, 0) << r.describe();
  const std::vector<Span> spans = read_trace(dir.file("run.json"));
  EXPECT_NE(r.err.find("wrote a timeline of " + std::to_string(spans.size()) + " spans to " +
                       dir.file("run.json")),
            std::string::npos)
      << r.err;
  std::vector<std::string> main_spans;
  for (const Span& s : spans)
    if (s.track == "main") main_spans.push_back(s.name);
  EXPECT_EQ(main_spans, (std::vector<std::string>{"prepare corpus", "train", "write vectors"}));
  expect_sequential(spans, "main");
  // The preparation's stages, in order, within "prepare corpus".
  const Span preparing = spans_named(spans, "main", "prepare corpus");
  std::vector<std::string> stages;
  for (const Span& s : spans) {
    if (s.track != "prepare") continue;
    stages.push_back(s.name);
    EXPECT_GE(s.start + 1e-3, preparing.start) << s.name;
    EXPECT_LE(s.start + s.duration, preparing.start + preparing.duration + 1e-3) << s.name;
  }
  EXPECT_EQ(stages,
            (std::vector<std::string>{"count words", "merge counts, sort the vocabulary",
                                      "encode and write", "sync the encoded corpus to disk",
                                      "map and verify the encoded corpus", "sampling tables"}));
  expect_sequential(spans, "prepare");
  // The CPU trainer's workers: a span per flush of their words, inside the main "train".
  for (const char* worker : {"worker 0", "worker 1"}) {
    EXPECT_GE(count_by(spans, worker)["train"], 1) << worker;
    expect_sequential(spans, worker);
  }
}

}  // namespace
}  // namespace w2v
