#include "w2v/cli.h"

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <new>

#include "w2v/config.h"
#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/eval.h"
#include "w2v/model.h"
#include "w2v/progress.h"
#include "w2v/sampling.h"
#include "w2v/synth.h"
#include "w2v/trainer.h"
#include "w2v/vectors.h"

namespace w2v {

namespace {

constexpr const char* kOverview =
    "w2v: word2vec training (skip-gram, CBOW; negative sampling, full softmax) and evaluation\n\n"
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
  TrainConfig c = parse_train_args(args);
  const VectorFormat format = resolve_vector_format(c.format, c.output);
  namespace fs = std::filesystem;
  fs::path out_dir = fs::path(c.output).parent_path();
  if (!out_dir.empty() && !fs::is_directory(out_dir))
    throw_file_error(c.output, "its directory does not exist (--output)");

  std::string announcement;
  std::unique_ptr<Trainer> trainer = make_trainer(c, announcement);
  log_line(announcement);

  CorpusOptions corpus_options;
  corpus_options.corpus_path = c.corpus;
  corpus_options.vocab_path = c.vocab;
  corpus_options.cache_dir = c.cache_dir.empty() ? out_dir.string() : c.cache_dir;
  corpus_options.tokenizer.lowercase = c.lowercase;
  corpus_options.min_count = c.min_count;
  corpus_options.max_vocab = c.max_vocab;
  PreparedCorpus prepared = prepare_corpus(corpus_options, c.quiet ? nullptr : log_line);
  EncodedCorpus corpus(prepared.encoded_path, prepared.vocab);
  const Vocab& vocab = prepared.vocab;
  SamplingTables tables = SamplingTables::build(vocab, c.sample, c.ns_exponent);

  std::fprintf(stderr,
               "vocabulary %zu words, corpus %llu tokens; %s/%s, dim %u, window %u, negative %u, "
               "sample %g, alpha %g, epochs %u, threads %u%s\n",
               vocab.size(), static_cast<unsigned long long>(corpus.token_count()),
               to_string(c.model), to_string(c.loss), c.dim, c.window, c.negative, c.sample,
               c.start_alpha(), c.epochs, c.thread_count(), c.tied ? ", tied" : "");
  if (c.loss == LossKind::kSoftmax && vocab.size() > 200000)
    log_line("warning: --loss softmax costs O(vocabulary) per example; " +
             std::to_string(vocab.size()) + " words will be slow (consider --max-vocab or ns)");

  Model model = Model::initialize(vocab.size(), c.dim, c.tied, c.seed);
  Progress::Options po;
  po.total_words = corpus.token_count() * c.epochs;
  po.start_alpha = c.start_alpha();
  po.min_alpha_fraction = c.min_alpha_fraction;
  po.interval_seconds = c.progress_interval;
  po.quiet = c.quiet;
  po.loss_log_path = c.loss_log;
  Progress progress(po);
  TrainJob job{c, vocab, corpus, tables};
  trainer->train(job, model, progress);
  progress.summary();
  write_vectors(c.output, format, vocab.words(), model.input.data(), c.dim);
  log_line("wrote " + std::to_string(vocab.size()) + " vectors to " + c.output);
  return 0;
}

// Positional arguments plus "--name value" options of the evaluation commands.
struct EvalArgs {
  std::vector<std::string> positional;
  std::size_t number = 0;
};

EvalArgs parse_eval_args(const std::vector<std::string>& args, const std::string& command,
                         std::size_t positional_count, const char* option_short,
                         const char* option_long, std::size_t default_number) {
  EvalArgs out;
  out.number = default_number;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (option_long && (name == option_long || (option_short && name == option_short))) {
      if (!inline_value) {
        if (i + 1 >= args.size()) throw Error(name + ": missing value");
        value = args[++i];
      }
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc() || p != value.data() + value.size() || value.empty())
        throw Error(name + ": expected a non-negative integer, got '" + value + "'");
      out.number = n;
    } else if (a.size() > 1 && a[0] == '-') {
      throw Error("unknown flag " + name + " (see w2v " + command + " --help)");
    } else {
      out.positional.push_back(a);
    }
  }
  if (out.positional.size() != positional_count)
    throw Error("w2v " + command + ": expected " + std::to_string(positional_count) +
                " arguments, got " + std::to_string(out.positional.size()) + " (see --help)");
  return out;
}

int similar_command(const std::vector<std::string>& args) {
  constexpr std::size_t kDefaultK = 10;
  if (wants_help(args)) {
    std::printf(
        "usage: w2v similar VECTORS WORD [-k N]\n\n"
        "Prints the N nearest neighbours of WORD by cosine similarity (case-insensitive when\n"
        "WORD itself is absent).\n\n"
        "  -k, --k N    neighbours to print [default: %zu]\n",
        kDefaultK);
    return 0;
  }
  EvalArgs a = parse_eval_args(args, "similar", 2, "-k", "--k", kDefaultK);
  Embeddings e = read_vectors(a.positional[0]);
  for (const Neighbor& n : nearest_neighbors(e, a.positional[1], a.number, a.positional[0]))
    std::printf("%-24s %.4f\n", n.word.c_str(), n.cosine);
  return 0;
}

int analogy_command(const std::vector<std::string>& args) {
  constexpr std::size_t kDefaultRestrict = 30000;
  if (wants_help(args)) {
    std::printf(
        "usage: w2v analogy VECTORS QUESTIONS [--restrict N]\n\n"
        "Google analogy test as word2vec's compute-accuracy: 3CosAdd over the N most frequent\n"
        "words, case-insensitive; questions with a word outside them are skipped and counted.\n\n"
        "  --restrict N   vocabulary size searched, 0 for all [default: %zu]\n",
        kDefaultRestrict);
    return 0;
  }
  EvalArgs a = parse_eval_args(args, "analogy", 2, nullptr, "--restrict", kDefaultRestrict);
  Embeddings e = read_vectors(a.positional[0], a.number);
  AnalogyReport r = evaluate_analogy(e, a.positional[1], a.number);
  print_analogy_report(stdout, r);
  return 0;
}

int similarity_command(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::printf(
        "usage: w2v similarity VECTORS PAIRS\n\n"
        "Spearman correlation between human scores and cosine similarity. PAIRS has lines\n"
        "'word1 word2 score' (tab- or space-separated, '#' comments); pairs with a word\n"
        "outside the vectors are skipped and counted.\n");
    return 0;
  }
  EvalArgs a = parse_eval_args(args, "similarity", 2, nullptr, nullptr, 0);
  Embeddings e = read_vectors(a.positional[0]);
  SimilarityReport r = evaluate_similarity(e, a.positional[1]);
  std::printf("spearman %.4f  pairs %zu  oov %zu\n", r.spearman, r.pairs_used, r.pairs_oov);
  return 0;
}

int synth_command(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::fputs(synth_help().c_str(), stdout);
    return 0;
  }
  SynthConfig c = parse_synth_args(args);
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
