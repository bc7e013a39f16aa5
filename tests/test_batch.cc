// The modular path's batch packing: row structure, windows, noise masking, resumption across
// calls, and the word count that drives progress and the learning rate.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gpu/modular_batch.h"
#include "support/temp_dir.h"
#include "w2v/corpus.h"
#include "w2v/vocab.h"

namespace w2v {
namespace {

// Sentences of distinct-enough words; "solo" makes a one-word sentence (no example).
const char* kText =
    "a b c d e f g h\n"
    "solo\n"
    "b c a d a e f\n"
    "h g f e d c b a a b\n"
    "c d\n";

struct Fixture {
  test::TempDir dir;
  Vocab vocab;
  std::unique_ptr<EncodedCorpus> corpus;
  SamplingTables tables;
  TrainConfig config;
  std::vector<std::vector<std::uint32_t>> sentences;  // in ids, as encoded

  explicit Fixture(std::uint32_t epochs = 1) {
    test::write_file(dir.file("t.txt"), kText);
    vocab = Vocab::build(dir.file("t.txt"), {}, 1, 0);
    EncodedCorpus::encode(dir.file("t.txt"), vocab, {}, dir.file("t.tokens"));
    corpus = std::make_unique<EncodedCorpus>(dir.file("t.tokens"), vocab);
    config.window = 2;
    config.negative = 3;
    config.sample = 0;
    config.epochs = epochs;
    tables = SamplingTables::build(vocab, config);
    std::vector<std::uint32_t> s;
    for (std::size_t p = 0; p < corpus->entry_count(); ++p) {
      std::uint32_t id = corpus->entries()[p];
      if (id == kSentenceEnd) {
        sentences.push_back(s);
        s.clear();
      } else {
        s.push_back(id);
      }
    }
  }
  BatchPacker packer(std::uint64_t seed = 7) const {
    return BatchPacker(config, *corpus, tables, {0, corpus->entry_count()}, seed);
  }
  BatchLayout layout(ModelKind model, std::size_t rows) const {
    TrainConfig c = config;
    c.model = model;
    c.batch = static_cast<std::uint32_t>(rows);
    return BatchLayout::for_config(c);
  }
};

// A batch block of `layout` and its view.
struct Block {
  std::vector<std::byte> bytes;
  BatchView view;
  explicit Block(const BatchLayout& layout)
      : bytes(layout.block_bytes()), view(BatchView::carve(bytes.data(), layout)) {}
};

struct PackedSkipGram {
  std::vector<std::int32_t> centers, targets;
  std::vector<float> labels, mask;
  std::uint64_t words = 0;
};

PackedSkipGram pack_all_skipgram(const Fixture& f, std::size_t capacity, std::uint64_t seed = 7) {
  BatchPacker packer = f.packer(seed);
  const BatchLayout layout = f.layout(ModelKind::kSkipGram, capacity);
  const std::size_t L = layout.outputs;
  PackedSkipGram all;
  Block block(layout);
  const BatchView& v = block.view;
  while (true) {
    PackResult r = packer.fill(layout, v);
    all.words += r.words;
    all.centers.insert(all.centers.end(), v.input_ids, v.input_ids + r.rows);
    all.targets.insert(all.targets.end(), v.output_ids, v.output_ids + r.rows * L);
    all.labels.insert(all.labels.end(), v.labels, v.labels + r.rows * L);
    all.mask.insert(all.mask.end(), v.mask, v.mask + r.rows * L);
    if (r.finished) break;
    EXPECT_EQ(r.rows, capacity) << "only the last batch is partial";
  }
  return all;
}

TEST(BatchPacker, SkipGramRowsFollowTheSentencesAndTheirWindows) {
  Fixture f;
  const std::size_t L = f.layout(ModelKind::kSkipGram, 5).outputs;
  ASSERT_EQ(L, 2u * 2 * (1 + 3));
  PackedSkipGram rows = pack_all_skipgram(f, 5);
  EXPECT_EQ(rows.words, f.corpus->token_count()) << "every token counted once";

  // One row per word of every sentence with at least two words, in corpus order.
  std::vector<std::int32_t> want_centers;
  for (const auto& s : f.sentences)
    if (s.size() >= 2)
      for (auto id : s) want_centers.push_back(static_cast<std::int32_t>(id));
  ASSERT_EQ(rows.centers, want_centers);

  std::size_t row = 0;
  std::map<std::size_t, int> window_sizes;
  for (const auto& s : f.sentences) {
    if (s.size() < 2) continue;
    for (std::size_t i = 0; i < s.size(); ++i, ++row) {
      const std::int32_t* t = rows.targets.data() + row * L;
      const float* y = rows.labels.data() + row * L;
      const float* m = rows.mask.data() + row * L;
      std::size_t c = 0;
      while (c < L && y[c] == 1.0f) ++c;
      // The contexts are the neighbours within some b in 1..window, in sentence order.
      bool matched = false;
      for (std::size_t b = 1; b <= 2 && !matched; ++b) {
        std::vector<std::int32_t> neighbours;
        for (std::size_t j = i >= b ? i - b : 0; j <= std::min(s.size() - 1, i + b); ++j)
          if (j != i) neighbours.push_back(static_cast<std::int32_t>(s[j]));
        if (neighbours == std::vector<std::int32_t>(t, t + c)) {
          matched = true;
          ++window_sizes[b];
        }
      }
      EXPECT_TRUE(matched) << "row " << row << ": contexts are not a window of the sentence";
      for (std::size_t k = 0; k < c; ++k) EXPECT_EQ(m[k], 1.0f);
      // Then negative noise words per context, masked where equal to that context.
      for (std::size_t k = 0; k < c; ++k)
        for (std::size_t n = 0; n < 3; ++n) {
          const std::size_t slot = c + k * 3 + n;
          EXPECT_EQ(y[slot], 0.0f);
          EXPECT_EQ(m[slot], t[slot] == t[k] ? 0.0f : 1.0f);
          EXPECT_LT(t[slot], static_cast<std::int32_t>(f.vocab.size()));
        }
      for (std::size_t slot = 4 * c; slot < L; ++slot) {
        EXPECT_EQ(m[slot], 0.0f);
        EXPECT_EQ(t[slot], 0) << "padding must stay a valid index";
      }
    }
  }
  EXPECT_GT(window_sizes[1], 0);
  EXPECT_GT(window_sizes[2], 0);
}

TEST(BatchPacker, BatchSizeDoesNotChangeTheRows) {
  Fixture f(3);
  PackedSkipGram one = pack_all_skipgram(f, 1);
  PackedSkipGram many = pack_all_skipgram(f, 1000);
  EXPECT_EQ(one.centers, many.centers);
  EXPECT_EQ(one.targets, many.targets);
  EXPECT_EQ(one.mask, many.mask);
  EXPECT_EQ(one.words, 3 * f.corpus->token_count());
  EXPECT_EQ(many.words, one.words);
  PackedSkipGram other_seed = pack_all_skipgram(f, 1000, 8);
  EXPECT_NE(other_seed.targets, many.targets);
}

// --sg-rows pair: the same examples as the center rows, drawn in the same order, one (center,
// context) pair a row (its context word, then that word's noise words); a center's pairs stay
// in one batch, so a batch ends with fewer than 2 window rows free.
TEST(BatchPacker, PairRowsHoldTheCenterRowsExamplesOnePerRow) {
  Fixture f(3);
  const PackedSkipGram centers = pack_all_skipgram(f, 1000);
  const std::size_t L = f.layout(ModelKind::kSkipGram, 1).outputs;
  const std::size_t negative = f.config.negative;
  PackedSkipGram expected;  // the center rows, cut into pairs
  for (std::size_t r = 0; r < centers.centers.size(); ++r) {
    const std::size_t at = r * L;
    std::size_t c = 0;
    while (c < L && centers.labels[at + c] == 1.0f) ++c;
    for (std::size_t k = 0; k < c; ++k) {
      expected.centers.push_back(centers.centers[r]);
      expected.targets.push_back(centers.targets[at + k]);
      expected.mask.push_back(1.0f);
      for (std::size_t m = 0; m < negative; ++m) {
        expected.targets.push_back(centers.targets[at + c + k * negative + m]);
        expected.mask.push_back(centers.mask[at + c + k * negative + m]);
      }
    }
  }
  ASSERT_GT(expected.centers.size(), centers.centers.size());

  for (const std::size_t capacity : {std::size_t{4}, std::size_t{7}, std::size_t{5000}}) {
    SCOPED_TRACE(capacity);
    TrainConfig c = f.config;
    c.sg_rows = w2v::SkipGramRows::kPair;
    c.batch = static_cast<std::uint32_t>(capacity);
    const BatchLayout layout = BatchLayout::for_config(c);
    ASSERT_TRUE(layout.pairs);
    ASSERT_EQ(layout.outputs, 1 + negative);
    BatchPacker packer = f.packer();
    Block block(layout);
    const BatchView& v = block.view;
    PackedSkipGram got;
    while (true) {
      const PackResult r = packer.fill(layout, v);
      got.words += r.words;
      EXPECT_EQ(r.examples, r.rows);
      for (std::size_t row = 0; row < layout.rows; ++row) {
        EXPECT_EQ(v.counts[row], row < r.rows ? 1 : 0);
        for (std::size_t s = 0; s < layout.outputs; ++s) {
          const std::size_t i = row * layout.outputs + s;
          if (row >= r.rows) {
            EXPECT_EQ(v.mask[i], 0.0f) << "padding row " << row;
            continue;
          }
          got.targets.push_back(v.output_ids[i]);
          got.mask.push_back(v.mask[i]);
          EXPECT_EQ(v.labels[i], s == 0 ? 1.0f : 0.0f);
        }
      }
      got.centers.insert(got.centers.end(), v.input_ids, v.input_ids + r.rows);
      if (r.finished) break;
      EXPECT_GT(r.rows + 2 * f.config.window, capacity) << "a batch left a center's room free";
    }
    EXPECT_EQ(got.words, centers.words);
    EXPECT_EQ(got.centers, expected.centers);
    EXPECT_EQ(got.targets, expected.targets);
    EXPECT_EQ(got.mask, expected.mask);
  }
}

TEST(BatchPacker, CbowRowsHoldTheContextAndTheCenterFirst) {
  Fixture f;
  BatchPacker packer = f.packer();
  const BatchLayout layout = f.layout(ModelKind::kCbow, 64);
  const std::size_t C = layout.inputs, T = layout.outputs;
  ASSERT_EQ(C, 4u);
  ASSERT_EQ(T, 4u);
  Block block(layout);
  const std::int32_t* contexts = block.view.input_ids;
  const std::int32_t* counts = block.view.counts;
  const std::int32_t* targets = block.view.output_ids;
  const float* labels = block.view.labels;
  const float* mask = block.view.mask;
  PackResult r = packer.fill(layout, block.view);
  EXPECT_TRUE(r.finished);
  std::size_t row = 0;
  for (const auto& s : f.sentences) {
    if (s.size() < 2) continue;
    for (std::size_t i = 0; i < s.size(); ++i, ++row) {
      ASSERT_LT(row, r.rows);
      EXPECT_EQ(targets[row * T], static_cast<std::int32_t>(s[i]));
      EXPECT_EQ(labels[row * T], 1.0f);
      const int n = counts[row];
      EXPECT_GE(n, 1);
      EXPECT_LE(n, 4);
      for (std::size_t k = n; k < C; ++k) EXPECT_EQ(contexts[row * C + k], 0);
      for (std::size_t k = 1; k < T; ++k) {
        EXPECT_EQ(labels[row * T + k], 0.0f);
        EXPECT_EQ(mask[row * T + k], targets[row * T + k] == targets[row * T] ? 0.0f : 1.0f);
      }
    }
  }
  EXPECT_EQ(row, r.rows);
}

TEST(BatchPacker, SubsamplingDropsFrequentWordsButCountsThem) {
  Fixture f;
  f.config.sample = 1e-3;  // on a 38-token corpus every word is "frequent"
  f.tables = SamplingTables::build(f.vocab, f.config);
  f.config.epochs = 200;
  PackedSkipGram rows = pack_all_skipgram(f, 256);
  EXPECT_EQ(rows.words, 200 * f.corpus->token_count());
  const double kept = double(rows.centers.size()) / double(rows.words);
  EXPECT_LT(kept, 0.5) << "keep probabilities here are all below 0.3";
  EXPECT_GT(kept, 0.01);
}

}  // namespace
}  // namespace w2v
