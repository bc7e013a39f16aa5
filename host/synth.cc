#include "w2v/synth.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <thread>

#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/sampling.h"
#include "w2v/vocab.h"

namespace w2v {

namespace {

using FlagConfig = SynthConfig;

// Tokens per independently seeded chunk: chunks are generated in parallel and written in
// order, so the output does not depend on the thread count.
constexpr std::uint64_t kChunkTokens = 1 << 20;

std::vector<FlagSpec<SynthConfig>> make_flags() {
  std::vector<FlagSpec<SynthConfig>> f = {
      W2V_STRING_FLAG(output, "FILE", "where to write the corpus (text, one sentence per line)"),
      W2V_INT_FLAG("tokens", tokens, std::uint64_t, "corpus size in tokens"),
      W2V_INT_FLAG("vocab", vocab, std::uint64_t, "word types"),
      W2V_REAL_FLAG("exponent", exponent, "Zipf exponent of the word frequencies"),
      W2V_INT_FLAG("topics", topics, std::uint32_t, "sentence topics (0: no topic structure)"),
      W2V_REAL_FLAG("topic-share", topic_share,
                    "fraction of a sentence's words drawn from its topic"),
      W2V_INT_FLAG("min-sentence", min_sentence, std::uint32_t, "shortest sentence, in tokens"),
      W2V_INT_FLAG("max-sentence", max_sentence, std::uint32_t, "longest sentence, in tokens"),
      W2V_INT_FLAG("seed", seed, std::uint64_t, "random seed"),
      W2V_INT_FLAG("threads", threads, std::uint32_t, "generator threads (0: all cores)"),
      W2V_SWITCH("encoded", encoded,
                 "write the encoded corpus and its vocabulary (FILE, FILE.vocab) instead of the "
                 "text: what w2v train prepares from the text with --min-count 1; train with "
                 "--corpus FILE --vocab FILE.vocab"),
  };
  f[0].required = true;
  return f;
}

void validate(const SynthConfig& c) {
  auto need = [](bool ok, const std::string& flag, const std::string& rule) {
    if (!ok) throw Error("--" + flag + ": must be " + rule);
  };
  need(!c.output.empty(), "output", "given (where to write the corpus)");
  need(c.tokens >= 1, "tokens", "at least 1");
  need(c.vocab >= 1 && c.vocab <= (std::uint64_t(1) << 31), "vocab", "in 1..2^31");
  need(c.exponent > 0 && c.exponent <= 10, "exponent", "in (0, 10]");
  need(c.topic_share >= 0 && c.topic_share <= 1, "topic-share", "in [0, 1]");
  need(c.min_sentence >= 1, "min-sentence", "at least 1");
  need(c.max_sentence >= c.min_sentence, "max-sentence", "at least --min-sentence");
  need(c.max_sentence <= 10000, "max-sentence", "at most 10000 (w2v's sentence limit)");
}

// Topic t visits the vocabulary as rank -> (rank * stride_t + offset_t) mod V, a permutation
// because stride_t is coprime with V.
struct TopicOrder {
  std::uint64_t stride, offset;
};

TopicOrder topic_order(const SynthConfig& c, std::uint32_t topic) {
  Rng rng(worker_seed(c.seed ^ 0x70b1c5ull, topic));
  const std::uint64_t v = c.vocab;
  std::uint64_t stride = v > 1 ? 1 + rng.next() % (v - 1) : 1;
  while (std::gcd(stride, v) != 1) stride = stride % (v - 1) + 1;
  return {stride, v > 0 ? rng.next() % v : 0};
}

struct Generator {
  const SynthConfig& config;
  AliasTable zipf;
  std::vector<TopicOrder> orders;
  std::vector<std::string> words;

