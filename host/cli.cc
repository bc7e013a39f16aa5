// The command line: parses each command's arguments on its flag table, calls the library and
// prints; the only place that prints errors and chooses the exit status.
#include "w2v/cli.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <new>

#include "w2v/config.h"
#include "w2v/error.h"
#include "w2v/eval.h"
#include "w2v/flags.h"
#include "w2v/stop_signal.h"
#include "w2v/synth.h"
#include "w2v/train.h"
#include "w2v/vectors.h"

namespace w2v {

namespace {

constexpr const char* kOverview =
    "w2v: word2vec training and evaluation (skip-gram, CBOW; negative sampling, hierarchical\n"
    "softmax, full softmax, full-vocabulary BCE)\n\n"
    "usage: w2v COMMAND [args]\n\n"
    "commands:\n"
    "  train       train vectors on a text corpus        w2v train --corpus FILE --output FILE\n"
    "  similar     cosine nearest neighbours of a word    w2v similar VECTORS WORD [-k N]\n"
    "  analogy     Google analogy accuracy (3CosAdd)      w2v analogy VECTORS QUESTIONS "
    "[--restrict N]\n"
    "  similarity  Spearman correlation on word pairs     w2v similarity VECTORS PAIRS\n"
    "  synth       write a synthetic Zipf corpus          w2v synth --output FILE [--tokens N]\n\n"
    "Run 'w2v COMMAND --help' for the flags of each command.\n";

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

void log_line(const std::string& s) { std::fprintf(stderr, "%s\n", s.c_str()); }

int train_command(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(train_help().c_str(), stdout);
    return 0;
  }
  const TrainConfig config = parse_train_args(args);
  const StopSignals signals;
  const TrainStats stats = run_training(config, log_line, stop_signal);
  return stats.stop_signal ? 128 + stats.stop_signal : 0;
}

// The evaluation commands' arguments, on flag tables as train's and synth's. Each reads a file
// of word vectors first.
struct VectorsArgs {
  std::string vectors;
};
struct SimilarArgs : VectorsArgs {
  std::string word;
  std::uint64_t k = 10;
};
struct AnalogyArgs : VectorsArgs {
  std::string questions;
  std::uint64_t restrict_vocab = 30000;
};
struct SimilarityArgs : VectorsArgs {
  std::string pairs;
};

// An evaluation command: its flag table after VECTORS, a description, and what it does with the
// parsed arguments. The usage line and --help come from the table.
template <class Args>
struct EvalCommand {
  const char* name;
  const char* about;
  std::vector<FlagSpec<Args>> flags;
  void (*run)(const Args&);

  int operator()(const std::vector<std::string>& args) const {
    using FlagConfig = Args;
    std::vector<FlagSpec<Args>> table = {
        W2V_POSITIONAL(vectors, "VECTORS", "word vectors (word2vec .txt or .bin)")};
    table.insert(table.end(), flags.begin(), flags.end());
    if (wants_help(args)) {
      std::string usage;
      for (const auto& f : table)
        if (f.positional) usage += " " + f.metavar;
      if (std::any_of(flags.begin(), flags.end(), [](const auto& f) { return !f.positional; }))
        usage += " [flags]";
      std::printf("usage: w2v %s%s\n\n%s\n\n%s", name, usage.c_str(), about,
                  flags_help(table).c_str());
      return 0;
    }
    Args parsed;
    parse_flags(table, args, name, parsed);
    run(parsed);
    return 0;
  }
};

int similar_command(const std::vector<std::string>& args) {
  using FlagConfig = SimilarArgs;
  static const EvalCommand<SimilarArgs> similar{
      "similar",
      "Prints the N nearest neighbours of WORD by cosine similarity (case-insensitive when\nWORD "
      "itself is absent).",
      {W2V_POSITIONAL(word, "WORD", "the word whose neighbours to print"),
       with_short_name(W2V_INT_FLAG("k", k, std::uint64_t, "neighbours to print"), "k")},
      [](const SimilarArgs& a) {
        const Embeddings e = read_vectors(a.vectors);
        for (const Neighbor& n : nearest_neighbors(e, a.word, a.k, a.vectors))
          std::printf("%-24s %.4f\n", n.word.c_str(), n.cosine);
      }};
  return similar(args);
}

int analogy_command(const std::vector<std::string>& args) {
  using FlagConfig = AnalogyArgs;
  static const EvalCommand<AnalogyArgs> analogy{
      "analogy",
      "Google analogy test as word2vec's compute-accuracy: 3CosAdd over the N most frequent\n"
      "words, case-insensitive; questions with a word outside them are skipped and counted.",
      {W2V_POSITIONAL(questions, "QUESTIONS", "analogy questions (questions-words.txt format)"),
       W2V_INT_FLAG("restrict", restrict_vocab, std::uint64_t,
                    "vocabulary size searched, 0 for all")},
      [](const AnalogyArgs& a) {
        print_analogy_report(stdout, evaluate_analogy(read_vectors(a.vectors, a.restrict_vocab),
                                                      a.questions, a.restrict_vocab));
      }};
  return analogy(args);
}

int similarity_command(const std::vector<std::string>& args) {
  using FlagConfig = SimilarityArgs;
  static const EvalCommand<SimilarityArgs> similarity{
      "similarity",
      "Spearman correlation between human scores and cosine similarity; pairs with a word\n"
      "outside the vectors are skipped and counted.",
      {W2V_POSITIONAL(pairs, "PAIRS",
                      "lines 'word1 word2 score' (tab- or space-separated, '#' comments)")},
      [](const SimilarityArgs& a) {
        const SimilarityReport r = evaluate_similarity(read_vectors(a.vectors), a.pairs);
        std::printf("spearman %.4f  pairs %zu  oov %zu\n", r.spearman, r.pairs_used, r.pairs_oov);
      }};
  return similarity(args);
}

int synth_command(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(synth_help().c_str(), stdout);
    return 0;
  }
  SynthConfig c = parse_synth_args(args);
  const StopSignals signals(StopSignals::First::kExitsAtOnce);  // no partial corpus left
  std::fprintf(stderr, "writing %llu tokens to %s\n", static_cast<unsigned long long>(c.tokens),
               c.output.c_str());
  auto start = std::chrono::steady_clock::now();
  write_synthetic_corpus(c);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "wrote %llu tokens (%llu word types, %u topics) to %s in %.1f s\n",
               static_cast<unsigned long long>(c.tokens), static_cast<unsigned long long>(c.vocab),
               c.topics, c.output.c_str(), seconds);
  return 0;
}

}  // namespace

int run_cli(const std::vector<std::string>& args) {
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::fputs(kOverview, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    const std::string& command = args[0];
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (command == "train") return train_command(rest);
    if (command == "similar") return similar_command(rest);
    if (command == "analogy") return analogy_command(rest);
    if (command == "similarity") return similarity_command(rest);
    if (command == "synth") return synth_command(rest);
    throw Error("unknown command '" + command + "' (see w2v --help)");
  } catch (const DivergedError& e) {
    std::fprintf(stderr, "w2v: error: %s\n", e.what());
    return 3;
  } catch (const Error& e) {
    std::fprintf(stderr, "w2v: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "w2v: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "w2v: internal error: %s\n", e.what());
    return 70;
  }
}

}  // namespace w2v
