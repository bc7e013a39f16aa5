#include "w2v/synth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <thread>

#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/sampling.h"

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
    Rng rng(worker_seed(config.seed, index));
    std::string text;
    text.reserve(count * 6);
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
        text += words[id];
        text += k + 1 < length ? ' ' : '\n';
      }
      left -= length;
    }
    return text;
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

void write_synthetic_corpus(const SynthConfig& config) {
  validate(config);
  const Generator generator(config);
  const std::uint32_t threads =
      config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  const std::uint64_t chunks = (config.tokens + kChunkTokens - 1) / kChunkTokens;
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