  explicit Generator(const SynthConfig& c) : config(c) {
    std::vector<double> weights(c.vocab);
    for (std::uint64_t r = 0; r < c.vocab; ++r)
      weights[r] = std::pow(static_cast<double>(r + 1), -c.exponent);
    zipf = AliasTable(weights);
    for (std::uint32_t t = 0; t < c.topics; ++t) orders.push_back(topic_order(c, t));
    words.reserve(c.vocab);
    for (std::uint64_t id = 0; id < c.vocab; ++id) words.push_back(synth_word(id));
  }

  // `count` tokens of chunk `index` as text; the chunk's last sentence may be cut short.
  std::string chunk(std::uint64_t index, std::uint64_t count) const {
    std::string text;
    text.reserve(count * 6);
    walk(index, count, [&](std::uint64_t id, bool sentence_end) {
      text += words[id];
      text += sentence_end ? '\n' : ' ';
    });
    return text;
  }

  // The same tokens as word ids, kSentenceEnd after each sentence (as an encoded corpus).
  void chunk_ids(std::uint64_t index, std::uint64_t count, std::vector<std::uint32_t>& ids) const {
    ids.clear();
    walk(index, count, [&](std::uint64_t id, bool sentence_end) {
      ids.push_back(static_cast<std::uint32_t>(id));
      if (sentence_end) ids.push_back(kSentenceEnd);
    });
  }

