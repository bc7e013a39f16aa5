// Corpora past 2^32 entries (issue 13): the offsets of a split, a walk, a checkpoint and the
// loader's size check are 64-bit. No 16 GB file: the entries live in an anonymous mapping that
// is reserved but not backed, so untouched pages read as word 0 and only the pages holding
// the sentence ends a test writes take memory.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"

namespace w2v {
namespace {

constexpr std::size_t k4G = std::size_t{1} << 32;

class SparseEntries {
 public:
  explicit SparseEntries(std::size_t count) : bytes_(count * sizeof(std::uint32_t)) {
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p != MAP_FAILED) data_ = static_cast<std::uint32_t*>(p);
  }
  ~SparseEntries() {
    if (data_) munmap(data_, bytes_);
  }
  SparseEntries(const SparseEntries&) = delete;
  SparseEntries& operator=(const SparseEntries&) = delete;
  std::uint32_t* data() const { return data_; }

 private:
  std::size_t bytes_;
  std::uint32_t* data_ = nullptr;
};

#define W2V_MAP_OR_SKIP(name, count)                                                      \
  SparseEntries name(count);                                                              \
  if (!name.data())                                                                       \
    GTEST_SKIP() << "this machine refuses a " << ((count) * 4 >> 30)                      \
                 << " GiB address-space reservation (vm.overcommit_memory=2?), so the "   \
                    "past-2^32 arithmetic cannot be exercised here";

TEST(BeyondFourGigaTokens, SplitCutsAtSentenceStartsPast2To32) {
  const std::size_t count = 5 * k4G + 3;
  W2V_MAP_OR_SKIP(entries, count);
  const std::size_t parts = 4;
  std::vector<std::size_t> expected_begins{0};
  for (std::size_t p = 1; p < parts; ++p) {
    // A sentence ends a little past each even cut, so each range begins right after it.
    const std::size_t end_of_sentence = count / parts * p + 10 * p;
    entries.data()[end_of_sentence] = kSentenceEnd;
    expected_begins.push_back(end_of_sentence + 1);
  }
  const std::vector<CorpusRange> ranges = split_at_sentences(entries.data(), count, parts);
  ASSERT_EQ(ranges.size(), parts);
  for (std::size_t p = 0; p < parts; ++p) {
    EXPECT_EQ(ranges[p].begin, expected_begins[p]) << "range " << p;
    EXPECT_EQ(ranges[p].end, p + 1 < parts ? expected_begins[p + 1] : count) << "range " << p;
  }
  EXPECT_GT(ranges[1].begin, k4G);
}

TEST(BeyondFourGigaTokens, WalkAndResumePast2To32) {
  const std::size_t begin = k4G + 100, end = k4G + 4000;
  W2V_MAP_OR_SKIP(entries, end + 16);
  std::uint32_t* e = entries.data();
  e[begin - 1] = kSentenceEnd;  // the range starts at a sentence
  for (std::size_t at = begin + 9; at < end; at += 37) e[at] = kSentenceEnd;
  e[end - 1] = kSentenceEnd;
  const float keep[] = {0.5f};  // subsampling draws from the RNG, so resuming must restore it
  const CorpusRange range{begin, end};

  SentenceStream whole(e, keep, range, 2, 7);
  std::vector<std::uint32_t> sentence;
  std::uint64_t words = 0;
  ASSERT_TRUE(whole.next(sentence, words));
  EXPECT_EQ(words, 9u);
  const WalkerState after_first = whole.state();
  EXPECT_EQ(after_first.position, std::uint64_t{begin} + 10);
  std::vector<std::vector<std::uint32_t>> rest;
  std::uint64_t rest_words = 0;
  while (whole.next(sentence, rest_words)) rest.push_back(sentence);
  // Two epochs of the range, less the first sentence: every non-end entry is a word.
  std::uint64_t ends = 0;
  for (std::size_t at = begin; at < end; ++at) ends += e[at] == kSentenceEnd;
  EXPECT_EQ(words + rest_words, 2 * ((end - begin) - ends));

  SentenceStream resumed(e, keep, range, 2, 12345);
  ASSERT_TRUE(resumed.valid_state(after_first, 1));
  resumed.restore(after_first);
  std::vector<std::vector<std::uint32_t>> resumed_rest;
  std::uint64_t resumed_words = 0;
  while (resumed.next(sentence, resumed_words)) resumed_rest.push_back(sentence);
  EXPECT_EQ(resumed_words, rest_words);
  EXPECT_EQ(resumed_rest, rest);

  WalkerState mid_sentence = after_first;
  mid_sentence.position += 1;  // not after a sentence end: a checkpoint from elsewhere
  EXPECT_FALSE(resumed.valid_state(mid_sentence, 1));
}

TEST(BeyondFourGigaTokens, LoaderComputesTheImpliedSizeIn64Bits) {
  test::TempDir dir;
  const Vocab vocab = Vocab::from_counts({"a", "b"}, {3, 2}, "test");
  const std::uint64_t entries = std::uint64_t{8} << 30;  // 2^33: 32 GiB of entries
  const CorpusHeader header = CorpusHeader::make(vocab, entries, entries, 0, 0, false);
  std::string bytes(reinterpret_cast<const char*>(&header), sizeof header);
  bytes.append(64, '\0');
  test::write_file(dir.file("big.tokens"), bytes);
  try {
    EncodedCorpus corpus(dir.file("big.tokens"), vocab);
    FAIL() << "accepted a header that claims 2^33 entries in a 144-byte file";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("header implies " + std::to_string(80 + entries * 4)),
              std::string::npos)
        << error.what();
  }
}

TEST(BeyondFourGigaTokens, LearningRateDecaysOverMoreThan2To32Words) {
  const std::uint64_t total = 6 * std::uint64_t{k4G};
  EXPECT_NEAR(scheduled_alpha(0.05, 1e-4, total / 2, total), 0.025, 1e-9);
  EXPECT_NEAR(scheduled_alpha(0.05, 1e-4, total / 6 * 5, total), 0.05 / 6, 1e-9);
  EXPECT_NEAR(scheduled_alpha(0.05, 1e-4, total, total), 0.05 * 1e-4, 1e-12);
}

}  // namespace
}  // namespace w2v
