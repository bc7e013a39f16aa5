// Feeds the input to parse_checkpoint (bytes in memory; read_checkpoint maps a file and calls
// it). A second run over the same bytes with the preamble's body size and XXH3 checksum made
// to agree lets mutated bodies past the checksum, into the field-by-field parser.
#include <cstring>
#include <vector>

#include "checksum.h"
#include "fuzz_file.h"
#include "w2v/checkpoint.h"
#include "w2v/error.h"

namespace {

constexpr std::size_t kPreambleBytes = 32;  // magic, version, 0, body bytes, body checksum

void parse(const std::uint8_t* data, std::size_t size) {
  try {
    const w2v::Checkpoint ck = w2v::parse_checkpoint(data, size, "fuzz.ckpt");
    const w2v::Model& m = ck.model;
    W2V_FUZZ_CHECK(m.input.rows() > 0 && m.input.cols() > 0);
    const std::size_t tables = m.tied ? 1 : 2;
    if (m.tied) {
      W2V_FUZZ_CHECK(m.output.empty());
    } else {
      W2V_FUZZ_CHECK(m.output.rows() == m.input.rows() && m.output.cols() == m.input.cols());
    }
    // Every byte of the body is accounted for, so the tables cannot be larger than the input.
    W2V_FUZZ_CHECK(tables * m.input.rows() * m.input.cols() * sizeof(float) +
                       ck.state.extra.size() + 24 * ck.state.walkers.size() <=
                   size);
  } catch (const w2v::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parse(data, size);
  if (size < kPreambleBytes) return 0;
  std::vector<std::uint8_t> fixed(data, data + size);
  const std::uint64_t body = size - kPreambleBytes;
  const std::uint64_t checksum = w2v::Checksum::of(fixed.data() + kPreambleBytes, body);
  std::memcpy(fixed.data() + 16, &body, 8);
  std::memcpy(fixed.data() + 24, &checksum, 8);
  parse(fixed.data(), fixed.size());
  return 0;
}
