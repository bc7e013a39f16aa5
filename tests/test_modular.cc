// The modular (batched) training path: batch layout, repeat cap, memory prediction, and the
// step and pipeline code run on the CPU references (as CI can); then, on a GPU, the same
// batches through the CUDA kernels against the CPU references, learning, determinism and
// the pipeline against its host twin. GPU tests skip with "no CUDA device" without one.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstddef>
#include <map>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "gpu/fused_path.h"
#include "gpu/host_ops.h"
#include "gpu/memory_plan.h"
#include "gpu/modular_batch.h"
#include "gpu/modular_step.h"
#include "support/modular_batches.h"
#include "support/require_gpu.h"
#include "support/training.h"
#include "w2v/error.h"
#include "w2v/trainer.h"
#ifdef W2V_HAVE_CUDA
#include "gpu/cuda_ops.h"
#endif

namespace w2v {
namespace {

using test::base_config;
using test::kText8;
using test::train_prefix;
using test::Trained;

TEST(BatchLayout, ShapesFollowTheConfig) {
  TrainConfig c;
  c.window = 3;
  c.negative = 4;
  c.batch = 10;
  BatchLayout sg = BatchLayout::for_config(c);
  EXPECT_EQ(sg.rows, 10u);
  EXPECT_EQ(sg.inputs, 1u);
  EXPECT_EQ(sg.outputs, 2u * 3 * (1 + 4));
  c.model = ModelKind::kCbow;
  BatchLayout cbow = BatchLayout::for_config(c);
  EXPECT_EQ(cbow.inputs, 6u);
  EXPECT_EQ(cbow.outputs, 5u);
  c.loss = LossKind::kSoftmax;
  EXPECT_EQ(BatchLayout::for_config(c).outputs, 1u);
  c.model = ModelKind::kSkipGram;
  EXPECT_EQ(BatchLayout::for_config(c).outputs, 6u);  // context words only
  // Output ids follow input ids (tied tables update both in one call); everything fits.
  std::vector<std::byte> block(sg.block_bytes());
  BatchView v = BatchView::carve(block.data(), sg);
  EXPECT_EQ(v.output_ids, v.input_ids + sg.input_ids());
  EXPECT_EQ(reinterpret_cast<char*>(v.row_scale + sg.input_ids() + sg.output_ids()),
            reinterpret_cast<char*>(block.data() + sg.block_bytes()));
}

// A hand-made batch: 3 skip-gram rows of 4 output slots, cap 2.
TEST(RepeatCap, ScalesRowsThatRepeatBeyondTheCap) {
  BatchLayout l;
  l.rows = 3;
  l.inputs = 1;
  l.outputs = 4;
  l.negative = 1;  // a row's c context words, each followed by a noise word
  // Bytes, as the real blocks are: ints and floats may live in them (a uint32_t vector would
  // make the float stores undefined, and GCC at -O3 does miscompile them).
  std::vector<std::byte> block(l.block_bytes());
  BatchView v = BatchView::carve(block.data(), l);
  const std::int32_t centers[] = {5, 5, 0};  // row 2 is padding
  const std::int32_t contexts[] = {2, 1, 0};
  const std::int32_t outputs[] = {7, 7, 7, 1, 7, 2, 0, 0, 0, 0, 0, 0};
  const float mask[] = {1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
  std::copy(std::begin(centers), std::end(centers), v.input_ids);
  std::copy(std::begin(contexts), std::end(contexts), v.counts);
  std::copy(std::begin(outputs), std::end(outputs), v.output_ids);
  std::copy(std::begin(mask), std::end(mask), v.mask);
  RepeatCap(10, 2, false).apply(l, v, 2);
  const std::vector<float> in(v.row_scale, v.row_scale + 3), out(v.row_scale + 3, v.row_scale + 15);
  // Center 5's two rows carry 3 (center, context) pairs' steps: over the cap.
  EXPECT_EQ(in, (std::vector<float>{2.0f / 3, 2.0f / 3, 0}));
  EXPECT_EQ(out, (std::vector<float>{0.5f, 0.5f, 0.5f, 1, 0.5f, 1, 0, 0, 0, 0, 0, 0}));
  // Tied: one table, so center 5 and output 7 count together only with their own ids; an id
  // used on both sides counts both.
  v.output_ids[3] = 5;
  RepeatCap(10, 2, true).apply(l, v, 2);
  EXPECT_FLOAT_EQ(v.row_scale[0], 0.5f);  // 5: three pairs as a center and one output
  EXPECT_FLOAT_EQ(v.row_scale[3 + 3], 0.5f);
  // A second batch starts from zero counts (else center 5 would count 6).
  RepeatCap reused(10, 2, false);
  reused.apply(l, v, 2);
  reused.apply(l, v, 2);
  EXPECT_FLOAT_EQ(v.row_scale[0], 2.0f / 3);
  // Cap 0: no scaling, but slots without a gradient still get 0, so that the scatters skip
  // them (the padding slots all hold id 0).
  v.mask[1] = 0.0f;  // a masked noise word
  RepeatCap(10, 0, false).apply(l, v, 2);
  EXPECT_EQ(std::vector<float>(v.row_scale, v.row_scale + 3), (std::vector<float>{1, 1, 0}));
  EXPECT_EQ(std::vector<float>(v.row_scale + 3, v.row_scale + 15),
            (std::vector<float>{1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0}));
}

// CBOW: a row's context slots count up to its count; the softmax and BCE losses scatter only
// the input rows, so their output scales stay 1.
TEST(RepeatCap, CountsCbowContextsWithinTheirCount) {
  BatchLayout l;
  l.model = ModelKind::kCbow;
  l.rows = 3;
  l.inputs = 4;
  l.outputs = 2;
  std::vector<std::byte> block(l.block_bytes());
  BatchView v = BatchView::carve(block.data(), l);
  const std::int32_t contexts[] = {4, 4, 6, 4, 4, 9, 9, 9, 0, 0, 0, 0};  // row 2 is padding
  const std::int32_t counts[] = {3, 2, 0};
  const std::int32_t targets[] = {1, 4, 2, 4, 0, 0};
  const float mask[] = {1, 1, 1, 0, 0, 0};
  std::copy(std::begin(contexts), std::end(contexts), v.input_ids);
  std::copy(std::begin(counts), std::end(counts), v.counts);
  std::copy(std::begin(targets), std::end(targets), v.output_ids);
  std::copy(std::begin(mask), std::end(mask), v.mask);
  RepeatCap(10, 2, false).apply(l, v, 2);
  // 4 is a context 3 times within the counts (the 4th slot of row 0 is past its count).
  const std::vector<float> in(v.row_scale, v.row_scale + 12);
  const float third = 2.0f / 3;
  EXPECT_EQ(in, (std::vector<float>{third, third, 1, 0, third, 1, 0, 0, 0, 0, 0, 0}));
  // Outputs: 4 once with a mask (its second slot is masked), 1 and 2 once.
  const std::vector<float> out(v.row_scale + 12, v.row_scale + 18);
  EXPECT_EQ(out, (std::vector<float>{1, 1, 1, 0, 0, 0}));
  l.loss = LossKind::kSoftmax;
  RepeatCap(10, 2, false).apply(l, v, 2);
  EXPECT_EQ(std::vector<float>(v.row_scale, v.row_scale + 12), in);
  EXPECT_EQ(std::vector<float>(v.row_scale + 12, v.row_scale + 18),
            (std::vector<float>{1, 1, 1, 1, 1, 1}));
}

TEST(MemoryPrediction, CountsWhatTheConfigNeeds) {
  TrainConfig c;
  c.dim = 100;
  c.batch = 1000;
  const std::size_t V = 50000;
  const StepBuffers sgd = StepBuffers::plan(BatchLayout::for_config(c), c, V);
  EXPECT_EQ(sgd.tables, 2u);
  EXPECT_EQ(sgd.table, V * 100);
  EXPECT_EQ(sgd.state_per_table, 0u);
  EXPECT_EQ(sgd.logits, 0u);
  c.optimizer = OptimizerKind::kAdam;
  c.tied = true;
  const StepBuffers adam = StepBuffers::plan(BatchLayout::for_config(c), c, V);
  EXPECT_EQ(adam.tables, 1u);
  EXPECT_EQ(adam.state_per_table, 2u);
  c.loss = LossKind::kSoftmax;
  const StepBuffers softmax = StepBuffers::plan(BatchLayout::for_config(c), c, V);
  EXPECT_EQ(softmax.logits, 1000 * V);
  std::size_t total = 0;
  for (const auto& part : softmax.parts(c.dim)) total += part.second;
  EXPECT_GT(total, (V * 100 * 3 + 1000 * V) * 4);  // embeddings, Adam's moments, logits
}

// A backend that counts the bytes a path allocates, slots included.
struct CountingOps : HostOps {
  std::size_t bytes = 0;
  template <class T>
  T* alloc(std::size_t n, bool zero = false) {
    bytes += n * sizeof(T);
    return HostOps::alloc<T>(n, zero);
  }
  Slot make_slot(std::size_t index, std::size_t block_bytes, std::size_t loss_floats) {
    bytes += block_bytes + loss_floats * sizeof(float);
    return HostOps::make_slot(index, block_bytes, loss_floats);
  }
};

// The memory plan is what each path allocates, to the byte: the modular step for a 10M-word
// vocabulary in every optimizer and tying, and for the vocabulary losses; the fused path. (The
// GPU backend adds only its sort and softmax workspace, a part of its own in the plan.)
TEST(MemoryPrediction, EqualsWhatEachPathAllocates) {
  constexpr std::size_t kSlots = 4;
  struct Case {
    LossKind loss;
    OptimizerKind optimizer;
    bool tied;
    std::size_t vocab;
  };
  for (const Case& k :
       {Case{LossKind::kNegativeSampling, OptimizerKind::kSgd, false, 10'000'000},
        Case{LossKind::kNegativeSampling, OptimizerKind::kAdam, true, 10'000'000},
        Case{LossKind::kNegativeSampling, OptimizerKind::kMomentum, false, 10'000'000},
        Case{LossKind::kSoftmax, OptimizerKind::kSgd, false, 5000},
        Case{LossKind::kFullBce, OptimizerKind::kNesterov, true, 5000}}) {
    for (ModelKind model : {ModelKind::kSkipGram, ModelKind::kCbow}) {
      TrainConfig c;
      c.model = model;
      c.loss = k.loss;
      c.optimizer = k.optimizer;
      c.tied = k.tied;
      c.dim = 4;
      c.batch = 64;
      CountingOps ops;
      const BatchLayout layout = BatchLayout::for_config(c);
      { ModularStep<CountingOps> step(ops, layout, c, k.vocab); }
      for (std::size_t s = 0; s < kSlots; ++s) ops.make_slot(s, layout.block_bytes(), layout.rows);
      const MemoryParts parts = modular_path_memory(c, k.vocab, kSlots, 0);
      EXPECT_EQ(total_bytes(parts), ops.bytes)
          << to_string(model) << "/" << to_string(k.loss) << "/" << to_string(k.optimizer)
          << (k.tied ? "/tied" : "") << " V " << k.vocab;
    }
  }
  // The fused path, on a vocabulary and tables of its own.
  test::TempDir dir;
  test::write_file(dir.file("t.txt"), "a b c d a b a e f g a b c\n");
  for (const bool tied : {false, true}) {
    TrainConfig c;
    c.min_count = 1;
    c.tied = tied;
    c.dim = 40;
    c.fused_tokens = kMaxSentenceTokens;
    const Vocab vocab = Vocab::build(dir.file("t.txt"), {}, 1, 0);
    EncodedCorpus::encode(dir.file("t.txt"), vocab, {}, dir.file("t.tokens"));
    const EncodedCorpus corpus(dir.file("t.tokens"), vocab);
    const SamplingTables tables = SamplingTables::build(vocab, c);
    const TrainJob job{c, vocab, corpus, tables};
    CountingOps ops;
    FusedPath<CountingOps> path(ops, job);
    for (std::size_t s = 0; s < kSlots; ++s)
      ops.make_slot(s, path.block_bytes(), path.loss_floats());
    EXPECT_EQ(total_bytes(fused_path_memory(c, vocab.size(), kSlots)), ops.bytes)
        << "fused" << (tied ? ", tied" : "");
  }
}

TEST(MemoryPrediction, TooLittleMemoryIsAClearError) {
  const MemoryParts parts = {{"embeddings", std::size_t(3) << 30},
                             {"logits", std::size_t(1) << 30}};
  EXPECT_NO_THROW(check_memory_fits(parts, std::size_t(5) << 30, "the GPU", "reduce --dim"));
  try {
    check_memory_fits(parts, std::size_t(2) << 30, "the GPU", "reduce --dim");
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("needs 4.00 GiB"), std::string::npos) << m;
    EXPECT_NE(m.find("has 2.00 GiB free"), std::string::npos) << m;
    EXPECT_NE(m.find("embeddings 3.00 GiB"), std::string::npos) << m;
    EXPECT_NE(m.find("free; reduce --dim"), std::string::npos) << m;
  }
}

// ---- The modular path on the CPU references.

// The first `bytes` of text8, its vocabulary (config's min-count and max-vocab), encoding and
// sampling tables.
struct SmallJob {
  test::TempDir dir;
  Vocab vocab;
  std::unique_ptr<EncodedCorpus> corpus;
  SamplingTables tables;
  explicit SmallJob(const TrainConfig& c, std::size_t bytes) {
    const std::string text = dir.file("part.txt");
    test::write_file(text, test::read_file(kText8).substr(0, bytes));
    vocab = Vocab::build(text, {}, c.min_count, c.max_vocab);
    EncodedCorpus::encode(text, vocab, {}, dir.file("c.tokens"));
    corpus = std::make_unique<EncodedCorpus>(dir.file("c.tokens"), vocab);
    tables = SamplingTables::build(vocab, c);
  }
};

// What RepeatCap::apply must write, counted slot by slot into a map: the weigh passes are
// vectorised (gathers, masked tails at a row's length), and only full-size batches of real
// rows reach every tail length.
std::vector<float> plain_row_scales(const BatchLayout& l, const BatchView& v, std::size_t rows,
                                    std::uint32_t cap, bool tied) {
  const std::size_t n_in = l.input_ids(), n_out = l.output_ids();
  auto input_used = [&](std::size_t slot) {
    const std::size_t r = slot / l.inputs, s = slot % l.inputs;
    return r < rows && s < (l.cbow() ? static_cast<std::size_t>(v.counts[r]) : 1u);
  };
  auto output_used = [&](std::size_t slot) {
    const std::size_t r = slot / l.outputs, s = slot % l.outputs;
    const std::size_t n = l.cbow() ? l.outputs : v.counts[r] * (1 + l.negative);
    return r < rows && s < n && v.mask[slot] != 0.0f;
  };
  std::map<std::int32_t, std::uint32_t> in_counts, out_counts;
  std::map<std::int32_t, std::uint32_t>& out_side = tied ? in_counts : out_counts;
  // A skip-gram center row under --loss ns counts once per (center, context) pair.
  const bool count_pairs = l.ns() && !l.cbow();
  for (std::size_t i = 0; i < n_in; ++i)
    if (input_used(i)) in_counts[v.input_ids[i]] += count_pairs ? v.counts[i / l.inputs] : 1;
  if (l.ns())
    for (std::size_t i = 0; i < n_out; ++i)
      if (output_used(i)) ++out_side[v.output_ids[i]];
  auto scale = [cap](std::uint32_t k) {
    return cap == 0 || k <= cap ? 1.0f : static_cast<float>(cap) / static_cast<float>(k);
  };
  std::vector<float> want(n_in + n_out);
  for (std::size_t i = 0; i < n_in; ++i)
    want[i] = input_used(i) ? scale(in_counts[v.input_ids[i]]) : 0.0f;
  for (std::size_t i = 0; i < n_out; ++i)
    want[n_in + i] = !l.ns() ? 1.0f : output_used(i) ? scale(out_side[v.output_ids[i]]) : 0.0f;
  return want;
}

// The first slot of a --loss ns batch whose label or mask breaks the packer's row shape
// (skip-gram: a row's contexts, then `negative` noise words for each, then padding; CBOW: the
// center, then its noise words), or the output slot count if none does.
std::size_t first_misshapen_slot(const BatchLayout& l, const BatchView& v, std::size_t rows) {
  for (std::size_t r = 0; r < l.rows; ++r) {
    const std::size_t at = r * l.outputs;
    const std::size_t contexts = r >= rows ? 0 : l.cbow() ? 1 : v.counts[r];
    const std::size_t used = r >= rows ? 0 : l.cbow() ? l.outputs : contexts * (1 + l.negative);
    for (std::size_t s = 0; s < l.outputs; ++s) {
      const std::int32_t id = v.output_ids[at + s];
      const bool positive = s < contexts, noise = !positive && s < used;
      const std::int32_t its_positive = noise ? v.output_ids[at + (s - contexts) / l.negative] : -1;
      const float want_label = positive ? 1.0f : 0.0f;
      const float want_mask = positive || (noise && id != its_positive) ? 1.0f : 0.0f;
      if (v.labels[at + s] != want_label || v.mask[at + s] != want_mask) return at + s;
    }
  }
  return l.output_ids();
}

// Real batches at the trainer's shapes (window 5, negative 5, a partial last batch): their
// rows are well formed, and every cap, tied or not, scales them as the plain count, slot by
// slot.
TEST(RepeatCap, MatchesAPlainCountOnPackedBatches) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = base_config();
  c.epochs = 1;
  const SmallJob data(c, 60'000);
  struct Shape {
    const char* name;
    ModelKind model;
    SkipGramRows rows;
    LossKind loss;
    std::uint32_t batch;
  };
  for (const Shape& shape :
       {Shape{"sg", ModelKind::kSkipGram, SkipGramRows::kCenter, LossKind::kNegativeSampling, 256},
        Shape{"sg pairs", ModelKind::kSkipGram, SkipGramRows::kPair, LossKind::kNegativeSampling,
              1536},
        Shape{"cbow", ModelKind::kCbow, SkipGramRows::kCenter, LossKind::kNegativeSampling, 256},
        Shape{"sg softmax", ModelKind::kSkipGram, SkipGramRows::kCenter, LossKind::kSoftmax, 64}})
    for (const bool tied : {false, true})
      for (const std::uint32_t cap : {0u, 1u, 3u, 32u}) {
        SCOPED_TRACE(std::string(shape.name) + (tied ? " tied" : "") + " cap " +
                     std::to_string(cap));
        c.model = shape.model;
        c.sg_rows = shape.rows;
        c.loss = shape.loss;
        c.batch = shape.batch;
        c.tied = tied;
        const BatchLayout l = BatchLayout::for_config(c);
        BatchPacker packer(c, *data.corpus, data.tables, {0, data.corpus->entry_count()}, 11);
        RepeatCap repeat_cap(data.vocab.size(), cap, tied);
        std::vector<std::byte> block(l.block_bytes());
        const BatchView v = BatchView::carve(block.data(), l);
        std::size_t batches = 0;
        for (bool last = false; !last; ++batches) {
          const PackResult packed = packer.fill(l, v);
          last = packed.finished;
          if (l.ns()) {
            ASSERT_EQ(first_misshapen_slot(l, v, packed.rows), l.output_ids())
                << "batch " << batches << " (" << packed.rows << " rows)";
          }
          repeat_cap.apply(l, v, packed.rows);
          const std::vector<float> got(v.row_scale, v.row_scale + l.input_ids() + l.output_ids());
          const std::vector<float> want = plain_row_scales(l, v, packed.rows, cap, tied);
          const std::size_t first = static_cast<std::size_t>(
              std::mismatch(got.begin(), got.end(), want.begin()).first - got.begin());
          ASSERT_EQ(first, got.size())
              << "batch " << batches << " (" << packed.rows << " rows): slot " << first << " of "
              << l.input_ids() << " input + " << l.output_ids() << " output slots has "
              << got[first] << " instead of " << want[first];
        }
        EXPECT_GT(batches, 3u);
      }
}

void train_modular_host(const TrainJob& job, Model& model, Progress& progress) {
  train_modular_on_host(job, model, progress);
}

// A 4 MB corpus gives a batch of 1024 centers too few steps; 256 learns in 3 epochs. On a GPU
// these tests train the modular path, which --loss ns would otherwise leave for the fused one.
TrainConfig modular_config() {
  TrainConfig c = base_config();
  c.alpha = 0.05;
  c.batch = 256;
  c.sampler_threads = 2;
  c.gpu_path = GpuPathKind::kModular;
  return c;
}

TEST(ModularOnHost, TheModularTestsConfigTakesTheModularPath) {
  EXPECT_FALSE(use_fused_path(modular_config()));
  TrainConfig cbow = modular_config();
  cbow.model = ModelKind::kCbow;
  EXPECT_FALSE(use_fused_path(cbow));
  // Pair rows shape the modular path's batches: --gpu-path auto takes it for them.
  TrainConfig pairs = base_config();
  EXPECT_TRUE(use_fused_path(pairs));
  pairs.sg_rows = SkipGramRows::kPair;
  EXPECT_FALSE(use_fused_path(pairs));
}

// The modular path with a pack that holds its sampler a while and records how many samplers
// pack at once.
std::atomic<int> g_packing{0}, g_most_packing{0};
template <class Ops>
class SlowPackPath : public ModularPath<Ops> {
 public:
  using ModularPath<Ops>::ModularPath;
  PackResult pack(typename ModularPath<Ops>::Packer& packer, void* block) const {
    const int now = ++g_packing;
    for (int most = g_most_packing.load();
         now > most && !g_most_packing.compare_exchange_weak(most, now);) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const PackResult r = ModularPath<Ops>::pack(packer, block);
    --g_packing;
    return r;
  }
};

// A device faster than the packing: every sampler has a slot to fill at once (with a fixed
// four slots, of 7 samplers at most 4 packed).
TEST(Pipeline, EverySamplerHasASlotToFill) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  c.dim = 8;
  c.epochs = 1;
  c.sampler_threads = 7;
  for (const std::size_t slots : {std::size_t{4}, pipeline_slots(7)}) {
    g_most_packing = 0;
    train_prefix(c, 300'000, [&](const TrainJob& job, Model& model, Progress& progress) {
      HostOps ops;
      train_with_path<SlowPackPath>(ops, job, model, progress, slots);
    });
    EXPECT_EQ(g_most_packing.load(), slots == 4 ? 4 : 7) << slots << " slots";
  }
}