  // Calls token(word id, whether the sentence ends after it) for chunk `index`'s tokens.
  template <class Token>
  void walk(std::uint64_t index, std::uint64_t count, Token&& token) const {
    Rng rng(worker_seed(config.seed, index));
    const std::uint32_t span = config.max_sentence - config.min_sentence + 1;
    const auto share = static_cast<std::uint32_t>(config.topic_share * 4294967295.0);
    std::uint64_t left = count;
    while (left > 0) {
      std::uint64_t length = std::min<std::uint64_t>(config.min_sentence + rng.below(span), left);
      const TopicOrder* topic = orders.empty() ? nullptr : &orders[rng.below(config.topics)];
      for (std::uint64_t k = 0; k < length; ++k) {
        std::uint64_t id = zipf.sample(rng);
        if (topic && static_cast<std::uint32_t>(rng.next()) < share)
          id = (id * topic->stride + topic->offset) % config.vocab;
        token(id, k + 1 == length);
      }
      left -= length;
    }
  }
};

}  // namespace

const std::vector<FlagSpec<SynthConfig>>& synth_flags() {
  static const std::vector<FlagSpec<SynthConfig>> flags = make_flags();
  return flags;
}

SynthConfig parse_synth_args(const std::vector<std::string>& args) {
  SynthConfig c;
  parse_flags(synth_flags(), args, "synth", c);
  validate(c);
  return c;
}

std::string synth_help() {
  return "usage: w2v synth --output FILE [flags]\n\n"
         "Writes a synthetic corpus for speed measurements: Zipf-distributed words, sentences of\n"
         "varying length, each with a topic whose words it favours.\n\nflags:\n" +
         flags_help(synth_flags());
}

std::string synth_word(std::uint64_t id) {
  std::string w;
  do {
    w += static_cast<char>('a' + id % 26);
    id /= 26;
  } while (id > 0);
  std::reverse(w.begin(), w.end());
  return w;
}

std::uint64_t synth_topic_word(const SynthConfig& config, std::uint32_t topic, std::uint64_t rank) {
  TopicOrder o = topic_order(config, topic);
  return (rank * o.stride + o.offset) % config.vocab;
}

namespace {

// The encoded corpus and vocabulary of the text the generator would write, without the text:
// chunks of ids in parallel, word counts and first occurrences per thread, the vocabulary in
// w2v's order (count descending, then first occurrence), the ids mapped to it in parallel.
void write_encoded(const SynthConfig& config, const Generator& generator, std::uint32_t threads,
                   std::uint64_t chunks) {
  const std::size_t V = config.vocab;
  std::vector<std::vector<std::uint32_t>> ids(chunks);
  std::vector<std::vector<std::uint64_t>> counts(threads), firsts(threads);
  auto parallel = [&](auto&& work) {
    std::atomic<std::uint64_t> next{0};
    std::vector<std::thread> pool;
    for (std::uint32_t t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        for (std::uint64_t c = next++; c < chunks; c = next++) work(t, c);
      });
    for (auto& th : pool) th.join();
  };
  parallel([&](std::uint32_t t, std::uint64_t c) {
    if (counts[t].empty()) {
      counts[t].assign(V, 0);
      firsts[t].assign(V, ~std::uint64_t{0});
    }
    const std::uint64_t count =
        std::min<std::uint64_t>(kChunkTokens, config.tokens - c * kChunkTokens);
    generator.chunk_ids(c, count, ids[c]);
    std::uint64_t position = 0;
    for (const std::uint32_t id : ids[c]) {
      if (id == kSentenceEnd) continue;
      ++counts[t][id];
      firsts[t][id] = std::min(firsts[t][id], c << 32 | position++);
    }
  });
  std::vector<std::uint64_t> count(V, 0), first(V, ~std::uint64_t{0});
  for (std::uint32_t t = 0; t < threads; ++t) {
    if (counts[t].empty()) continue;
    for (std::size_t w = 0; w < V; ++w) {
      count[w] += counts[t][w];
      first[w] = std::min(first[w], firsts[t][w]);
    }
    std::vector<std::uint64_t>().swap(counts[t]);
    std::vector<std::uint64_t>().swap(firsts[t]);
  }
  std::vector<std::uint32_t> order;
  for (std::size_t w = 0; w < V; ++w)
    if (count[w] > 0) order.push_back(static_cast<std::uint32_t>(w));
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return count[a] != count[b] ? count[a] > count[b] : first[a] < first[b];
  });
  std::vector<std::uint32_t> final_id(V, Vocab::kNotFound);
  std::vector<std::string> words;
  std::vector<std::uint64_t> kept_counts;
  for (std::uint32_t i = 0; i < order.size(); ++i) {
    final_id[order[i]] = i;
    words.push_back(generator.words[order[i]]);
    kept_counts.push_back(count[order[i]]);
  }
  const Vocab vocab = Vocab::from_counts(std::move(words), std::move(kept_counts), config.output);
  parallel([&](std::uint32_t, std::uint64_t c) {
    for (std::uint32_t& id : ids[c])
      if (id != kSentenceEnd) id = final_id[id];
  });

  EncodedCorpusWriter out(config.output);
  std::uint64_t entries = 0;
  for (auto& chunk : ids) {
    out.write(chunk.data(), chunk.size());
    entries += chunk.size();
    std::vector<std::uint32_t>().swap(chunk);
  }
  vocab.save(config.output + ".vocab");
  // No source text: its size and stamp are 0.
  out.finish(CorpusHeader::make(vocab, config.tokens, entries, 0, 0, false));
}

}  // namespace

void write_synthetic_corpus(const SynthConfig& config) {
  validate(config);
  const Generator generator(config);
  const std::uint32_t threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::uint64_t chunks = (config.tokens + kChunkTokens - 1) / kChunkTokens;
  if (config.encoded) {
    write_encoded(config, generator, threads, chunks);
    return;
  }
  AtomicFile out(config.output);
  std::vector<std::string> texts(threads);
  for (std::uint64_t first = 0; first < chunks; first += threads) {
    const std::uint64_t round = std::min<std::uint64_t>(threads, chunks - first);
    std::vector<std::thread> pool;
    for (std::uint64_t t = 0; t < round; ++t) {
      pool.emplace_back([&, t] {
        const std::uint64_t index = first + t;
        const std::uint64_t count =
            std::min<std::uint64_t>(kChunkTokens, config.tokens - index * kChunkTokens);
        texts[t] = generator.chunk(index, count);
      });
    }
    for (auto& th : pool) th.join();
    for (std::uint64_t t = 0; t < round; ++t) out.write(texts[t]);
  }
  out.commit();
}

}  // namespace w2v
