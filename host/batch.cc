#include "w2v/batch.h"

#include <algorithm>

namespace w2v {

BatchPacker::BatchPacker(const TrainConfig& config, const EncodedCorpus& corpus,
                         const SamplingTables& tables, CorpusRange range, std::uint64_t seed)
    : entries_(corpus.entries()),
      keep_(tables.keep.data()),
      noise_(tables.noise),
      range_(range),
      window_(config.window),
      negative_(config.loss == LossKind::kNegativeSampling ? config.negative : 0),
      epochs_(config.epochs),
      target_padding_(config.loss == LossKind::kNegativeSampling ? 0 : -1),
      rng_(seed),
      position_(range.begin) {
  sentence_.reserve(kMaxSentenceTokens);
}

bool BatchPacker::next_sentence(std::uint64_t& words) {
  sentence_.clear();
  center_ = 0;
  while (sentence_.empty()) {
    if (position_ >= range_.end) {
      if (++epoch_ >= epochs_) return false;
      position_ = range_.begin;
    }
    position_ = read_sentence(entries_, position_, range_.end, keep_, rng_, sentence_, words);
    if (sentence_.size() < 2) sentence_.clear();  // no context: no example
  }
  return true;
}

template <class Row>
PackResult BatchPacker::fill_rows(std::size_t capacity, Row&& row) {
  PackResult r;
  while (r.rows < capacity) {
    if (center_ >= sentence_.size() && !next_sentence(r.words)) {
      r.finished = true;
      break;
    }
    const std::size_t n = sentence_.size(), i = center_++;
    const std::size_t b = draw_window(rng_, window_);
    const std::size_t lo = i >= b ? i - b : 0, hi = std::min(n - 1, i + b);
    row(r.rows++, i, lo, hi);
  }
  return r;
}

PackResult BatchPacker::fill(const SkipGramBatch& batch) {
  const std::size_t slots = skipgram_slots();
  std::uint64_t pairs = 0;
  PackResult result =
      fill_rows(batch.capacity, [&](std::size_t r, std::size_t i, std::size_t lo, std::size_t hi) {
        std::int32_t* targets = batch.targets + r * slots;
        float* labels = batch.labels + r * slots;
        float* mask = batch.mask + r * slots;
        std::fill(targets, targets + slots, target_padding_);
        std::fill(labels, labels + slots, 0.0f);
        std::fill(mask, mask + slots, 0.0f);
        batch.centers[r] = static_cast<std::int32_t>(sentence_[i]);
        std::size_t c = 0;
        for (std::size_t j = lo; j <= hi; ++j) {
          if (j == i) continue;
          targets[c] = static_cast<std::int32_t>(sentence_[j]);
          labels[c] = mask[c] = 1.0f;
          ++c;
        }
        pairs += c;
        for (std::size_t k = 0; k < c; ++k) {
          for (std::uint32_t m = 0; m < negative_; ++m) {
            const std::size_t s = c + k * negative_ + m;
            const std::uint32_t w = noise_.sample(rng_);
            targets[s] = static_cast<std::int32_t>(w);
            mask[s] = w == static_cast<std::uint32_t>(targets[k]) ? 0.0f : 1.0f;
          }
        }
      });
  result.examples = pairs;
  for (std::size_t r = result.rows; r < batch.capacity; ++r) {
    batch.centers[r] = 0;
    std::fill_n(batch.targets + r * slots, slots, target_padding_);
    std::fill_n(batch.labels + r * slots, slots, 0.0f);
    std::fill_n(batch.mask + r * slots, slots, 0.0f);
  }
  return result;
}

PackResult BatchPacker::fill(const CbowBatch& batch) {
  const std::size_t context_slots = cbow_context_slots(), target_slots = cbow_target_slots();
  PackResult result =
      fill_rows(batch.capacity, [&](std::size_t r, std::size_t i, std::size_t lo, std::size_t hi) {
        std::int32_t* contexts = batch.contexts + r * context_slots;
        std::fill(contexts, contexts + context_slots, 0);
        std::int32_t count = 0;
        for (std::size_t j = lo; j <= hi; ++j)
          if (j != i) contexts[count++] = static_cast<std::int32_t>(sentence_[j]);
        batch.counts[r] = count;
        std::int32_t* targets = batch.targets + r * target_slots;
        float* labels = batch.labels + r * target_slots;
        float* mask = batch.mask + r * target_slots;
        targets[0] = static_cast<std::int32_t>(sentence_[i]);
        labels[0] = mask[0] = 1.0f;
        for (std::size_t s = 1; s < target_slots; ++s) {
          const std::uint32_t w = noise_.sample(rng_);
          targets[s] = static_cast<std::int32_t>(w);
          labels[s] = 0.0f;
          mask[s] = w == sentence_[i] ? 0.0f : 1.0f;
        }
      });
  result.examples = result.rows;
  for (std::size_t r = result.rows; r < batch.capacity; ++r) {
    std::fill_n(batch.contexts + r * context_slots, context_slots, 0);
    batch.counts[r] = 0;
    std::fill_n(batch.targets + r * target_slots, target_slots, target_padding_);
    std::fill_n(batch.labels + r * target_slots, target_slots, 0.0f);
    std::fill_n(batch.mask + r * target_slots, target_slots, 0.0f);
  }
  return result;
}

}  // namespace w2v
