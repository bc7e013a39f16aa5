#pragma once
// The modular path's batches: their layout in one block of memory, the packer that fills them
// from the corpus (the CPU trainer's sampling, written into buffers the caller owns: pinned
// host memory in the GPU trainer) and the repeat cap's row scales.
//
// Skip-gram rows follow the d2l example's layout, one row per center word:
//   centers [B]; targets, labels, mask [B, L] with L = 2 window (1 + negative): the row's c
//   context words (label 1), then c x negative noise words (label 0), then padding (mask 0,
//   target 0 so that a gather stays in bounds). A noise word equal to the context word it was
//   drawn for is masked out (noise_word_used); counts [B] holds c.
//   With --sg-rows pair a row is one (center, context) pair: L = 1 + negative, the context
//   word then its noise words, counts 1; a center's pairs are consecutive rows of one batch.
// CBOW rows: contexts [B, 2 window] with counts [B] (padding 0); targets, labels, mask
//   [B, 1 + negative]: the center (label 1), then its noise words (masked when equal to it).
// For --loss softmax and bce there are no noise words (negative counts as 0) and target padding
// is -1, as softmax_nll and full_bce expect. Rows past PackResult::rows are padding rows that
// contribute nothing (mask 0, count 0, target padding), so a batch always has B rows.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gpu/pipeline.h"
#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/sampling.h"

namespace w2v {

// The shape of one batch: `rows` centers; per row `inputs` ids of the input table (the center
// for skip-gram, 2 window context slots for CBOW) and `outputs` ids of the output table
// (skip-gram: its context words, then noise words under --loss ns; CBOW: the center, then its
// noise words).
struct BatchLayout {
  ModelKind model = ModelKind::kSkipGram;
  LossKind loss = LossKind::kNegativeSampling;
  std::size_t rows = 0;
  std::uint32_t inputs = 0, outputs = 0;
  std::uint32_t negative = 0;  // noise words per positive target (0 but under --loss ns)
  bool pairs = false;          // skip-gram rows of one (center, context) pair (--sg-rows pair)

  static BatchLayout for_config(const TrainConfig& config);
  bool cbow() const { return model == ModelKind::kCbow; }
  bool ns() const { return loss == LossKind::kNegativeSampling; }
  std::size_t input_ids() const { return rows * inputs; }
  std::size_t output_ids() const { return rows * outputs; }
  // ids, counts, labels, mask, row scales: 4-byte elements, so every part stays aligned.
  std::size_t block_bytes() const {
    return 4 * (input_ids() + 3 * output_ids() + rows + input_ids() + output_ids());
  }
};

// Pointers into a batch block (host or device memory): the input-table ids, the output-table
// ids right after them (so that tied embeddings apply both in one call), the CBOW context
// counts, then labels and mask.
struct BatchView {
  std::int32_t* input_ids;
  std::int32_t* output_ids;  // == input_ids + layout.input_ids()
  std::int32_t* counts;      // context words of each row [rows]
  float* labels;
  float* mask;
  // The repeat cap's scale of each input id's gradient row, then each output id's.
  float* row_scale;
  static BatchView carve(void* block, const BatchLayout& layout);
};

struct PackResult : PackedWords {
  std::size_t rows = 0;  // rows written, from 0
  // What a trainer's loss is averaged over: (center, context) pairs for skip-gram, centers
  // for CBOW.
  std::uint64_t examples = 0;
  bool empty() const { return rows == 0; }
};

class BatchPacker {
 public:
  // Walks `range` of the corpus `config.epochs` times with its own RNG stream `seed`.
  BatchPacker(const TrainConfig& config, const EncodedCorpus& corpus, const SamplingTables& tables,
              CorpusRange range, std::uint64_t seed);

  // Fills the rows of a batch of `layout`'s shape (its ids, counts, labels and mask; not the
  // row scales), continuing where the last call stopped.
  PackResult fill(const BatchLayout& layout, const BatchView& batch);
  // Where the walk stands: the stream, and the sentence being packed with its next center.
  WalkerState state() const;
  void restore(const WalkerState& walker);

 private:
  // Calls row(r, i, lo, hi) for each center i of the sentences read, with its window [lo, hi]
  // and r its first row, which returns the rows it wrote (at most `most_per_center`), while
  // that many rows are free or until the range is done.
  template <class Row>
  PackResult fill_rows(std::size_t capacity, std::size_t most_per_center, Row&& row);
  PackResult fill_skipgram(const BatchLayout& layout, const BatchView& batch);
  PackResult fill_pairs(const BatchLayout& layout, const BatchView& batch);
  // Rows from `rows` on: padding that trains nothing.
  void pad_skipgram_rows(const BatchLayout& layout, const BatchView& batch, std::size_t rows);
  // Writes a skip-gram row's noise words after its first `contexts` slots (each context
  // word's `negative_` in turn) and pads the row from there.
  void draw_noise(std::int32_t* targets, float* labels, float* mask, std::size_t contexts,
                  std::size_t slots);
  PackResult fill_cbow(const BatchLayout& layout, const BatchView& batch);

  SentenceStream stream_;
  std::size_t vocab_;
  const AliasTable& noise_;
  std::uint32_t window_, negative_;
  std::int32_t target_padding_;
  std::vector<std::uint32_t> sentence_;
  std::size_t center_ = 0;  // next center of sentence_
};

// Fills BatchView::row_scale for --repeat-cap: an id that occurs k > cap times among the rows
// a batch updates in one table (both ids when tied; a skip-gram center under --loss ns counts
// once per context word) scales each of its gradient rows by cap/k,
// so that its summed step is at most cap single steps: without it, the few hundred hits of a
// frequent noise word in a batch add up to a step that overshoots and diverges. Slots without
// a gradient (padding, masked noise) do not count and get 0, with or without a cap (cap 0:
// the others get 1), so that the scatters skip them (include/w2v/kernels/ops.h): padding
// slots share one id, and zero gradients into it were most of a batch's atomics on a GPU.
// A real row's slots in use are
// its first counts[r] inputs (CBOW; skip-gram: its center) and its first counts[r] (1 +
// negative) outputs (skip-gram; CBOW: all of them), those with a mask carrying a gradient.
class RepeatCap {
 public:
  RepeatCap(std::size_t vocab, std::uint32_t cap, bool tied)
      : counts_(vocab), cap_(cap), tied_(tied) {}
  void apply(const BatchLayout& layout, const BatchView& batch, std::size_t rows);

 private:
  // Per word its occurrences in the slots counted so far; zero between batches (each count
  // ends by zeroing the ids it saw).
  std::vector<std::uint32_t> counts_;
  std::uint32_t cap_;
  bool tied_;
};

// Packs the next batch into a host block, row scales included.
PackResult pack_batch(BatchPacker& packer, RepeatCap& cap, const BatchLayout& layout, void* block);

// What a batch's summed row losses are divided by for the reported loss: (center, context)
// pairs for skip-gram (centers under --loss bce, whose loss is per center), centers for CBOW;
// the CPU trainer reports the same quantities.
inline std::uint64_t loss_count(const BatchLayout& layout, const PackResult& packed) {
  return layout.loss == LossKind::kFullBce && !layout.cbow() ? packed.rows : packed.examples;
}

}  // namespace w2v
