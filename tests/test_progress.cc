// The progress reporter every trainer shares: alpha schedule, loss intervals, CSV log and
// divergence detection.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/progress.h"

namespace w2v {
namespace {

TEST(Schedule, DecaysLinearlyToTheFloor) {
  EXPECT_DOUBLE_EQ(scheduled_alpha(0.025, 1e-4, 0, 1000), 0.025);
  EXPECT_NEAR(scheduled_alpha(0.025, 1e-4, 500, 1000), 0.025 * (1 - 500.0 / 1001), 1e-12);
  EXPECT_NEAR(scheduled_alpha(0.025, 1e-4, 1000, 1000), 0.025 / 1001, 1e-15);
  EXPECT_DOUBLE_EQ(scheduled_alpha(0.025, 1e-4, 5000, 1000), 0.025 * 1e-4);
  double previous = 1;
  for (std::uint64_t w = 0; w <= 1000; w += 10) {
    double a = scheduled_alpha(0.05, 1e-4, w, 1000);
    EXPECT_LE(a, previous);
    previous = a;
  }
}

struct CsvRow {
  double words, seconds, alpha, loss, words_per_sec;
};

std::vector<CsvRow> read_loss_log(const std::string& path) {
  std::istringstream in(test::read_file(path));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "words,seconds,alpha,loss,words_per_sec");
  std::vector<CsvRow> rows;
  while (std::getline(in, line)) {
    CsvRow r{};
    EXPECT_EQ(std::sscanf(line.c_str(), "%lf,%lf,%lf,%lf,%lf", &r.words, &r.seconds, &r.alpha,
                          &r.loss, &r.words_per_sec),
              5)
        << line;
    rows.push_back(r);
  }
  return rows;
}

// Feeds a loss that falls from 3 to 1 halfway; each logged row must be the mean of what was
// added in its interval, so rows read 3, then (at most one mixed row), then 1.
TEST(Progress, LogsOneRowPerIntervalWithThatIntervalsLoss) {
  test::TempDir dir;
  Progress::Options o;
  o.total_words = 60 * 1000;
  o.interval_seconds = 0.1;
  o.loss_log_path = dir.file("loss.csv");
  std::FILE* sink = std::tmpfile();
  o.out = sink;
  Progress progress(o);
  int calls = 0;
  progress.monitor([&] {
    ++calls;
    double loss = calls <= 30 ? 3.0 : 1.0;
    progress.add(1000, loss * 4, 4);
    return calls == 60;
  });
  TrainStats stats = progress.summary();
  std::fclose(sink);
  EXPECT_EQ(stats.words, 60'000u);
  EXPECT_DOUBLE_EQ(stats.final_loss, 1.0);
  EXPECT_EQ(stats.setup_seconds, 0.0) << "no clock started: no setup to report";

  std::vector<CsvRow> rows = read_loss_log(o.loss_log_path);
  ASSERT_GE(rows.size(), 4u) << "60 calls of >= 20 ms at a 0.1 s interval";
  EXPECT_DOUBLE_EQ(rows.front().loss, 3.0);
  EXPECT_DOUBLE_EQ(rows.back().loss, 1.0);
  EXPECT_EQ(rows.back().words, 60'000);
  int mixed = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].loss != 3.0 && rows[i].loss != 1.0) ++mixed;
    if (i > 0) {
      EXPECT_GE(rows[i].words, rows[i - 1].words);
      EXPECT_GE(rows[i].seconds, rows[i - 1].seconds);
      EXPECT_LE(rows[i].alpha, rows[i - 1].alpha);
      EXPECT_LE(rows[i].loss, rows[i - 1].loss);
    }
  }
  EXPECT_LE(mixed, 2);
}

// A trainer's setup (a GPU's memory and uploads) and wrap-up are not training: the seconds and
// words/s count from start_clock() to stop_clock(), and the summary gives the two apart.
TEST(Progress, TrainingIsTimedFromStartClockToStopClock) {
  using namespace std::chrono;
  Progress::Options o;
  o.total_words = 1000;
  std::FILE* sink = std::tmpfile();
  o.out = sink;
  const auto before = steady_clock::now();
  Progress progress(o);
  std::this_thread::sleep_for(milliseconds(200));
  progress.start_clock();
  progress.add(1000, 2.0, 1);
  std::this_thread::sleep_for(milliseconds(50));
  progress.stop_clock();
  std::this_thread::sleep_for(milliseconds(100));
  const TrainStats s = progress.summary();
  const double elapsed = duration<double>(steady_clock::now() - before).count();
  const std::string printed = test::read_stream(sink);
  std::fclose(sink);
  EXPECT_GE(s.setup_seconds, 0.2);
  EXPECT_GE(s.wrapup_seconds, 0.1);
  EXPECT_GE(s.seconds, 0.05);
  EXPECT_LE(s.setup_seconds + s.seconds + s.wrapup_seconds, elapsed);
  EXPECT_DOUBLE_EQ(s.words_per_sec, 1000 / s.seconds);
  EXPECT_NE(printed.find("trainer setup "), std::string::npos) << printed;
  EXPECT_NE(printed.find(" s before training, wrap-up "), std::string::npos) << printed;
}

TEST(Progress, NonFiniteLossStopsAndLeavesNoLog) {
  test::TempDir dir;
  Progress::Options o;
  o.total_words = 1000;
  o.interval_seconds = 0.05;
  o.loss_log_path = dir.file("loss.csv");
  std::FILE* sink = std::tmpfile();
  o.out = sink;
  {
    Progress progress(o);
    progress.add(100, 2.0, 1);
    progress.add(100, NAN, 1);
    EXPECT_TRUE(progress.stopped());
    progress.monitor([] { return false; });  // returns at once: training was stopped
    try {
      progress.summary();
      ADD_FAILURE() << "summary() accepted a NaN loss";
    } catch (const DivergedError& e) {
      EXPECT_NE(std::string(e.what()).find("NaN or infinite"), std::string::npos) << e.what();
    }
  }
  std::fclose(sink);
  EXPECT_FALSE(file_exists(o.loss_log_path));
  EXPECT_EQ(test::list_dir(dir.path()).size(), 0u) << "no temporary log left behind";
}

}  // namespace
}  // namespace w2v
