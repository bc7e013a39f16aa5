#include "gpu/modular_batch.h"

#include <algorithm>
#include <limits>

#include "w2v/error.h"

namespace w2v {

BatchLayout BatchLayout::for_config(const TrainConfig& c) {
  BatchLayout l;
  l.model = c.model;
  l.loss = c.loss;
  l.rows = c.batch_rows();
  const std::uint32_t negative = l.ns() ? c.negative : 0;
  l.negative = negative;
  l.pairs = c.pair_rows();
  if (l.cbow()) {
    l.inputs = 2 * c.window;
    l.outputs = 1 + negative;
  } else if (l.pairs) {
    l.inputs = 1;
    l.outputs = 1 + negative;
  } else {
    l.inputs = 1;
    l.outputs = 2 * c.window * (1 + negative);
  }
  return l;
}

BatchView BatchView::carve(void* block, const BatchLayout& l) {
  auto* ids = static_cast<std::int32_t*>(block);
  BatchView v;
  v.input_ids = ids;
  v.output_ids = v.input_ids + l.input_ids();
  v.counts = v.output_ids + l.output_ids();
  v.labels = reinterpret_cast<float*>(v.counts + l.rows);
  v.mask = v.labels + l.output_ids();
  v.row_scale = v.mask + l.output_ids();
  return v;
}

BatchPacker::BatchPacker(const TrainConfig& config, const EncodedCorpus& corpus,
                         const SamplingTables& tables, CorpusRange range, std::uint64_t seed)
    : stream_(corpus, tables, range, config.epochs, seed),
      vocab_(tables.keep.size()),
      noise_(tables.noise),
      window_(config.window),
      negative_(config.loss == LossKind::kNegativeSampling ? config.negative : 0),
      target_padding_(config.loss == LossKind::kNegativeSampling ? 0 : -1) {
  sentence_.reserve(kMaxSentenceTokens);
}

WalkerState BatchPacker::state() const {
  WalkerState s = stream_.state();
  s.sentence = sentence_;
  s.next_center = static_cast<std::uint32_t>(center_);
  return s;
}

void BatchPacker::restore(const WalkerState& s) {
  if (!stream_.valid_state(s, vocab_))
    throw Error("--resume: a sampler's corpus position in the checkpoint is outside its slice "
                "(corrupt)");
  stream_.restore(s);
  sentence_ = s.sentence;
  center_ = s.next_center;
}

template <class Row>
PackResult BatchPacker::fill_rows(std::size_t capacity, std::size_t most_per_center, Row&& row) {
  PackResult r;
  while (r.rows + most_per_center <= capacity) {
    if (center_ >= sentence_.size()) {
      center_ = 0;
      if (!stream_.next_with_context(sentence_, r.words)) {
        r.finished = true;
        break;
      }
    }
    const std::size_t n = sentence_.size(), i = center_++;
    const std::size_t b = draw_window(stream_.rng(), window_);
    const std::size_t lo = i >= b ? i - b : 0, hi = std::min(n - 1, i + b);
    r.rows += row(r.rows, i, lo, hi);
  }
  return r;
}

PackResult BatchPacker::fill(const BatchLayout& layout, const BatchView& batch) {
  if (layout.cbow()) return fill_cbow(layout, batch);
  return layout.pairs ? fill_pairs(layout, batch) : fill_skipgram(layout, batch);
}

void BatchPacker::draw_noise(std::int32_t* targets, float* labels, float* mask,
                             std::size_t contexts, std::size_t slots) {
  Rng& rng = stream_.rng();
  std::size_t s = contexts;
  for (std::size_t k = 0; k < contexts; ++k) {
    for (std::uint32_t m = 0; m < negative_; ++m, ++s) {
      const std::uint32_t w = noise_.sample(rng);
      targets[s] = static_cast<std::int32_t>(w);
      labels[s] = 0.0f;
      mask[s] = noise_word_used(w, static_cast<std::uint32_t>(targets[k])) ? 1.0f : 0.0f;
    }
  }
  // Each slot is written once: a batch's block is larger than a core's cache.
  std::fill(targets + s, targets + slots, target_padding_);
  std::fill(labels + s, labels + slots, 0.0f);
  std::fill(mask + s, mask + slots, 0.0f);
}

PackResult BatchPacker::fill_skipgram(const BatchLayout& layout, const BatchView& batch) {
  const std::size_t slots = layout.outputs;
  std::uint64_t pairs = 0;
  PackResult result =
      fill_rows(layout.rows, 1, [&](std::size_t r, std::size_t i, std::size_t lo, std::size_t hi) {
        std::int32_t* targets = batch.output_ids + r * slots;
        float* labels = batch.labels + r * slots;
        float* mask = batch.mask + r * slots;
        batch.input_ids[r] = static_cast<std::int32_t>(sentence_[i]);
        std::size_t c = 0;
        for (std::size_t j = lo; j <= hi; ++j) {
          if (j == i) continue;
          targets[c] = static_cast<std::int32_t>(sentence_[j]);
          labels[c] = mask[c] = 1.0f;
          ++c;
        }
        pairs += c;
        batch.counts[r] = static_cast<std::int32_t>(c);
        draw_noise(targets, labels, mask, c, slots);
        return std::size_t{1};
      });
  result.examples = pairs;
  pad_skipgram_rows(layout, batch, result.rows);
  return result;
}

// The same examples as fill_skipgram, the same draws in the same order (a center's window,
// then for each context word its noise words), a row per pair.
PackResult BatchPacker::fill_pairs(const BatchLayout& layout, const BatchView& batch) {
  const std::size_t slots = layout.outputs;
  PackResult result =
      fill_rows(layout.rows, 2 * std::size_t{window_},  // a center's most pairs
                [&](std::size_t r, std::size_t i, std::size_t lo, std::size_t hi) {
                  std::size_t pairs = 0;
                  for (std::size_t j = lo; j <= hi; ++j) {
                    if (j == i) continue;
                    const std::size_t row = r + pairs++;
                    batch.input_ids[row] = static_cast<std::int32_t>(sentence_[i]);
                    batch.counts[row] = 1;
                    batch.output_ids[row * slots] = static_cast<std::int32_t>(sentence_[j]);
                    batch.labels[row * slots] = batch.mask[row * slots] = 1.0f;
                  }
                  for (std::size_t k = 0; k < pairs; ++k) {
                    const std::size_t at = (r + k) * slots;
                    draw_noise(batch.output_ids + at, batch.labels + at, batch.mask + at, 1, slots);
                  }
                  return pairs;
                });
  result.examples = result.rows;
  pad_skipgram_rows(layout, batch, result.rows);
  return result;
}

void BatchPacker::pad_skipgram_rows(const BatchLayout& layout, const BatchView& batch,
                                    std::size_t rows) {
  const std::size_t slots = layout.outputs;
  for (std::size_t r = rows; r < layout.rows; ++r) {
    batch.input_ids[r] = 0;
    batch.counts[r] = 0;
    std::fill_n(batch.output_ids + r * slots, slots, target_padding_);
    std::fill_n(batch.labels + r * slots, slots, 0.0f);
    std::fill_n(batch.mask + r * slots, slots, 0.0f);
  }
}

PackResult BatchPacker::fill_cbow(const BatchLayout& layout, const BatchView& batch) {
  const std::size_t context_slots = layout.inputs, target_slots = layout.outputs;
  Rng& rng = stream_.rng();
  PackResult result =
      fill_rows(layout.rows, 1, [&](std::size_t r, std::size_t i, std::size_t lo, std::size_t hi) {
        std::int32_t* contexts = batch.input_ids + r * context_slots;
        std::int32_t count = 0;
        for (std::size_t j = lo; j <= hi; ++j)
          if (j != i) contexts[count++] = static_cast<std::int32_t>(sentence_[j]);
        std::fill(contexts + count, contexts + context_slots, 0);
        batch.counts[r] = count;
        std::int32_t* targets = batch.output_ids + r * target_slots;
        float* labels = batch.labels + r * target_slots;
        float* mask = batch.mask + r * target_slots;
        targets[0] = static_cast<std::int32_t>(sentence_[i]);
        labels[0] = mask[0] = 1.0f;
        for (std::size_t s = 1; s < target_slots; ++s) {
          const std::uint32_t w = noise_.sample(rng);
          targets[s] = static_cast<std::int32_t>(w);
          labels[s] = 0.0f;
          mask[s] = noise_word_used(w, sentence_[i]) ? 1.0f : 0.0f;
        }
        return std::size_t{1};
      });
  result.examples = result.rows;
  for (std::size_t r = result.rows; r < layout.rows; ++r) {
    std::fill_n(batch.input_ids + r * context_slots, context_slots, 0);
    batch.counts[r] = 0;
    std::fill_n(batch.output_ids + r * target_slots, target_slots, target_padding_);
    std::fill_n(batch.labels + r * target_slots, target_slots, 0.0f);
    std::fill_n(batch.mask + r * target_slots, target_slots, 0.0f);
  }
  return result;
}

void RepeatCap::apply(const BatchLayout& l, const BatchView& v, std::size_t rows) {
  const std::size_t n_in = l.input_ids(), n_out = l.output_ids();
  auto inputs_of = [&](std::size_t r) {
    return l.cbow() ? static_cast<std::size_t>(v.counts[r]) : std::size_t{1};
  };
  auto outputs_of = [&](std::size_t r) {
    return l.cbow() ? std::size_t{l.outputs}
                    : static_cast<std::size_t>(v.counts[r]) * (1 + l.negative);
  };
  // A skip-gram center's row carries the summed steps of its counts[r] (center, context)
  // pairs, so under --loss ns it counts as that many: the cap then bounds the same steps
  // whether a batch holds centers or pairs (--sg-rows pair).
  const bool center_counts_pairs = !l.cbow() && l.ns();
  auto input_weight = [&](std::size_t r) {
    return center_counts_pairs ? static_cast<std::uint32_t>(v.counts[r]) : 1u;
  };
  // Counting and zeroing visit only the slots in use: padding slots all hold one id, whose
  // count would be a chain of dependent increments. each_input(f) calls f(id, weight) for each
  // input slot in use, each_output(f) f(id, mask) for each output slot in use. Without a cap
  // they visit nothing, and every count reads as 0: the scales are 1 and 0.
  const bool counting = cap_ > 0;
  auto each_input = [&](auto&& f) {
    if (!counting) return;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t s = 0, n = inputs_of(r); s < n; ++s)
        f(v.input_ids[r * l.inputs + s], input_weight(r));
  };
  auto each_output = [&](auto&& f) {
    if (!counting) return;
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t s = 0, at = r * l.outputs, n = outputs_of(r); s < n; ++s)
        f(v.output_ids[at + s], v.mask[at + s]);
  };
  auto count_inputs = [&] {
    each_input([&](std::int32_t id, std::uint32_t weight) { counts_[id] += weight; });
  };
  auto count_outputs = [&] {
    each_output([&](std::int32_t id, float mask) { counts_[id] += mask != 0.0f; });
  };
  auto zero_inputs = [&] { each_input([&](std::int32_t id, std::uint32_t) { counts_[id] = 0; }); };
  auto zero_outputs = [&] { each_output([&](std::int32_t id, float) { counts_[id] = 0; }); };
  // Every slot of the real rows reads its id's count, used or not (a count of 0 reads as 1),
  // and a slot without a gradient multiplies it by 0: no branches, so the loops vectorise
  // (gathers). A comparison of the mask with 0 would stop that (it may trap on a NaN), so the
  // output slots multiply by their mask, which is 0 or 1.
  const std::uint32_t* counts = counts_.data();
  const float cap = counting ? static_cast<float>(cap_) : std::numeric_limits<float>::infinity();
  auto scale = [counts, cap](std::int32_t id) {
    const std::uint32_t n = counts[id];
    const float k = cap / static_cast<float>(n > 1u ? n : 1u);
    return k < 1.0f ? k : 1.0f;
  };
  auto weigh_inputs = [&] {
    if (l.cbow()) {
      for (std::size_t r = 0; r < rows; ++r) {
        const std::int32_t* ids = v.input_ids + r * l.inputs;
        float* out = v.row_scale + r * l.inputs;
        const auto n = static_cast<std::uint32_t>(v.counts[r]);
#pragma omp simd
        for (std::uint32_t s = 0; s < l.inputs; ++s)
          out[s] = scale(ids[s]) * static_cast<float>(s < n);
      }
    } else {
#pragma omp simd
      for (std::size_t r = 0; r < rows; ++r) v.row_scale[r] = scale(v.input_ids[r]);
    }
    std::fill(v.row_scale + rows * l.inputs, v.row_scale + n_in, 0.0f);
  };
  // Skip-gram rows weigh only their slots in use (about 60% of them at window 5); every CBOW
  // slot of a real row is in use, so those are weighed in one loop.
  auto weigh_outputs = [&] {
    if (l.cbow()) {
      float* out = v.row_scale + n_in;
      const std::int32_t* ids = v.output_ids;
      const float* mask = v.mask;
#pragma omp simd
      for (std::size_t i = 0; i < rows * l.outputs; ++i) out[i] = scale(ids[i]) * mask[i];
      std::fill(out + rows * l.outputs, out + n_out, 0.0f);
      return;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      const std::size_t at = r * l.outputs, n = outputs_of(r);
      const std::int32_t* ids = v.output_ids + at;
      const float* mask = v.mask + at;
      float* out = v.row_scale + n_in + at;
#pragma omp simd
      for (std::size_t s = 0; s < n; ++s) out[s] = scale(ids[s]) * mask[s];
      std::fill(out + n, out + l.outputs, 0.0f);
    }
    std::fill(v.row_scale + n_in + rows * l.outputs, v.row_scale + n_in + n_out, 0.0f);
  };
  count_inputs();
  if (!l.ns()) {  // only the input rows are scattered
    weigh_inputs();
    zero_inputs();
    std::fill_n(v.row_scale + n_in, n_out, 1.0f);
    return;
  }
  // Tied: one table, so input and output occurrences of a word count together.
  if (!tied_) {
    weigh_inputs();
    zero_inputs();
  }
  count_outputs();
  weigh_outputs();
  if (tied_) {
    weigh_inputs();
    zero_inputs();
  }
  zero_outputs();
}

PackResult pack_batch(BatchPacker& packer, RepeatCap& cap, const BatchLayout& layout, void* block) {
  const BatchView v = BatchView::carve(block, layout);
  const PackResult result = packer.fill(layout, v);
  cap.apply(layout, v, result.rows);
  return result;
}

}  // namespace w2v
