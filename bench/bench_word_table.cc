// The corpus builder's word counter (host/word_table.h: open addressing, XXH3) against the maps
// it could have used: Abseil's flat_hash_map over the same byte arena, std::unordered_map<
// std::string> as Vocab::build uses, and itself with the hash it had before. Each iteration counts
// a whole token stream into an empty table: the work of one preparation thread, less the
// tokenizing. Items are tokens.
//
// Streams: the words of W2V_BENCH_TEXT (default: the text8 prefix, 2M tokens, 72k distinct),
// and Zipf-distributed words "w<rank>" over 100k and 10M ranks (4M and 20M tokens; the latter
// meets 3.1M distinct words, a table far larger than the caches).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "w2v/sampling.h"
#include "w2v/vocab.h"
#include "word_table.h"

#ifdef W2V_HAVE_ABSL
#include <absl/container/flat_hash_map.h>
#endif

namespace w2v {
namespace {

struct Stream {
  std::string bytes;                    // the words, back to back
  std::vector<std::string_view> words;  // into bytes
  std::size_t types = 0;
};

// A stream of the whitespace-separated words of `bytes`, and how many are distinct.
Stream split_words(std::string bytes) {
  Stream s;
  s.bytes = std::move(bytes);
  for (std::size_t i = 0; i < s.bytes.size();) {
    while (i < s.bytes.size() && std::isspace(static_cast<unsigned char>(s.bytes[i]))) ++i;
    std::size_t j = i;
    while (j < s.bytes.size() && !std::isspace(static_cast<unsigned char>(s.bytes[j]))) ++j;
    if (j > i) s.words.emplace_back(s.bytes.data() + i, std::min(j - i, kMaxTokenBytes));
    i = j;
  }
  std::unordered_map<std::string_view, int> seen;
  for (auto w : s.words) seen.emplace(w, 0);
  s.types = seen.size();
  return s;
}

Stream text_stream() {
  const char* env = std::getenv("W2V_BENCH_TEXT");
  const std::string path = env ? env : W2V_SOURCE_DIR "/../shared/data/text8_prefix.txt";
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream all;
  all << in.rdbuf();
  return split_words(all.str());
}

// `tokens` draws of words "w<rank>" with rank ~ Zipf(1) over `types` ranks.
Stream zipf_stream(std::size_t types, std::size_t tokens) {
  std::vector<double> weights(types);
  for (std::size_t r = 0; r < types; ++r) weights[r] = 1.0 / static_cast<double>(r + 1);
  AliasTable table(weights);
  Rng rng(7);
  std::string bytes;
  for (std::size_t i = 0; i < tokens; ++i) bytes += 'w' + std::to_string(table.sample(rng)) + ' ';
  return split_words(std::move(bytes));
}

const Stream& stream(int which) {
  static const Stream text = text_stream();
  static const Stream zipf_100k = zipf_stream(100'000, 4'000'000);
  static const Stream zipf_10m = zipf_stream(10'000'000, 20'000'000);
  return which == 0 ? text : which == 1 ? zipf_100k : zipf_10m;
}

template <typename Count>
void run(benchmark::State& state, Count count) {
  const Stream& s = stream(static_cast<int>(state.range(0)));
  if (s.words.empty()) {
    state.SkipWithError("no text: set W2V_BENCH_TEXT");
    return;
  }
  std::size_t distinct = 0;
  for (auto _ : state) distinct = count(s.words);
  if (distinct != s.types) state.SkipWithError("a table counted the wrong number of words");
  state.SetItemsProcessed(state.iterations() * s.words.size());
  state.counters["types"] = static_cast<double>(s.types);
}

void BM_CountWordTable(benchmark::State& state) {
  run(state, [](const std::vector<std::string_view>& words) {
    WordTable table;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string_view w = words[i];
      ++table.counts[table.find_or_insert(w.data(), w.size(), hash_word(w.data(), w.size()), i)];
    }
    return table.size();
  });
}

// The hand-written hash the table had before XXH3: one multiply-xorshift round per 8 bytes.
std::uint64_t multiply_xorshift(const char* p, std::size_t n) {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xD6E8FEB86659FD93ULL);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 29;
  }
  std::uint64_t w = 0;
  std::memcpy(&w, p + i, n - i);
  h = (h ^ w) * 0x94D049BB133111EBULL;
  return h ^ (h >> 31);
}

void BM_CountWordTableMultiplyXorshift(benchmark::State& state) {
  run(state, [](const std::vector<std::string_view>& words) {
    WordTable table;
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string_view w = words[i];
      ++table.counts[table.find_or_insert(w.data(), w.size(), multiply_xorshift(w.data(), w.size()),
                                          i)];
    }
    return table.size();
  });
}

// What Vocab::build does (include/w2v/vocab.h): a node per word, the word in a std::string.
void BM_CountUnorderedMap(benchmark::State& state) {
  run(state, [](const std::vector<std::string_view>& words) {
    std::unordered_map<std::string, std::uint64_t> counts;
    for (std::string_view w : words) ++counts[std::string(w)];
    return counts.size();
  });
}

#ifdef W2V_HAVE_ABSL
// Abseil's Swiss table keyed by views into an arena of the words, holding the id; the counts
// and first occurrences beside it, as WordTable keeps them. Arena chunks never move, so the
// views stay valid as it grows.
void BM_CountAbslFlatHashMap(benchmark::State& state) {
  run(state, [](const std::vector<std::string_view>& words) {
    absl::flat_hash_map<std::string_view, std::uint32_t> ids;
    std::vector<std::uint64_t> counts, firsts;
    std::vector<std::string> arena(1);
    arena.back().reserve(1 << 20);
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::string_view w = words[i];
      auto it = ids.find(w);
      if (it == ids.end()) {
        if (arena.back().size() + w.size() > arena.back().capacity()) {
          arena.emplace_back();
          arena.back().reserve(1 << 20);
        }
        const std::size_t at = arena.back().size();
        arena.back().append(w);
        it = ids.emplace(std::string_view(arena.back().data() + at, w.size()),
                         static_cast<std::uint32_t>(counts.size()))
                 .first;
        counts.push_back(0);
        firsts.push_back(i);
      }
      ++counts[it->second];
    }
    return ids.size();
  });
}
BENCHMARK(BM_CountAbslFlatHashMap)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
#endif

BENCHMARK(BM_CountWordTable)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CountWordTableMultiplyXorshift)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CountUnorderedMap)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace w2v
