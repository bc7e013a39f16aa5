#pragma once
// XXH3-64 from Debian's libxxhash-dev: the checksum of encoded corpora and checkpoints. It
// hashes at memory speed on one core, so verifying a file on load costs less than reading it.
#include <cstddef>
#include <cstdint>
#include <new>

#include <xxhash.h>

namespace w2v {

class Checksum {
 public:
  Checksum() : state_(XXH3_createState()) {
    if (!state_) throw std::bad_alloc();
    XXH3_64bits_reset(state_);
  }
  ~Checksum() { XXH3_freeState(state_); }
  Checksum(const Checksum&) = delete;
  Checksum& operator=(const Checksum&) = delete;
  void add(const void* data, std::size_t n) { XXH3_64bits_update(state_, data, n); }
  std::uint64_t value() const { return XXH3_64bits_digest(state_); }
  static std::uint64_t of(const void* data, std::size_t n) { return XXH3_64bits(data, n); }

 private:
  XXH3_state_t* state_;  // opaque outside the inline build
};

}  // namespace w2v
