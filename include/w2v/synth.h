#pragma once
// `w2v synth`: a synthetic corpus of any size for speed measurements at scale. Word
// frequencies follow Zipf's law over a large vocabulary (by default 1M types, exponent 1), and
// co-occurrence is not uniform: each sentence has a topic, and a share of its words is drawn
// from that topic's own Zipf distribution over a topic-specific permutation of the
// vocabulary, so words of one topic appear together.
#include <cstdint>
#include <string>
#include <vector>

#include "w2v/flags.h"

namespace w2v {

struct SynthConfig {
  std::string output;
  std::uint64_t tokens = 100'000'000;
  std::uint64_t vocab = 1'000'000;
  double exponent = 1.0;
  std::uint32_t topics = 100;
  double topic_share = 0.5;  // fraction of a sentence's words drawn from its topic
  std::uint32_t min_sentence = 5, max_sentence = 40;
  std::uint64_t seed = 1;
  std::uint32_t threads = 0;  // 0: all cores
  bool encoded = false;       // write the encoded corpus and output + ".vocab", not the text
};

const std::vector<FlagSpec<SynthConfig>>& synth_flags();
SynthConfig parse_synth_args(const std::vector<std::string>& args);
std::string synth_help();

// The word of id `id`: lowercase base-26 ("a", "b", ..., "ba", ...), unique per id.
std::string synth_word(std::uint64_t id);
// The word id that topic `topic` gives to Zipf rank `rank` (topic words are the vocabulary
// in a topic-specific order).
std::uint64_t synth_topic_word(const SynthConfig& config, std::uint32_t topic, std::uint64_t rank);

// Writes exactly config.tokens tokens to config.output (through a temporary file renamed at
// the end). The bytes depend only on the config and the seed, not on the thread count. With
// config.encoded, writes instead the encoded corpus and its vocabulary (config.output + ".vocab")
// that `w2v train --min-count 1` would prepare from that text, without writing the text.
void write_synthetic_corpus(const SynthConfig& config);

}  // namespace w2v