// A backend that counts the batches abandoned, and a path whose third step throws.
struct AbandonCountingOps : HostOps {
  int abandoned = 0;
  void abandon_batch(Slot&) { ++abandoned; }
};
template <class Ops>
class ThirdStepThrowsPath : public ModularPath<Ops> {
 public:
  using ModularPath<Ops>::ModularPath;
  void step(void* block, const PackResult& packed, BatchRate rate, float* loss) {
    if (++steps_ == 3) throw Error("the third step failed");
    ModularPath<Ops>::step(block, packed, rate, loss);
  }

 private:
  int steps_ = 0;
};

// A step that throws: its batch is abandoned on the driver thread, the one that began it (a
// GPU's step capture can end only there), and its error reaches the caller.
TEST(Pipeline, AStepThatThrowsIsAbandonedAndReported) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  c.dim = 8;
  c.epochs = 1;
  AbandonCountingOps ops;
  try {
    train_prefix(c, 300'000, [&](const TrainJob& job, Model& model, Progress& progress) {
      train_with_path<ThirdStepThrowsPath>(ops, job, model, progress, 4);
    });
    ADD_FAILURE() << "the step's error was lost";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the third step failed");
  }
  EXPECT_EQ(ops.abandoned, 1);
}

TEST(ModularOnHost, SkipGramLearns) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  Trained t = train_prefix(c, 4'000'000, train_modular_host);
  EXPECT_EQ(t.stats.words, 3 * t.vocab.total_count()) << "every token, every epoch";
  test::expect_learned(t, c);
}

