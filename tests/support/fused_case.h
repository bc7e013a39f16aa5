#pragma once
// One batch for the fused kernel and what the reference (ref::fused_ns) makes of it: the GPU
// test (tests/test_fused.cc) and the CPU's warp emulation of the kernel's own code
// (tests/test_fused_emulated.cc) run the kernel on it and compare with expect_matches.
//
// The reference runs one warp after another; on the GPU they run at once, so every chunk gets
// words of its own (its sentence and, with fixed noise, its noise words; drawn noise comes from
// one table, so then there is one chunk): tables, losses and example counts agree to fp32
// rounding. A sentence's words repeat within a window, so that a warp holds two copies of a
// row at once.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "support/compare.h"
#include "support/random.h"
#include "w2v/kernels/fused_ns.h"
#include "w2v/reference.h"
#include "w2v/sampling.h"

namespace w2v::test {

struct FusedCase {
  FusedShape shape;
  bool fixed_noise = false, scaled = false;
  std::vector<float> in, out, scales;  // allowances (FusedScales): [input V, output V]
  std::vector<std::int32_t> tokens, fixed;
  std::vector<FusedChunk> chunks;
  std::vector<std::uint32_t> threshold, alias;
  std::uint32_t vocab = 0;
  FusedStep step{0.05f, 3, 1, 0.02f};  // the rate falls over the chunks
  std::vector<float> want_in, want_out, want_loss, want_examples;

  FusedCase(const FusedShape& s, bool fixed_noise_, bool scaled_)
      : shape(s), fixed_noise(fixed_noise_), scaled(scaled_) {
    const int sentences = fixed_noise ? 6 : 1, length = 50, noise_words = 40;
    const int span = length + noise_words, V = sentences * span;
    vocab = static_cast<std::uint32_t>(V);
    std::mt19937 gen(shape.dim * 31 + shape.negative);
    in = random_floats(std::size_t(V) * shape.dim, gen, 0.5f);
    out = random_floats(in.size(), gen, 0.5f);
    scales = random_floats(2 * V, gen, 1.0f);
    for (float& x : scales) x += 1.0f;  // allowances in [0, 2]: at 4/3 warps a third are 1
    tokens.resize(sentences * length);
    fixed.resize(tokens.size() * shape.negative);
    for (int s = 0; s < sentences; ++s) {
      for (int t = 0; t < length; ++t) {
        tokens[s * length + t] = s * span + t % 9;
        for (std::uint32_t n = 0; n < shape.negative; ++n)
          fixed[(s * length + t) * shape.negative + n] =
              s * span + length + int(gen() % noise_words);
      }
      chunks.push_back({s * length, (s + 1) * length, s * length, (s + 1) * length});
    }
    std::vector<double> weights(V, 0.0);
    for (int w = length; w < span; ++w) weights[w] = 1.0 + w % 3;
    const AliasTable table(weights);
    threshold = table.thresholds();
    alias = table.aliases();

    want_in = in;
    want_out = out;
    want_loss.resize(chunks.size());
    want_examples.resize(chunks.size());
    ref::fused_ns(want_in.data(), want_out.data(), V, shape, step,
                  noise(threshold.data(), alias.data(), fixed.data()),
                  batch(tokens.data(), chunks.data(), want_loss.data(), want_examples.data()),
                  scale_rows(scales.data()));
  }

  // The arguments, over the caller's copies of the arrays (host or device memory).
  FusedNoise noise(const std::uint32_t* thresholds, const std::uint32_t* aliases,
                   const std::int32_t* fixed_words) const {
    return {thresholds, aliases, vocab, fixed_noise ? fixed_words : nullptr};
  }
  FusedBatch batch(const std::int32_t* token_ids, const FusedChunk* chunk_list, float* loss,
                   float* examples, std::uint32_t* chunk_queue = nullptr) const {
    return {token_ids,  std::int64_t(tokens.size()),
            chunk_list, std::int64_t(chunks.size()),
            loss,       examples,
            chunk_queue};
  }
  FusedScales scale_rows(const float* both) const {
    return {scaled ? both : nullptr, scaled ? both + vocab : nullptr, 0.75f};
  }

  std::string what() const {
    return std::string(shape.cbow ? "cbow" : "skip-gram") + " dim " + std::to_string(shape.dim) +
           " negative " + std::to_string(shape.negative) + " version " +
           std::to_string(shape.version) + (fixed_noise ? " fixed" : " drawn") +
           (shape.store_rows ? " store" : " add") + (shape.refresh_rows ? " refresh" : "") +
           (shape.strided_chunks ? " strided" : "") + (scaled ? " scaled" : "");
  }

  void expect_matches(const std::vector<float>& got_in, const std::vector<float>& got_out,
                      const std::vector<float>& got_loss,
                      const std::vector<float>& got_examples) const {
    expect_close(got_in, want_in, 1e-4, 1e-6, what() + " input");
    if (!shape.store_rows)  // stores of shared noise rows race by design
      expect_close(got_out, want_out, 1e-4, 1e-6, what() + " output");
    expect_close(got_loss, want_loss, 1e-4, 1e-6, what() + " loss");
    EXPECT_EQ(got_examples, want_examples) << what();
  }
};

// The cases the kernel tests run (on a GPU and emulated): each model, dim and negative the
// kernel is compiled for, with fixed noise unscaled and drawn noise scaled; the window rows
// refreshed at two dims; the store path; and version 1 at d 128, both ways.
struct FusedCaseArgs {
  FusedShape shape;
  bool fixed_noise, scaled;
};
inline std::vector<FusedCaseArgs> fused_kernel_cases(const std::vector<std::uint32_t>& dims,
                                                     const std::vector<std::uint32_t>& negatives) {
  std::vector<FusedCaseArgs> cases;
  for (bool cbow : {false, true})
    for (std::uint32_t dim : dims)
      for (std::uint32_t negative : negatives) {
        if (negative > 7 && dim > kFusedMaxWideDim) continue;
        const FusedShape shape{cbow, dim, 5, negative};
        cases.push_back({shape, true, false});
        cases.push_back({shape, false, true});
      }
  for (bool cbow : {false, true})
    for (std::uint32_t dim : {33u, 128u}) {
      const FusedShape shape{
          .cbow = cbow, .dim = dim, .window = 5, .negative = 5, .refresh_rows = true};
      cases.push_back({shape, true, false});
      cases.push_back({shape, false, true});
    }
  cases.push_back(
      {{.cbow = false, .dim = 128, .window = 5, .negative = 5, .store_rows = true}, true, true});
  cases.push_back({{.cbow = false,
                    .dim = 128,
                    .window = 5,
                    .negative = 5,
                    .store_rows = true,
                    .refresh_rows = true},
                   true,
                   true});
  for (bool cbow : {false, true}) {  // the version kept to be measured against the default
    const FusedShape shape{.cbow = cbow, .dim = 128, .window = 5, .negative = 5, .version = 1};
    cases.push_back({shape, true, false});
    cases.push_back({shape, false, true});
  }
  return cases;
}

}  // namespace w2v::test
