#pragma once
// The draws of training as pure functions that host and device code share: the Philox4x32-10
// generator the fused kernels draw windows and noise words with, the alias-table draw every
// trainer's noise words come from, and word2vec.c's rule for a noise word that equals its
// positive word.
//
// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011) is a
// counter-based generator, so a random number is a pure function of (key, counter). The fused
// kernels draw each center's window and noise words from the center's position, and the host
// reference draws the same numbers with this same code, whatever thread order the GPU runs.
#include <cstdint>

#if defined(__CUDACC__)
#define W2V_HOST_DEVICE __host__ __device__
#else
#define W2V_HOST_DEVICE
#endif

namespace w2v {

struct Philox4x32 {
  std::uint32_t v[4];
};

W2V_HOST_DEVICE inline void philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                           std::uint32_t& lo) {
#if defined(__CUDA_ARCH__)
  hi = __umulhi(a, b);
  lo = a * b;
#else
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
#endif
}

W2V_HOST_DEVICE inline Philox4x32 philox4x32_10(Philox4x32 counter, std::uint32_t key0,
                                                std::uint32_t key1) {
  constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  std::uint32_t* c = counter.v;
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kMul0, c[0], hi0, lo0);
    philox_mulhilo(kMul1, c[2], hi1, lo1);
    const std::uint32_t c1 = c[1], c3 = c[3];
    c[0] = hi1 ^ c1 ^ key0;
    c[1] = lo1;
    c[2] = hi0 ^ c3 ^ key1;
    c[3] = lo0;
    key0 += kWeyl0;
    key1 += kWeyl1;
  }
  return counter;
}

// The fused kernels' draws for the center at `position` of launch `launch` (a batch counter),
// run seed `seed`. Call 0 gives the window, call 1 + n / 2 noise words n and n + 1.
W2V_HOST_DEVICE inline Philox4x32 fused_draw(std::uint64_t seed, std::uint32_t launch,
                                             std::uint32_t position, std::uint32_t call) {
  return philox4x32_10(Philox4x32{{position, launch, call, 0x77327632u}},
                       static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32));
}

// Uniform in 1..window, from one 32-bit word (multiply-shift).
W2V_HOST_DEVICE inline std::uint32_t fused_window(std::uint32_t bits, std::uint32_t window) {
  return 1 + static_cast<std::uint32_t>((static_cast<std::uint64_t>(bits) * window) >> 32);
}

// The slot of a Walker alias table of `size` slots that `slot_bits` picks (multiply-shift).
W2V_HOST_DEVICE inline std::uint32_t alias_slot(std::uint32_t slot_bits, std::uint32_t size) {
  return static_cast<std::uint32_t>((static_cast<std::uint64_t>(slot_bits) * size) >> 32);
}

// One draw from a Walker alias table (AliasTable's layout) with 64 random bits: `slot_bits`
// picks the slot (alias_slot), `keep_bits` keeps it when below the slot's threshold, else
// takes its alias.
W2V_HOST_DEVICE inline std::uint32_t alias_draw(std::uint32_t slot_bits, std::uint32_t keep_bits,
                                                const std::uint32_t* threshold,
                                                const std::uint32_t* alias, std::uint32_t size) {
  const std::uint32_t slot = alias_slot(slot_bits, size);
#ifdef __CUDA_ARCH__
  return keep_bits < threshold[slot] ? slot : alias[slot];
#else
  // On a CPU both loads come first, so that the choice is a select: a branch on the random
  // keep bits mispredicts about half the time (a fifth of the modular packer's time).
  const std::uint32_t other = alias[slot];
  return keep_bits < threshold[slot] ? slot : other;
#endif
}

// A noise word equal to the positive word it was drawn for trains nothing: word2vec.c skips it,
// and so does every trainer, reference and kernel here (masked out, or not stepped).
W2V_HOST_DEVICE constexpr bool noise_word_used(std::uint32_t noise, std::uint32_t positive) {
  return noise != positive;
}

}  // namespace w2v