// --sg-rows pair: the same examples a pair a row, 256 x 6 pairs a batch to match the centers'
// batch; the twin learns as with center rows.
TEST(ModularOnHost, SkipGramPairRowsLearn) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  c.sg_rows = SkipGramRows::kPair;
  c.batch = 6 * 256;
  Trained t = train_prefix(c, 4'000'000, train_modular_host);
  EXPECT_EQ(t.stats.words, 3 * t.vocab.total_count()) << "every token, every epoch";
  test::expect_learned(t, c);
}

TEST(ModularOnHost, CbowLearns) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  c.model = ModelKind::kCbow;
  c.alpha = 0.05;
  c.epochs = 5;
  test::expect_learned(train_prefix(c, 4'000'000, train_modular_host), c);
}

// The vocabulary losses at their defaults (rate, batch). Every center's loss changes every
// output row, and a batch sums its centers' changes into one step: with 1024 centers a step
// (the batch of --loss ns) the output table diverged within 70,000 words here, as it did on
// an H200 at 2f4dda9 (text8 prefix, all 22,541 words: NaN after 325,831 words); with 16
// BCE diverged (the softmax still trained at 32: held-out loss 6.00 against 5.97 at 8); 8
// (TrainConfig::batch_rows) learns as the CPU trainer does. Scaling a large batch's output step
// down instead (as the repeat cap does a negative-sampling row's) either still diverged or left the
// table too slow to learn. BCE's rate is the CPU trainer's over sqrt(8) (start_alpha): at the
// CPU trainer's 0.025 the twin's held-out loss was 50.7, 7% above the CPU trainer's 47.2.
TEST(ModularOnHost, SoftmaxAndBceTrainAtTheirDefaults) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (LossKind loss : {LossKind::kSoftmax, LossKind::kFullBce}) {
    SCOPED_TRACE(to_string(loss));
    TrainConfig c = test::softmax_config(ModelKind::kSkipGram);
    c.loss = loss;
    c.gpu_path = GpuPathKind::kModular;
    TrainConfig twin = c;
    twin.threads = 2;
    Trained t = train_prefix(twin, test::learning_bytes(1'500'000), train_modular_host,
                             test::DefaultRate::kModularPath);
    if (!test::kJudgeLearning) continue;
    ASSERT_EQ(t.vocab.size(), c.max_vocab);
    if (loss == LossKind::kSoftmax)
      test::expect_softmax_learned(t);
    else
      test::expect_loss_fell(t, 2000 * std::log(2.0), 0.1);
    // And as well as the CPU trainer, which steps one center at a time, on the same data: the
    // loss on the 50 kB of text8 that follow the training text. (The loss logged while
    // training is no judge of that: it rewards vectors that adapt to the passage being read.)
    // The CPU trainer runs on one thread: on two, their races on every output row left its
    // held-out BCE between 49.5 and 51.2, against 47.2 on one (the softmax 5.983, 5.966).
    Trained cpu = train_prefix(c, 1'500'000);
    const double twin_heldout = test::heldout_loss(t, loss, 1'500'000, 50'000);
    const double cpu_heldout = test::heldout_loss(cpu, loss, 1'500'000, 50'000);
    EXPECT_LT(twin_heldout, cpu_heldout * 1.02)
        << "held-out loss: twin " << twin_heldout << ", CPU trainer " << cpu_heldout;
  }
}

// Every optimizer at its default rate (TrainConfig::start_alpha). Before, momentum and
// Nesterov started at SGD's rate, which their velocity multiplies: the loss ran away (1082
// per pair); lazy Adam started at dense Adam's 0.002 (d2l's, PyTorch's default), too low
// for a row that moves only in the steps that touch it: the vectors stayed bunched here, and
// on the text8 prefix it reached 1.5% analogy, on an H200 at 2f4dda9 and on this twin.
TEST(ModularOnHost, EveryOptimizerLearnsAtItsDefaults) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (OptimizerKind optimizer : {OptimizerKind::kSgd, OptimizerKind::kAdam,
                                  OptimizerKind::kMomentum, OptimizerKind::kNesterov}) {
    SCOPED_TRACE(to_string(optimizer));
    TrainConfig c = modular_config();
    c.alpha = 0;
    c.optimizer = optimizer;
    const Trained t = train_prefix(c, test::learning_bytes(4'000'000), train_modular_host,
                                   test::DefaultRate::kModularPath);
    if (test::kJudgeLearning) test::expect_learned(t, c);
  }
}

