#include "w2v/train.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/fused_path.h"
#include "gpu/memory_plan.h"
#include "w2v/checkpoint.h"
#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/model.h"
#include "w2v/text_input.h"
#include "w2v/trace.h"
#include "w2v/trainer.h"
#include "w2v/vectors.h"

namespace w2v {

namespace {

// Beside the vectors, unless they go to a device or a pipe: then the working directory ("" for
// CorpusOptions), not /dev.
std::string default_cache_dir(const std::string& output) {
  if (is_device_or_pipe(output)) return "";
  return std::filesystem::path(output).parent_path().string();
}

// A path given to a flag.
struct Named {
  const char* flag;
  std::string path;
};

// The files a run writes, those given.
std::vector<Named> destinations(const TrainConfig& c) {
  std::vector<Named> given;
  for (Named d : {Named{"--output", c.output}, Named{"--checkpoint", c.checkpoint},
                  Named{"--trace", c.trace}, Named{"--loss-log", c.loss_log}})
    if (!d.path.empty()) given.push_back(std::move(d));
  return given;
}

// A file the run writes only at its end (or at its first checkpoint) must be writable before
// the training starts, not found unwritable after it: an existing directory, a missing one, and
// a directory that takes no new file (read-only, /proc) each fail here, naming the flag.
void check_destination(const Named& destination) {
  const auto& [flag, path] = destination;
  // Opening a FIFO to probe it would block for its reader and then end what the reader gets.
  if (is_device_or_pipe(path)) return;
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ignored;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ignored))
    throw_file_error(path, std::string("its directory does not exist (") + flag + ")");
  try {
    // Never committed: its destructor deletes the temporary file. A directory at `path`
    // throws.
    AtomicFile probe(path);
  } catch (const Error& e) {
    throw Error(std::string(e.what()) + " (" + flag + ")");
  }
}

// Whether two paths name one file: the same inode where both exist, else the same place.
bool same_file(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  // Absolute first: libstdc++ leaves "v.txt" relative where no part of it exists yet.
  const fs::path ca = fs::weakly_canonical(fs::absolute(a.empty() ? "." : a), ec);
  if (ec) return false;
  const fs::path cb = fs::weakly_canonical(fs::absolute(b.empty() ? "." : b), ec);
  return !ec && ca.lexically_normal() == cb.lexically_normal();
}

// What a run writes must not replace what it reads, or land among a directory's shards (the
// next run would read the vectors, or the cache's binary tokens, as text): `--output
// corpus.txt` turned the corpus into vectors.
void check_writes_apart_from_reads(const TrainConfig& c) {
  std::vector<Named> writes;
  for (const Named& w : destinations(c))
    if (!is_device_or_pipe(w.path)) writes.push_back(w);
  const bool vocab_written = !c.vocab.empty() && !std::filesystem::exists(c.vocab);
  if (vocab_written) writes.push_back({"--vocab", c.vocab});
  std::vector<Named> others = writes;
  if (!c.vocab.empty() && !vocab_written) others.push_back({"--vocab", c.vocab});
  if (!c.resume.empty()) others.push_back({"--resume", c.resume});
  for (std::size_t i = 0; i < writes.size(); ++i)
    for (std::size_t j = i + 1; j < others.size(); ++j) {
      const bool continues = std::string_view(writes[i].flag) == "--checkpoint" &&
                             std::string_view(others[j].flag) == "--resume";
      if (!continues && same_file(writes[i].path, others[j].path))
        throw_file_error(writes[i].path, std::string("given to both ") + writes[i].flag + " and " +
                                             others[j].flag + ": one would overwrite the other");
    }

  std::vector<std::string> corpus_dirs;
  for (const std::string& item : corpus_items(c.corpus))
    if (std::filesystem::is_directory(item)) corpus_dirs.push_back(item);
  const std::vector<std::string> corpus = corpus_files(c.corpus);
  for (const Named& w : writes) {
    for (const std::string& file : corpus)
      if (same_file(w.path, file))
        throw_file_error(
            w.path, std::string("is a file of the corpus: ") + w.flag + " would replace the text");
    const std::string dir = std::filesystem::path(w.path).parent_path().string();
    for (const std::string& corpus_dir : corpus_dirs)
      if (same_file(dir, corpus_dir))
        throw_file_error(w.path, std::string("is in the corpus directory ") + corpus_dir +
                                     ", every file of which is read as text (" + w.flag +
                                     "): write it elsewhere");
  }
  const std::string cache_dir = c.cache_dir.empty() ? default_cache_dir(c.output) : c.cache_dir;
  for (const std::string& corpus_dir : corpus_dirs)
    if (same_file(cache_dir, corpus_dir))
      throw_file_error(corpus_dir,
                       std::string("the corpus cache would go into this corpus "
                                   "directory, every file of which is read as text (") +
                           (c.cache_dir.empty() ? "the working directory" : "--cache-dir") +
                           "): give --cache-dir another directory");
}

