// Feeds the input, as a file, to Vocab::load (word2vec.c's "word count" lines); a vocabulary
// that loads must find each of its words at its own id.
#include "fuzz_file.h"
#include "w2v/error.h"
#include "w2v/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static w2v::fuzz::FuzzFile file;
  const std::string& path = file.write(data, size);
  try {
    const w2v::Vocab v = w2v::Vocab::load(path);
    W2V_FUZZ_CHECK(v.size() > 0 && v.counts().size() == v.size());
    for (std::uint32_t i = 0; i < v.size(); ++i) W2V_FUZZ_CHECK(v.find(v.word(i)) == i);
  } catch (const w2v::Error&) {
  }
  return 0;
}