// The pipeline's monitor polls the stop signal: training ends after the batch in flight and
// the run reports the signal (the GPU trainer's SIGINT/SIGTERM; both paths share the pipeline).
TEST(ModularOnHost, AStopSignalEndsTrainingAtTheNextBatch) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  TrainControl control;
  control.stop_signal = [] { return SIGTERM; };
  Trained t = train_prefix(c, 4'000'000, [&](const TrainJob& job, Model& model, Progress& p) {
    TrainJob stopping = job;
    stopping.control = &control;
    train_modular_on_host(stopping, model, p);
  });
  EXPECT_EQ(t.stats.stop_signal, SIGTERM);
  EXPECT_LT(t.stats.words, t.vocab.total_count()) << "stopped within the first epoch";
}

TEST(ModularOnHost, ProfileStepsStopsEarlyAndCleanly) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  c.profile_steps = 3;
  c.batch = 64;
  c.sampler_threads = 3;
  Trained t = train_prefix(c, 1'000'000, train_modular_host);
  // text8 has no line breaks: a "sentence" is a 10,000-token chunk, so 3 batches read 1 to 3.
  EXPECT_GT(t.stats.words, 0u);
  EXPECT_LT(t.stats.words, t.vocab.total_count() / 2);
}

// Every model x objective x optimizer x tied: stepping a batch twice with a small learning
// rate, the second step sees a lower loss than the first on each of several batches. Every
// scaling the path applies (per-pair sums, CBOW's undivided context gradient, the repeat cap,
// Adam's normalisation) multiplies gradient rows by positive factors, so each step must be a
// descent step; a sign or index error anywhere breaks that. (Learning over many batches is
// the SkipGramLearns/CbowLearns tests' job.)
TEST(ModularOnHost, EveryModeStepsDownhill) {
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig data_config;
  data_config.max_vocab = 500;
  data_config.sample = 1e-3;
  const SmallJob data(data_config, 300'000);
  for (ModelKind model : {ModelKind::kSkipGram, ModelKind::kCbow})
    for (LossKind loss : {LossKind::kNegativeSampling, LossKind::kSoftmax, LossKind::kFullBce})
      for (OptimizerKind opt :
           {OptimizerKind::kSgd, OptimizerKind::kNesterov, OptimizerKind::kAdam})
        for (bool tied : {false, true}) {
          TrainConfig c;
          c.model = model;
          c.loss = loss;
          c.optimizer = opt;
          c.tied = tied;
          c.dim = 16;
          c.batch = 64;
          c.sample = data_config.sample;
          c.repeat_cap = 8;
          c.alpha =
              opt == OptimizerKind::kAdam ? 1e-3 : 1e-3 / (loss == LossKind::kFullBce ? 10 : 1);
          const TrainJob job{c, data.vocab, *data.corpus, data.tables};
          // Random output vectors too. With separate tables the descent is checked twice: with
          // output vectors 10x the input vectors, the input table's step dominates the loss
          // change; with them 100x smaller, the output table's does. So a wrong sign or row in
          // either table's update shows.
          for (float ratio : tied ? std::vector<float>{1} : std::vector<float>{10, 0.01f}) {
            Model m = Model::initialize(data.vocab.size(), c.dim, c.tied, c.seed);
            const std::size_t n = m.input.rows() * m.input.cols();
            if (!tied)
              for (std::size_t i = 0; i < n; ++i)
                m.output.data()[i] = ratio * m.input.data()[(i * 7919) % n];
            HostOps ops;
            const std::vector<double> losses = test::run_modular_batches(ops, job, m, 6, 2);
            const std::string what = std::string(to_string(model)) + "/" + to_string(loss) + "/" +
                                     to_string(opt) + (tied ? "/tied" : "") + " ratio " +
                                     std::to_string(ratio);
            ASSERT_EQ(losses.size(), 12u) << what;
            for (std::size_t b = 1; b < 6; ++b)  // batch 0 may start with zero gradients
              EXPECT_LT(losses[2 * b + 1], losses[2 * b]) << what << " batch " << b;
            EXPECT_TRUE(std::isfinite(losses.back())) << what;
          }
        }
}

#ifdef W2V_HAVE_CUDA

double max_magnitude(const Matrix& m) {
  double size = 0;
  for (std::size_t i = 0; i < m.rows() * m.cols(); ++i)
    size = std::max(size, double(std::abs(m.data()[i])));
  return size;
}
double max_difference(const Matrix& got, const Matrix& want) {
  double worst = 0;
  for (std::size_t i = 0; i < want.rows() * want.cols(); ++i)
    worst = std::max(worst, std::abs(double(got.data()[i]) - want.data()[i]));
  return worst;
}
double max_relative_error(const Matrix& got, const Matrix& want) {
  return max_difference(got, want) / max_magnitude(want);
}

// The same batches through the kernels and through the references: per-batch losses and the
// tables after them agree to fp32 rounding (atomics reorder sums: relative 1e-4 of the
// largest entry).
TEST(ModularOnGpu, FirstBatchesMatchTheHostReference) {
  REQUIRE_GPU();
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  struct Mode {
    ModelKind model;
    LossKind loss;
    OptimizerKind optimizer;
    bool tied;
  };
  for (const Mode mode :
       {Mode{ModelKind::kSkipGram, LossKind::kNegativeSampling, OptimizerKind::kSgd, false},
        Mode{ModelKind::kCbow, LossKind::kNegativeSampling, OptimizerKind::kSgd, false},
        Mode{ModelKind::kSkipGram, LossKind::kNegativeSampling, OptimizerKind::kAdam, true},
        Mode{ModelKind::kSkipGram, LossKind::kSoftmax, OptimizerKind::kSgd, false},
        Mode{ModelKind::kCbow, LossKind::kSoftmax, OptimizerKind::kNesterov, true},
        Mode{ModelKind::kSkipGram, LossKind::kFullBce, OptimizerKind::kSgd, false}}) {
    TrainConfig c;
    c.model = mode.model;
    c.loss = mode.loss;
    c.optimizer = mode.optimizer;
    c.tied = mode.tied;
    c.max_vocab = 1000;
    c.dim = 100;
    c.batch = 256;
    c.repeat_cap = 8;
    SmallJob data(c, 400'000);
    const TrainJob job{c, data.vocab, *data.corpus, data.tables};
    Model host = Model::initialize(data.vocab.size(), c.dim, c.tied, c.seed);
    Model gpu = Model::initialize(data.vocab.size(), c.dim, c.tied, c.seed);
    HostOps host_ops;
    GpuOps gpu_ops(GpuOps::workspace_bytes(c, data.vocab.size()),
                   /*gemms=*/c.loss != LossKind::kNegativeSampling);
    const auto want = test::run_modular_batches(host_ops, job, host, 8);
    const auto got = test::run_modular_batches(gpu_ops, job, gpu, 8);
    const std::string what = std::string(to_string(c.model)) + "/" + to_string(c.loss) + "/" +
                             to_string(c.optimizer) + (c.tied ? "/tied" : "");
    ASSERT_EQ(got.size(), want.size()) << what;
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-4 * std::abs(want[i])) << what << " batch " << i;
    // Adam moves every touched element by up to lr a step whatever its gradient's size, so a
    // gradient near zero whose last bits differ (atomics sum in another order) can move an
    // element by a visible fraction of lr: its tolerance follows the steps taken. (The host
    // reference with its segment sums in float, in reverse order and each term off by up to
    // 2.4e-7 relative, moved the tied skip-gram's table by 8.3e-6 at most here: 21 times
    // under this tolerance; 2026-12-07, a throwaway patch.)
    const double steps =
        mode.optimizer == OptimizerKind::kAdam ? 1e-3 * c.start_alpha() * double(want.size()) : 0.0;
    EXPECT_LT(max_difference(gpu.input, host.input), 1e-4 * max_magnitude(host.input) + steps)
        << what;
    if (!c.tied) {
      EXPECT_LT(max_difference(gpu.output, host.output), 1e-4 * max_magnitude(host.output) + steps)
          << what;
    }
  }
}

void train_gpu(const TrainJob& job, Model& model, Progress& progress) {
  make_gpu_trainer()->train(job, model, progress);
}

TEST(ModularOnGpu, SkipGramAndCbowLearn) {
  REQUIRE_GPU();
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  test::expect_learned(train_prefix(c, 4'000'000, train_gpu), c);
  c.model = ModelKind::kCbow;
  c.alpha = 0.05;
  c.epochs = 5;
  test::expect_learned(train_prefix(c, 4'000'000, train_gpu), c);
}

TEST(ModularOnGpu, DeterministicRunsGiveIdenticalVectors) {
  REQUIRE_GPU();
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  TrainConfig c = modular_config();
  c.deterministic = true;
  c.epochs = 1;
  const Trained a = train_prefix(c, 1'000'000, train_gpu);
  const Trained b = train_prefix(c, 1'000'000, train_gpu);
  EXPECT_TRUE(test::same_tables(a.model, b.model));
}

// --step-graph launches the same kernels with the same arguments, so a deterministic run gives
// the direct launches' bits: with SGD, and with Adam, whose step count changes every batch.
TEST(ModularOnGpu, StepGraphsGiveTheDirectLaunchesBits) {
  REQUIRE_GPU();
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (OptimizerKind optimizer : {OptimizerKind::kSgd, OptimizerKind::kAdam}) {
    TrainConfig c = modular_config();
    c.deterministic = true;
    c.epochs = 1;
    c.optimizer = optimizer;
    const Trained direct = train_prefix(c, 1'000'000, train_gpu);
    c.step_graph = true;
    Trained graphs;
    try {
      graphs = train_prefix(c, 1'000'000, train_gpu);
    } catch (const Error& e) {
      // A Debug or W2V_DEBUG_SYNC build synchronises inside the step and refuses graphs.
      if (std::string(e.what()).starts_with("--step-graph: this build")) GTEST_SKIP() << e.what();
      throw;
    }
    EXPECT_TRUE(test::same_tables(direct.model, graphs.model)) << to_string(optimizer);
    EXPECT_EQ(direct.stats.words, graphs.stats.words);
  }
}

// The whole pipeline (sampler thread, pinned ring, two streams, events) against its host twin
// on the same batches: small batches cycle every slot thousands of times, so a slot handed
// to the GPU while the sampler still writes it, or refilled before its copy ended, would show
// as a difference far above rounding. Fast producer (tiny rows) and slow producer (large
// batches against a fast GPU) both.
TEST(ModularOnGpu, PipelineMatchesItsHostTwin) {
  REQUIRE_GPU();
  if (!file_exists(kText8)) GTEST_SKIP() << "no " << kText8;
  for (std::uint32_t batch : {8u, 4096u}) {
    TrainConfig c = modular_config();
    c.deterministic = true;  // one sampler, fixed batch order, sorted scatter
    c.epochs = 1;
    c.batch = batch;
    c.max_vocab = 2000;
    const Trained gpu = train_prefix(c, 300'000, train_gpu);
    const Trained host = train_prefix(c, 300'000, train_modular_host);
    EXPECT_EQ(gpu.stats.words, host.stats.words);
    EXPECT_LT(max_relative_error(gpu.model.input, host.model.input), 1e-2) << "batch " << batch;
    EXPECT_LT(max_relative_error(gpu.model.output, host.model.output), 1e-2) << "batch " << batch;
  }
}

#else

TEST(ModularOnGpu, NeedsACudaBuild) {
  GTEST_SKIP() << "no CUDA device (this build has no CUDA support)";
}

#endif

}  // namespace
}  // namespace w2v