// Bytes go out as they came, as in word2vec.c and fastText; gensim decodes them strictly.
void warn_of_words_not_utf8(const Vocab& vocab,
                            const std::function<void(const std::string&)>& say) {
  std::size_t not_utf8 = 0;
  const std::string* first = nullptr;
  for (const std::string& word : vocab.words())
    if (!is_utf8(word) && not_utf8++ == 0) first = &word;
  if (not_utf8)
    say("warning: " + std::to_string(not_utf8) + " of " + std::to_string(vocab.size()) +
        " words are not UTF-8 (the first: " + shown(*first) +
        "); they are written as they are: load the vectors in gensim with "
        "unicode_errors='replace', or convert the corpus to UTF-8 (iconv)");
}

}  // namespace

TrainingData prepare_training_data(const TrainConfig& c, LogLine log, Trace* trace,
                                   const std::function<int()>& stop_signal) {
  CorpusOptions options;
  options.corpus_path = c.corpus;
  options.vocab_path = c.vocab;
  options.cache_dir = c.cache_dir.empty() ? default_cache_dir(c.output) : c.cache_dir;
  options.tokenizer.lowercase = c.lowercase;
  options.min_count = c.min_count;
  options.max_vocab = c.max_vocab;
  options.max_count_words = c.max_count_words;
  options.progress_interval = c.progress_interval;
  options.threads = c.thread_count();
  options.trace = trace;
  options.stop_signal = stop_signal;
  const std::uint32_t track = trace ? trace->track("prepare") : 0;
  PreparedCorpus prepared = prepare_corpus(options, log);
  TrainingData data;
  try {
    const Trace::Span mapping(trace, track, "map and verify the encoded corpus");
    data.corpus = std::make_unique<EncodedCorpus>(prepared.encoded_path, prepared.vocab);
  } catch (const Error& e) {
    // A damaged cache (a flipped bit, a truncation) is rebuilt; a corpus the user gave is not
    // ours to rewrite.
    if (!prepared.reused_cache) throw;
    if (log) log(std::string("cache unusable (") + e.what() + "); rebuilding it");
    options.rebuild = true;
    prepared = prepare_corpus(options, log);
    data.corpus = std::make_unique<EncodedCorpus>(prepared.encoded_path, prepared.vocab);
  }
  data.vocab = std::move(prepared.vocab);
  const Trace::Span tables(trace, track, "sampling tables");
  data.tables = SamplingTables::build(data.vocab, c);
  return data;
}

Progress::Options progress_options(const TrainConfig& c, std::uint64_t corpus_tokens) {
  Progress::Options o;
  o.total_words = corpus_tokens * c.epochs;
  o.start_alpha = c.start_alpha();
  o.min_alpha_fraction = c.min_alpha_fraction;
  o.interval_seconds = c.progress_interval;
  o.quiet = c.quiet;
  o.loss_log_path = c.loss_log;
  return o;
}

void write_trained_vectors(const TrainConfig& config, const Vocab& vocab, const Model& model) {
  write_vectors(config.output, resolve_vector_format(config.format, config.output), vocab.words(),
                model.input.data(), config.dim,
                config.writes_sum() ? model.output.data() : nullptr);
}

