// Feeds the input, as a file, to EncodedCorpus::is_encoded, EncodedCorpus::read_header and,
// when the header reads, the EncodedCorpus constructor: full validation against a fixed
// 16-word vocabulary (the one the seeds in tests/fuzz/corpus/corpus/ were encoded with); an
// accepted corpus is split into ranges. A second run with the header's vocabulary size, hash
// and checksum made to agree lets mutated entries past those checks, to the id validation and
// split().
#include <cstring>
#include <vector>

#include "checksum.h"
#include "fuzz_file.h"
#include "w2v/corpus.h"
#include "w2v/error.h"

namespace {

const w2v::Vocab& fixed_vocab() {
  // The vocabulary the seeds were encoded with ("the king rules the land ...", min-count 1),
  // in Vocab::build's order: by count, ties in first-occurrence order.
  static const w2v::Vocab vocab =
      w2v::Vocab::from_counts({"the", "king", "rules", "land", "queen", "a", "walks", "and", "is",
                               "in", "man", "woman", "paris", "france", "berlin", "germany"},
                              {6, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1}, "fuzz vocabulary");
  return vocab;
}

void check_split(const w2v::EncodedCorpus& corpus) {
  const std::size_t n = corpus.entry_count();
  for (std::size_t parts : {1, 2, 3, 8}) {
    const std::vector<w2v::CorpusRange> ranges = corpus.split(parts);
    W2V_FUZZ_CHECK(ranges.size() == parts);
    W2V_FUZZ_CHECK(ranges.front().begin == 0 && ranges.back().end == n);
    for (std::size_t p = 0; p < parts; ++p) {
      const w2v::CorpusRange& r = ranges[p];
      W2V_FUZZ_CHECK(r.begin <= r.end && r.end <= n);
      if (p > 0) W2V_FUZZ_CHECK(r.begin == ranges[p - 1].end);
      // Every range starts a sentence: at the start, at the end, or after a sentence end.
      W2V_FUZZ_CHECK(r.begin == 0 || r.begin == n ||
                     corpus.entries()[r.begin - 1] == w2v::kSentenceEnd);
    }
  }
}

// Runs the constructor (its first step is read_header) and checks what it accepts.
void read_corpus(const std::string& path, std::size_t size) {
  const w2v::Vocab& vocab = fixed_vocab();
  try {
    const w2v::EncodedCorpus corpus(path, vocab);
    W2V_FUZZ_CHECK(sizeof(w2v::CorpusHeader) + corpus.entry_count() * 4 == size);
    std::uint64_t tokens = 0;
    for (std::size_t i = 0; i < corpus.entry_count(); ++i) {
      const std::uint32_t v = corpus.entries()[i];
      W2V_FUZZ_CHECK(v == w2v::kSentenceEnd || v < vocab.size());
      tokens += v != w2v::kSentenceEnd;
    }
    W2V_FUZZ_CHECK(tokens == corpus.token_count());
    check_split(corpus);
  } catch (const w2v::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static w2v::fuzz::FuzzFile file;
  const std::string& path = file.write(data, size);
  const bool magic = w2v::EncodedCorpus::is_encoded(path);
  w2v::CorpusHeader h;
  try {
    h = w2v::EncodedCorpus::read_header(path);
  } catch (const w2v::Error&) {
    return 0;  // the constructor would stop at the same place
  }
  W2V_FUZZ_CHECK(magic);
  read_corpus(path, size);
  // The header with this vocabulary's size and hash and the entries' checksum, if it differs.
  const std::uint8_t* entries = data + sizeof h;
  const std::uint64_t checksum = w2v::Checksum::of(entries, size - sizeof h);
  if (h.vocab_size == fixed_vocab().size() && h.vocab_hash == fixed_vocab().hash() &&
      h.entries_checksum == checksum)
    return 0;
  h.vocab_size = static_cast<std::uint32_t>(fixed_vocab().size());
  h.vocab_hash = fixed_vocab().hash();
  h.entries_checksum = checksum;
  std::vector<std::uint8_t> fixed(data, data + size);
  std::memcpy(fixed.data(), &h, sizeof h);
  read_corpus(file.write(fixed.data(), fixed.size()), size);
  return 0;
}
