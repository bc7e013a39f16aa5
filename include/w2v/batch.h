#pragma once
// Packs training examples into fixed-shape batches for the GPU trainer (and the tests): the
// same subsampling, dynamic windows and noise words as the CPU trainer, written into buffers
// the caller owns (pinned host memory in the GPU trainer).
//
// Skip-gram rows follow the d2l example's layout, one row per center word:
//   centers [B]; targets, labels, mask [B, L] with L = 2 window (1 + negative): the row's c
//   context words (label 1), then c x negative noise words (label 0), then padding (mask 0,
//   target 0 so that a gather stays in bounds). A noise word equal to the context word it was
//   drawn for is masked out, as word2vec.c skips it.
// CBOW rows: contexts [B, 2 window] with counts [B] (padding 0); targets, labels, mask
//   [B, 1 + negative]: the center (label 1), then its noise words (masked when equal to it).
// For --loss softmax and bce there are no noise words (negative counts as 0) and target padding
// is -1, as softmax_nll and full_bce expect. Rows past PackResult::rows are padding rows that
// contribute nothing (mask 0, count 0, target padding), so a batch always has B rows.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/sampling.h"

namespace w2v {

struct SkipGramBatch {
  std::size_t capacity = 0;  // B
  std::int32_t* centers = nullptr;
  std::int32_t* targets = nullptr;
  float* labels = nullptr;
  float* mask = nullptr;
};

struct CbowBatch {
  std::size_t capacity = 0;  // B
  std::int32_t* contexts = nullptr;
  std::int32_t* counts = nullptr;
  std::int32_t* targets = nullptr;
  float* labels = nullptr;
  float* mask = nullptr;
};

struct PackResult {
  std::size_t rows = 0;     // rows written, from 0
  std::uint64_t words = 0;  // corpus words read for them (before subsampling): for progress
  // What a trainer's loss is averaged over: (center, context) pairs for skip-gram, centers
  // for CBOW.
  std::uint64_t examples = 0;
  bool finished = false;  // the range is exhausted for every epoch
  bool empty() const { return rows == 0; }
};

class BatchPacker {
 public:
  // Walks `range` of the corpus `config.epochs` times with its own RNG stream `seed`.
  BatchPacker(const TrainConfig& config, const EncodedCorpus& corpus, const SamplingTables& tables,
              CorpusRange range, std::uint64_t seed);

  std::uint32_t skipgram_slots() const { return 2 * window_ * (1 + negative_); }
  std::uint32_t cbow_context_slots() const { return 2 * window_; }
  std::uint32_t cbow_target_slots() const { return 1 + negative_; }

  // Fills up to batch.capacity rows, continuing where the last call stopped.
  PackResult fill(const SkipGramBatch& batch);
  PackResult fill(const CbowBatch& batch);

 private:
  // Reads the next sentence (subsampled) into sentence_; false when the range is done.
  bool next_sentence(std::uint64_t& words);
  template <class Row>
  PackResult fill_rows(std::size_t capacity, Row&& row);

  const std::uint32_t* entries_;
  const float* keep_;
  const AliasTable& noise_;
  CorpusRange range_;
  std::uint32_t window_, negative_, epochs_;
  std::int32_t target_padding_;
  Rng rng_;
  std::uint32_t epoch_ = 0;
  std::size_t position_;
  std::vector<std::uint32_t> sentence_;
  std::size_t center_ = 0;  // next center of sentence_
};

}  // namespace w2v
