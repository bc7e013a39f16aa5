#pragma once
// The word counter of the corpus builder (host/corpus_builder.cc): a hash of a word's bytes and
// a table of distinct words with their counts. Internal; bench/bench_word_table.cc compares it
// with Abseil's and the standard library's maps.
#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "w2v/error.h"

namespace w2v {

// XXH3 (libxxhash-dev): with it the table counts 1.4 to 2 times as fast as with the
// multiply-xorshift hash it replaced, and faster than Abseil's flat_hash_map
// (bench/bench_word_table.cc; README, "Preparing a corpus").
inline std::uint64_t hash_word(const char* p, std::size_t n) { return XXH3_64bits(p, n); }

// Words are short: an inline comparison beats a call to memcmp.
inline bool same_bytes(const char* a, const char* b, std::size_t n) {
  if (n < 8) {
    for (std::size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  std::uint64_t x, y;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  std::memcpy(&x, a + n - 8, 8);  // the last 8 bytes, overlapping the loop's
  std::memcpy(&y, b + n - 8, 8);
  return x == y;
}

// Words with counts and first occurrences: open addressing over a byte arena; a word's
// provisional id is its insertion number. A slot holds 32 bits of the word's hash beside its
// id, so that a probe reads the word's bytes only when those match.
class WordTable {
 public:
  static constexpr std::uint32_t kMaxWords = 0x7FFFFFFFu;

  WordTable() : slots_(1 << 16, 0) {}

  std::uint32_t find_or_insert(const char* word, std::size_t length, std::uint64_t hash,
                               std::uint64_t first) {
    const std::size_t mask = slots_.size() - 1;
    const std::uint64_t tag = hash >> 32 << 32;
    for (std::size_t s = hash & mask;; s = (s + 1) & mask) {
      const std::uint64_t slot = slots_[s];
      if (slot == 0) break;
      if ((slot & ~0xFFFFFFFFull) == tag) {
        const auto id = static_cast<std::uint32_t>(slot) - 1;
        if (length_of(id) == length && same_bytes(bytes_of(id), word, length)) return id;
      }
    }
    const auto id = static_cast<std::uint32_t>(words_.size());
    if (id >= kMaxWords) throw Error("more than 2^31 distinct words");
    words_.push_back(arena_.size() << 8 | length);  // length <= kMaxTokenBytes < 256
    hashes_.push_back(hash);
    counts.push_back(0);
    firsts.push_back(first);
    arena_.append(word, length);
    if (2 * words_.size() > slots_.size())
      rehash();
    else
      place(id);
    return id;
  }

  std::size_t size() const { return words_.size(); }
  std::string_view word(std::uint32_t id) const { return {bytes_of(id), length_of(id)}; }

  static constexpr std::uint32_t kPruned = 0xFFFFFFFFu;
  // Forgets the words counted at most `max_count` times (word2vec.c's ReduceVocab) and
  // numbers the others anew in their old order: returns each old id's new id, or kPruned.
  std::vector<std::uint32_t> prune(std::uint64_t max_count) {
    std::vector<std::uint32_t> new_id(words_.size(), kPruned);
    std::string arena;
    std::uint32_t kept = 0;
    for (std::uint32_t id = 0; id < words_.size(); ++id) {
      if (counts[id] <= max_count) continue;
      new_id[id] = kept;
      const std::size_t length = length_of(id);
      arena.append(bytes_of(id), length);
      words_[kept] = (arena.size() - length) << 8 | length;
      hashes_[kept] = hashes_[id];
      counts[kept] = counts[id];
      firsts[kept] = firsts[id];
      ++kept;
    }
    for (auto* v : {&words_, &hashes_, &counts, &firsts}) {
      v->resize(kept);
      v->shrink_to_fit();
    }
    arena_ = std::move(arena);
    std::size_t slots = std::size_t(1) << 16;
    while (slots < 2 * std::size_t{kept}) slots *= 2;
    slots_.assign(slots, 0);
    slots_.shrink_to_fit();
    for (std::uint32_t id = 0; id < kept; ++id) place(id);
    return new_id;
  }
  std::uint64_t hash(std::uint32_t id) const { return hashes_[id]; }

  std::vector<std::uint64_t> counts;
  std::vector<std::uint64_t> firsts;  // (block << 32) | position of the first occurrence

 private:
  std::size_t length_of(std::uint32_t id) const { return words_[id] & 0xFF; }
  const char* bytes_of(std::uint32_t id) const { return arena_.data() + (words_[id] >> 8); }
  void place(std::uint32_t id) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t s = hashes_[id] & mask;
    while (slots_[s] != 0) s = (s + 1) & mask;
    slots_[s] = (hashes_[id] >> 32 << 32) | (std::uint64_t(id) + 1);
  }
  void rehash() {
    slots_.assign(slots_.size() * 2, 0);
    for (std::uint32_t id = 0; id < words_.size(); ++id) place(id);
  }

  std::vector<std::uint64_t> slots_;  // (hash's high 32 bits << 32) | (id + 1); 0 is empty
  std::vector<std::uint64_t> words_;  // (arena offset << 8) | length
  std::vector<std::uint64_t> hashes_;
  std::string arena_;
};

}  // namespace w2v