TrainStats run_training(const TrainConfig& given, LogLine log,
                        const std::function<int()>& stop_signal) {
  auto say = [&](const std::string& line) {
    if (log) log(line);
  };
  resolve_vector_format(given.format, given.output);  // a bad --format fails before training
  for (const Named& destination : destinations(given)) check_destination(destination);
  if (!given.resume.empty() && !std::filesystem::is_regular_file(given.resume))
    throw_file_error(given.resume, std::filesystem::exists(given.resume)
                                       ? "not a regular file (--resume)"
                                       : "no such file (--resume)");
  check_writes_apart_from_reads(given);

  std::string announcement;
  std::unique_ptr<Trainer> trainer = make_trainer(given, announcement);
  say(announcement);
  // With the learning rate of the trainer (and GPU path) that runs it.
  const bool on_gpu = std::string_view(trainer->name()) != "cpu";
  const bool fused = on_gpu && use_fused_path(given);
  TrainConfig c = given;
  // The path that runs, not `auto`, goes into a checkpoint's settings: a resume that would take
  // the other path (on a GPU with less shared memory) is refused by name, where the other
  // path's optimizer state read as a corrupt file.
  if (on_gpu) c.gpu_path = fused ? GpuPathKind::kFused : GpuPathKind::kModular;

  const LogLine chatty = c.quiet ? nullptr : log;
  std::optional<Trace> trace;
  if (!c.trace.empty()) trace.emplace();
  Trace* const timeline = trace ? &*trace : nullptr;
  const std::uint32_t main_track = timeline ? timeline->track("main") : 0;
  std::optional<Trace::Span> preparing(std::in_place, timeline, main_track, "prepare corpus");
  TrainingData data;
  try {
    data = prepare_training_data(c, chatty, timeline, stop_signal);
    // A signal while a cache was reused, or while another process held its lock: no
    // preparation saw it.
    if (const int signal = stop_signal ? stop_signal() : 0) throw StoppedError(signal);
  } catch (const StoppedError& stop) {
    // Nothing trained, so no vectors: an untrained table written over a previous file would
    // pass for a result.
    say("stopped by signal " + std::to_string(stop.signal()) + " before training: nothing written");
    TrainStats stats;
    stats.stop_signal = stop.signal();
    return stats;
  }
  preparing.reset();
  const Vocab& vocab = data.vocab;
  c.alpha = given.start_alpha(/*modular_gpu=*/on_gpu && !fused, vocab.size());
  say("vocabulary " + std::to_string(vocab.size()) + " words, corpus " +
      std::to_string(data.corpus->token_count()) + " tokens; " + to_string(c.model) + "/" +
      to_string(c.loss) + ", dim " + std::to_string(c.dim) + ", window " +
      std::to_string(c.window) +
      (c.loss == LossKind::kNegativeSampling
           ? ", negative " + std::to_string(c.negative) + ", noise unigram^" +
                 flags::show(c.noise_exponent())
           : std::string()) +
      ", sample " + flags::show(c.sample) + ", alpha " + flags::show(c.start_alpha()) +
      ", epochs " + std::to_string(c.epochs) + ", threads " + std::to_string(c.thread_count()) +
      (c.tied ? ", tied" : ""));
  warn_of_words_not_utf8(vocab, say);
  if (c.loss == LossKind::kSoftmax && vocab.size() > 200000)
    say("warning: --loss softmax costs O(vocabulary) per example; " + std::to_string(vocab.size()) +
        " words will be slow (consider --max-vocab or ns)");

  if (fused)
    c.sampler_threads = fused_sampler_threads(c, vocab, data.tables, c.sampler_thread_count());
  const CheckpointSettings settings = checkpoint_settings(c, trainer->name(), vocab, *data.corpus);
  TrainControl control;
  control.stop_signal = stop_signal;
  control.save_every_seconds = c.checkpoint_every;
  // The tables, on the host whichever trainer runs: a run that cannot hold them is told so
  // now, not killed by the kernel's OOM killer as it fills them.
  const std::size_t table_bytes = vocab.size() * c.dim * sizeof(float);
  check_memory_fits({{"input vectors", table_bytes}, {"output vectors", c.tied ? 0 : table_bytes}},
                    available_host_memory(), "this machine",
                    "reduce --dim or --max-vocab, or raise --min-count");
  Model model;
  TrainerState resumed;
  if (!c.resume.empty()) {
    Checkpoint saved = read_checkpoint(c.resume);
    check_resumable(c.resume, saved.settings, settings);
    if (saved.model.input.rows() != vocab.size() || saved.model.input.cols() != c.dim ||
        saved.model.tied != c.tied)
      throw_file_error(c.resume, "holds tables of another shape than its settings say (corrupt)");
    model = std::move(saved.model);
    resumed = std::move(saved.state);
    control.resume = &resumed;
    say("resuming from " + c.resume + " at " + std::to_string(resumed.words_done) + " words");
  } else {
    model = Model::initialize(vocab.size(), c.dim, c.tied, c.seed);
  }
  if (!c.checkpoint.empty())
    control.save = [&](const TrainerState& state, const Model& tables) {
      write_checkpoint(c.checkpoint, settings, state, tables);
      if (chatty)
        chatty("checkpoint at " + std::to_string(state.words_done) + " words -> " + c.checkpoint);
    };

  Progress::Options progress_setup = progress_options(c, data.corpus->token_count());
  progress_setup.words_done = resumed.words_done;
  progress_setup.loss_sum = resumed.loss_sum;
  progress_setup.loss_count = resumed.loss_count;
  Progress progress(progress_setup);
  const TrainJob job{c, vocab, *data.corpus, data.tables, log, &control, timeline};
  {
    const Trace::Span training(timeline, main_track, "train");
    trainer->train(job, model, progress);
  }
  const TrainStats stats = progress.summary();
  {
    const Trace::Span writing(timeline, main_track, "write vectors");
    write_trained_vectors(c, vocab, model);
  }
  if (trace) {
    trace->write(c.trace);
    say("wrote a timeline of " + std::to_string(trace->event_count()) + " spans to " + c.trace +
        " (open it in ui.perfetto.dev)");
  }
  say("wrote " + std::to_string(vocab.size()) +
      (c.writes_sum() ? " vectors (input + output) to " : " vectors to ") + c.output +
      (stats.stop_signal
           ? " (training stopped early by signal " + std::to_string(stats.stop_signal) + ")"
           : ""));
  if (stats.stop_signal && !c.checkpoint.empty())
    say("continue with the same flags and --resume " + c.checkpoint);
  return stats;
}

}  // namespace w2v
