// build_encoded_corpus (include/w2v/corpus.h): the vocabulary and the encoded corpus in one
// parallel pass over the text.
//
// A reader thread pulls the (decompressed) bytes and cuts them into blocks of about
// kBlockBytes, each ending where a token starts, so that every token and the whitespace after
// it (where its sentence end is decided) lie in one block. Worker threads tokenize blocks with
// the single-threaded Tokenizer's rules, count each word in their own table and keep the
// block's provisional ids (their table's entry numbers, a flag bit for "a newline or the
// corpus end follows"), in memory or, past a budget, in a scratch file. Then the tables are
// merged (counts summed; a word's first occurrence is the earliest (block, position) of any
// table), the vocabulary is sorted and cut as Vocab::build does, the threads map every
// provisional id to its final one, and one sequential pass writes them out, dropping
// out-of-vocabulary tokens and ending sentences where the Tokenizer would (a newline, the
// 10,000th token of a sentence, the corpus end).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "w2v/corpus.h"
#include "w2v/error.h"
#include "w2v/text_input.h"
#include "w2v/trace.h"
#include "word_table.h"

namespace w2v {
namespace {

constexpr std::size_t kBlockBytes = std::size_t(8) << 20;
constexpr std::size_t kReadBytes = std::size_t(1) << 20;
// Provisional ids kept in memory before the rest go to a scratch file: 4 GiB.
constexpr std::size_t kMemoryBudgetIds = std::size_t(1) << 30;
constexpr std::uint32_t kEndsSentence = 0x80000000u;  // flag on a provisional id
static_assert(WordTable::kMaxWords < kEndsSentence);

// Byte kinds for the Tokenizer's rules (include/w2v/vocab.h): whitespace is a blank or a
// newline; a NUL is neither a word byte nor whitespace, so it stops every scan (each block
// ends with one, past its text).
constexpr unsigned char kWordByte = 0, kBlank = 1, kNewline = 3, kNul = 4;
struct ByteKinds {
  unsigned char kind[256] = {}, lower[256] = {};
  constexpr ByteKinds() {
    for (int c = 0; c < 256; ++c) {
      kind[c] = c == '\n'                                                      ? kNewline
                : c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ? kBlank
                : c == 0                                                       ? kNul
                                                                               : kWordByte;
      lower[c] = static_cast<unsigned char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
  }
};
constexpr ByteKinds kBytes;

struct Block {
  std::uint64_t index = 0, offset = 0;  // its number and first byte in the text stream
  std::vector<char> bytes;              // its text, then a NUL
  bool last = false;                    // holds the corpus's last token
};

// The blocks' provisional ids: in memory up to a budget, beyond it in a scratch file beside
// the output (deleted with the object), so that a corpus of any size fits.
class ProvisionalIds {
 public:
  ProvisionalIds(std::string scratch_path, std::size_t memory_budget_ids)
      : path_(std::move(scratch_path)), budget_(memory_budget_ids) {}
  ~ProvisionalIds() {
    if (file_) {
      std::fclose(file_);
      std::remove(path_.c_str());
    }
  }

  // Block `index` holds `ids` of table `table` as it stood after `generation` prunings;
  // thread-safe.
  void put(std::size_t index, std::uint32_t table, std::uint32_t generation,
           std::vector<std::uint32_t>&& ids) {
    std::uint64_t after_flag = 0;  // tokens after the block's last flagged one
    bool flagged = false;
    for (auto it = ids.rbegin(); it != ids.rend() && !(flagged = *it & kEndsSentence); ++it)
      ++after_flag;
    std::lock_guard<std::mutex> lock(mutex_);
    if (blocks_.size() <= index) blocks_.resize(index + 1);
    Block& b = blocks_[index];
    b.table = table;
    b.generation = generation;
    b.count = ids.size();
    b.flagged = flagged;
    b.after_flag = after_flag;
    if (in_memory_ + ids.size() <= budget_) {
      in_memory_ += ids.size();
      b.ids = std::move(ids);
      return;
    }
    if (!file_) {
      file_ = std::fopen(path_.c_str(), "w+b");
      if (!file_) throw_file_error(path_, std::string("cannot create: ") + std::strerror(errno));
    }
    b.at = file_size_;
    b.spilled = true;
    if (std::fwrite(ids.data(), sizeof ids[0], ids.size(), file_) != ids.size())
      throw_file_error(path_, std::string("write failed: ") + std::strerror(errno));
    file_size_ += ids.size();
  }

  std::size_t blocks() const { return blocks_.size(); }
  std::uint32_t table(std::size_t index) const { return blocks_[index].table; }
  std::uint32_t generation(std::size_t index) const { return blocks_[index].generation; }
  // The sentence-token counter after block `index`, given the one before it: a flagged token
  // (newline, corpus end) resets it, and so does every 10,000th token.
  std::uint64_t counter_after(std::size_t index, std::uint64_t before) const {
    const Block& b = blocks_[index];
    return (b.flagged ? b.after_flag : before + b.count) % kMaxSentenceTokens;
  }
  void release(std::size_t index) { std::vector<std::uint32_t>().swap(blocks_[index].ids); }

  // After the last put(): block `index`'s ids, in memory or read into `buffer`. Different
  // blocks may be read on different threads.
  std::vector<std::uint32_t>& get(std::size_t index, std::vector<std::uint32_t>& buffer) {
    Block& b = blocks_[index];
    if (!b.spilled) return b.ids;
    std::call_once(flushed_, [&] {
      if (std::fflush(file_) != 0)
        throw_file_error(path_, std::string("write failed: ") + std::strerror(errno));
    });
    buffer.resize(b.count);
    if (::pread(fileno(file_), buffer.data(), b.count * 4, static_cast<off_t>(b.at * 4)) !=
        static_cast<ssize_t>(b.count * 4))
      throw_file_error(path_, std::string("read failed: ") + std::strerror(errno));
    return buffer;
  }

 private:
  struct Block {
    std::uint32_t table = 0, generation = 0;
    std::uint64_t count = 0, at = 0, after_flag = 0;
    bool spilled = false, flagged = false;
    std::vector<std::uint32_t> ids;
  };

  std::string path_;
  std::size_t budget_;
  std::mutex mutex_;
  std::vector<Block> blocks_;
  std::size_t in_memory_ = 0;
  std::FILE* file_ = nullptr;
  std::uint64_t file_size_ = 0;
  std::once_flag flushed_;
};

// A bounded queue of blocks from the reader to the workers.
class BlockQueue {
 public:
  explicit BlockQueue(std::size_t capacity) : capacity_(capacity) {}
  // False once cancelled: the reader stops.
  bool push(Block block) {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return blocks_.size() < capacity_ || cancelled_; });
    if (cancelled_) return false;
    blocks_.push_back(std::move(block));
    changed_.notify_all();
    return true;
  }
  std::optional<Block> pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return !blocks_.empty() || closed_ || cancelled_; });
    if (cancelled_ || blocks_.empty()) return std::nullopt;
    Block b = std::move(blocks_.front());
    blocks_.pop_front();
    changed_.notify_all();
    return b;
  }
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    changed_.notify_all();
  }
  // Text buffers go round between the reader and the workers: fresh memory for every block
  // would cost the kernel a page fault and a zeroed page for every 4 KiB read.
  void recycle(std::vector<char>&& bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    bytes.clear();
    spare_.push_back(std::move(bytes));
  }
  std::vector<char> spare() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (spare_.empty()) return {};
    std::vector<char> bytes = std::move(spare_.back());
    spare_.pop_back();
    return bytes;
  }
  void cancel() {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Block> blocks_;
  std::vector<std::vector<char>> spare_;
  std::size_t capacity_;
  bool closed_ = false, cancelled_ = false;
};

// The reader: blocks of the text stream, each cut where a token starts.
void read_blocks(TextReader& reader, BlockQueue& queue, std::size_t block_bytes,
                 std::atomic<std::uint64_t>& input_bytes) {
  const std::size_t read_bytes = std::min(kReadBytes, block_bytes);
  std::vector<char> pending;
  std::uint64_t index = 0, offset = 0;
  std::size_t searched = 0;  // pending[0, searched) holds no cut point
  while (true) {
    const std::size_t had = pending.size();
    pending.resize(had + read_bytes);
    const std::size_t got = reader.read(pending.data() + had, read_bytes);
    pending.resize(had + got);
    input_bytes.store(reader.input_bytes_read(), std::memory_order_relaxed);
    if (got == 0) {
      pending.push_back('\0');
      queue.push(Block{index, offset, std::move(pending), true});
      return;
    }
    if (pending.size() < block_bytes) continue;
    // The last token start p: a non-space byte after a space. None: one giant token, read on.
    const auto* bytes = reinterpret_cast<const unsigned char*>(pending.data());
    const std::size_t low = std::max<std::size_t>(searched, 1);
    std::size_t cut = pending.size() - 1;
    auto space = [&](std::size_t i) { return (kBytes.kind[bytes[i]] & kBlank) != 0; };
    while (cut >= low && !(space(cut - 1) && !space(cut))) --cut;
    if (cut < low) {
      searched = pending.size();
      continue;
    }
    std::vector<char> tail = queue.spare();
    tail.assign(pending.begin() + static_cast<std::ptrdiff_t>(cut), pending.end());
    pending.resize(cut);
    const std::uint64_t size = pending.size();
    pending.push_back('\0');
    if (!queue.push(Block{index++, offset, std::move(pending), false})) return;
    offset += size;
    pending = std::move(tail);
    searched = 0;
  }
}

// A worker: the tokens of one block into its table and the block's provisional ids.
void tokenize_block(const Block& block, const TokenizerOptions& options, WordTable& table,
                    std::vector<std::uint32_t>& ids, const TextReader& reader) {
  const unsigned char* kind = kBytes.kind;
  const auto* first = reinterpret_cast<const unsigned char*>(block.bytes.data());
  const unsigned char* end = first + block.bytes.size() - 1;  // at the NUL sentinel
  const unsigned char* p = first;
  auto nul = [&](const unsigned char* at) {
    throw_file_error(reader.file_at(block.offset + static_cast<std::uint64_t>(at - first)),
                     "contains a NUL byte: binary data, not text (decompress it, or convert "
                     "UTF-16 to UTF-8)");
  };
  char lowered[kMaxTokenBytes];
  ids.clear();
  while (true) {
    while (kind[*p] & kBlank) ++p;  // blanks and newlines
    if (*p == 0) {
      if (p == end) break;
      nul(p);
    }
    const unsigned char* start = p;
    while (kind[*p] == kWordByte) ++p;
    if (*p == 0 && p != end) nul(p);
    const std::size_t length = std::min<std::size_t>(p - start, kMaxTokenBytes);
    const char* word = reinterpret_cast<const char*>(start);
    if (options.lowercase) {
      for (std::size_t i = 0; i < length; ++i)
        lowered[i] = static_cast<char>(kBytes.lower[start[i]]);
      word = lowered;
    }
    while (kind[*p] == kBlank) ++p;
    const bool ends = *p == '\n' || (p == end && block.last);
    const std::uint64_t position = (block.index << 32) | ids.size();
    const std::uint32_t id = table.find_or_insert(word, length, hash_word(word, length), position);
    ++table.counts[id];
    ids.push_back(id | (ends ? kEndsSentence : 0u));
  }
}

// A progress line per interval while the text is read (megabytes, words and an ETA), and a
// last one when the reading ends, if it took an interval or more.
class PrepareProgress {
 public:
  PrepareProgress(LogLine log, std::uint64_t total_bytes, double interval)
      : log_(log), total_(total_bytes), interval_(interval), next_(interval) {}
  void report(std::uint64_t bytes, std::uint64_t words) {
    const double s = seconds();
    if (!log_ || s < next_) return;
    next_ = s + interval_;
    say(bytes, words, s);
  }
  void finish(std::uint64_t bytes, std::uint64_t words) {
    const double s = seconds();
    if (log_ && s >= interval_) say(bytes, words, s);
  }

 private:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void say(std::uint64_t bytes, std::uint64_t words, double s) {
    char line[200];
    const double mb = bytes / 1e6, rate = s > 0 ? mb / s : 0;
    const double eta = bytes > 0 && total_ > bytes ? s * (double(total_) / bytes - 1) : 0;
    std::snprintf(line, sizeof line,
                  "preparing: %.1f of %.1f MB (%.1f%%), %.1f MB/s, %.2fM words/s, ETA %.0f s", mb,
                  total_ / 1e6, total_ ? 100.0 * bytes / total_ : 100.0, rate,
                  s > 0 ? words / s / 1e6 : 0.0, eta);
    log_(line);
  }

  LogLine log_;
  std::uint64_t total_;
  double interval_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double next_;
};

// Runs body(0) .. body(n - 1) on n threads; rethrows the first exception once all have ended.
void on_threads(unsigned n, const std::function<void(unsigned)>& body) {
  std::vector<std::exception_ptr> errors(n);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < n; ++t)
    pool.emplace_back([&, t] {
      try {
        body(t);
      } catch (...) {
        errors[t] = std::current_exception();
      }
    });
  for (auto& th : pool) th.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// The threads' tables merged into `parts` tables, each word in the part its hash picks, on
// `parts` threads: ids[t][id] is the number of table t's word `id` in its part.
struct MergedWords {
  std::vector<WordTable> parts;
  std::vector<std::vector<std::uint32_t>> ids;

  // Bits of the hash the tables' slots do not start from (those take the low bits).
  static unsigned part_of(std::uint64_t hash, std::size_t parts) {
    return static_cast<unsigned>(((hash >> 32) * parts) >> 32);
  }

  MergedWords(const std::vector<WordTable>& tables, unsigned threads)
      : parts(threads), ids(tables.size()) {
    for (std::size_t t = 0; t < tables.size(); ++t) ids[t].resize(tables[t].size());
    on_threads(threads, [&](unsigned p) {
      WordTable& merged = parts[p];
      for (std::size_t t = 0; t < tables.size(); ++t) {
        const WordTable& table = tables[t];
        for (std::uint32_t id = 0; id < table.size(); ++id) {
          const std::uint64_t hash = table.hash(id);
          if (part_of(hash, threads) != p) continue;
          const std::string_view w = table.word(id);
          const std::uint32_t m = merged.find_or_insert(w.data(), w.size(), hash, table.firsts[id]);
          merged.counts[m] += table.counts[id];
          merged.firsts[m] = std::min(merged.firsts[m], table.firsts[id]);
          ids[t][id] = m;
        }
      }
    });
  }
};

}  // namespace

std::size_t count_words_cap(std::size_t max_count_words) {
  if (max_count_words) return max_count_words;
  // A counted word takes about 64 bytes (its slots, entry, count, first position and
  // bytes); let counting have a quarter of the memory.
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  const std::size_t memory =
      pages > 0 && page > 0 ? std::size_t(pages) * std::size_t(page) : std::size_t(8) << 30;
  return memory / 4 / 64;
}

Vocab build_encoded_corpus(const std::vector<std::string>& files, const CorpusBuildOptions& o,
                           const std::string& out_path) {
  const std::string name = o.name.empty() ? files.front() : o.name;
  std::uint64_t total_bytes = 0;
  const std::uint64_t stamp = corpus_stamp(files, total_bytes);
  const unsigned threads =
      o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());

  const std::uint32_t track = o.trace ? o.trace->track("prepare") : 0;
  std::optional<Trace::Span> stage(std::in_place, o.trace, track, "count words");
  // One pass over the text: count and write provisional ids.
  TextReader reader(files);
  ProvisionalIds provisional(out_path + ".ids.tmp." + std::to_string(::getpid()),
                             o.memory_budget_ids ? o.memory_budget_ids : kMemoryBudgetIds);
  BlockQueue queue(2 * threads);
  std::vector<WordTable> tables(threads);
  // Past its share of the cap on distinct words, a table forgets its rarest words, as
  // word2vec.c does, each time above a higher count; remaps[t][g] takes table t's ids of
  // generation g (after g prunings) to those of generation g + 1. A given vocabulary keeps
  // every word: its tokens are encoded whatever their count.
  const std::size_t table_cap =
      o.vocab ? 0 : std::max<std::size_t>(count_words_cap(o.max_count_words) / threads, 1);
  std::vector<std::vector<std::vector<std::uint32_t>>> remaps(threads);
  std::vector<std::uint64_t> pruned_at_most(threads, 0);
  std::atomic<std::uint64_t> input_bytes{0}, words{0};
  std::atomic<unsigned> running{threads + 1};
  std::vector<std::exception_ptr> errors(threads + 1);
  std::vector<std::thread> pool;
  pool.emplace_back([&] {
    try {
      read_blocks(reader, queue, o.block_bytes ? o.block_bytes : kBlockBytes, input_bytes);
    } catch (...) {
      errors[threads] = std::current_exception();
      queue.cancel();
    }
    queue.close();
    --running;
  });
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        std::vector<std::uint32_t> ids;
        while (std::optional<Block> block = queue.pop()) {
          ids.reserve(block->bytes.size() / 4);
          tokenize_block(*block, o.tokenizer, tables[t], ids, reader);
          queue.recycle(std::move(block->bytes));
          words += ids.size();
          const auto generation = static_cast<std::uint32_t>(remaps[t].size());
          provisional.put(block->index, t, generation, std::move(ids));
          ids = {};
          if (table_cap && tables[t].size() > table_cap)
            remaps[t].push_back(tables[t].prune(++pruned_at_most[t]));
        }
      } catch (...) {
        errors[t] = std::current_exception();
        queue.cancel();
      }
      --running;
    });
  }
  PrepareProgress progress(o.log, total_bytes, o.progress_interval);
  int stopped_by = 0;
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    progress.report(input_bytes.load(), words.load());
    if (!stopped_by && o.stop_signal && (stopped_by = o.stop_signal())) queue.cancel();
  }
  for (auto& th : pool) th.join();
  if (stopped_by) throw StoppedError(stopped_by);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  progress.finish(input_bytes.load(), words.load());
  const std::uint64_t pruned = *std::max_element(pruned_at_most.begin(), pruned_at_most.end());
  if (pruned && o.log)
    o.log("counting held more than " + std::to_string(table_cap) +
          " distinct words per thread (--max-count-words), so words seen at most " +
          std::to_string(pruned) + " times were forgotten as it went: counts are approximate");

  stage.emplace(o.trace, track, "merge counts, sort the vocabulary");
  // The vocabulary, and every table's provisional id -> final id.
  std::vector<std::vector<std::uint32_t>> final_ids(threads);
  Vocab vocab;
  if (o.vocab) {
    on_threads(threads, [&](unsigned t) {
      for (std::uint32_t id = 0; id < tables[t].size(); ++id)
        final_ids[t].push_back(o.vocab->find(tables[t].word(id)));
    });
  } else {
    if (words.load() == 0) throw_file_error(name, "the corpus is empty (no tokens)");
    MergedWords merged(tables, threads);
    struct Candidate {
      std::uint64_t count, first;
      std::uint32_t part, id;
    };
    std::vector<Candidate> order;
    for (std::uint32_t p = 0; p < threads; ++p) {
      const WordTable& part = merged.parts[p];
      for (std::uint32_t m = 0; m < part.size(); ++m)
        if (part.counts[m] >= o.min_count) order.push_back({part.counts[m], part.firsts[m], p, m});
    }
    if (order.empty())
      throw_file_error(name, "no word occurs at least " + std::to_string(o.min_count) +
                                 " times (--min-count); the vocabulary would be empty");
    // First occurrences are distinct, so the order is total: the same whatever the parts.
    std::sort(order.begin(), order.end(), [](const Candidate& a, const Candidate& b) {
      return a.count != b.count ? a.count > b.count : a.first < b.first;
    });
    if (o.max_vocab > 0 && order.size() > o.max_vocab) order.resize(o.max_vocab);
    std::vector<std::vector<std::uint32_t>> id_of(threads);  // cut: not in it
    for (std::uint32_t p = 0; p < threads; ++p)
      id_of[p].assign(merged.parts[p].size(), Vocab::kNotFound);
    std::vector<std::string> kept_words;
    std::vector<std::uint64_t> kept_counts;
    for (std::uint32_t i = 0; i < order.size(); ++i) {
      id_of[order[i].part][order[i].id] = i;
      kept_words.emplace_back(merged.parts[order[i].part].word(order[i].id));
      kept_counts.push_back(order[i].count);
    }
    vocab = Vocab::from_counts(std::move(kept_words), std::move(kept_counts), name);
    on_threads(threads, [&](unsigned t) {
      final_ids[t].resize(tables[t].size());
      for (std::uint32_t id = 0; id < tables[t].size(); ++id)
        final_ids[t][id] =
            id_of[MergedWords::part_of(tables[t].hash(id), threads)][merged.ids[t][id]];
    });
  }
  tables.clear();
  // Each generation's final ids, from the last generation back; a pruned word's earlier
  // tokens are dropped, so every count equals the tokens encoded.
  for (unsigned t = 0; t < threads; ++t)
    for (std::size_t g = remaps[t].size(); g-- > 0;) {
      const std::vector<std::uint32_t>& next =
          g + 1 == remaps[t].size() ? final_ids[t] : remaps[t][g + 1];
      for (std::uint32_t& id : remaps[t][g])
        id = id == WordTable::kPruned ? Vocab::kNotFound : next[id];
    }

  stage.emplace(o.trace, track, "encode and write");
  // The final ids and sentence ends. Threads turn blocks into their output, knowing each
  // block's sentence-token counter from the block counts, into a ring of outputs that this
  // thread writes out in order as they are made. Whether a kept token is open at a block's
  // start is settled as it is written: a block whose first sentence end found nothing open in
  // the block gets that end (at its start) only when a token was open before it.
  std::vector<std::uint64_t> counter_before(provisional.blocks());
  for (std::size_t i = 0, counter = 0; i < provisional.blocks(); ++i) {
    counter_before[i] = counter;
    counter = provisional.counter_after(i, counter);
  }
  struct BlockOutput {
    std::vector<std::uint32_t> entries;
    std::uint64_t tokens = 0;
    bool ended = false, first_end_dropped = false, open_at_end = false;
  };
  // Block i is made in outputs[i % ring] once block i - ring is written; made[i % ring] is
  // then i + 1.
  const std::size_t ring = 2 * std::size_t{threads} + 2;
  std::vector<BlockOutput> outputs(ring);  // reused: their buffers stay allocated
  std::vector<std::size_t> made(ring, 0);
  std::size_t written = 0;
  bool stop = false;  // a thread failed
  std::mutex mutex;
  std::condition_variable changed;
  std::atomic<std::size_t> next{0};
  auto make_blocks = [&] {
    std::vector<std::uint32_t> buffer;
    for (std::size_t i = next++; i < provisional.blocks(); i = next++) {
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || i < written + ring; });
        if (stop) return;
      }
      const std::vector<std::uint32_t>& ids = provisional.get(i, buffer);
      const std::uint32_t table = provisional.table(i), g = provisional.generation(i);
      const std::vector<std::uint32_t>& to_final =
          g == remaps[table].size() ? final_ids[table] : remaps[table][g];
      BlockOutput& r = outputs[i % ring];
      r.entries.clear();
      r.tokens = 0;
      r.ended = r.first_end_dropped = false;
      r.entries.reserve(ids.size() + ids.size() / 8);
      std::uint64_t counter = counter_before[i];
      bool kept_open = false;
      for (const std::uint32_t v : ids) {
        const std::uint32_t id = to_final[v & ~kEndsSentence];
        if (id != Vocab::kNotFound) {
          r.entries.push_back(id);
          kept_open = true;
          ++r.tokens;
        }
        if ((v & kEndsSentence) || ++counter >= kMaxSentenceTokens) {
          if (kept_open)
            r.entries.push_back(kSentenceEnd);
          else if (!r.ended)
            r.first_end_dropped = true;
          r.ended = true;
          kept_open = false;
          counter = 0;
        }
      }
      r.open_at_end = kept_open;
      provisional.release(i);
      {
        const std::lock_guard lock(mutex);
        made[i % ring] = i + 1;
      }
      changed.notify_all();
    }
  };
  auto stop_all = [&] {
    {
      const std::lock_guard lock(mutex);
      stop = true;
    }
    changed.notify_all();
  };
  EncodedCorpusWriter out(out_path);
  std::uint64_t tokens = 0, entries_written = 0;
  std::vector<std::exception_ptr> failures(threads + 1);
  std::vector<std::thread> makers;
  for (unsigned t = 0; t < threads; ++t)
    makers.emplace_back([&, t] {
      try {
        make_blocks();
      } catch (...) {
        failures[t] = std::current_exception();
        stop_all();
      }
    });
  try {
    bool open = false;  // a kept token since the last sentence end
    for (std::size_t i = 0; i < provisional.blocks(); ++i) {
      if (o.stop_signal && (stopped_by = o.stop_signal())) {
        stop_all();
        break;
      }
      {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return stop || made[i % ring] == i + 1; });
        if (stop) break;
      }
      const BlockOutput& r = outputs[i % ring];
      if (r.first_end_dropped && open) {
        out.write(&kSentenceEnd, 1);
        ++entries_written;
      }
      out.write(r.entries.data(), r.entries.size());
      entries_written += r.entries.size();
      tokens += r.tokens;
      open = r.ended ? r.open_at_end : open || r.tokens > 0;
      {
        const std::lock_guard lock(mutex);
        written = i + 1;
      }
      changed.notify_all();
    }
  } catch (...) {
    failures[threads] = std::current_exception();
    stop_all();
  }
  for (auto& th : makers) th.join();
  if (stopped_by) throw StoppedError(stopped_by);
  for (auto& e : failures)
    if (e) std::rethrow_exception(e);
  if (tokens == 0) throw_file_error(name, "no token of the corpus is in the vocabulary");
  stage.emplace(o.trace, track, "sync the encoded corpus to disk");
  out.finish(CorpusHeader::make(o.vocab ? *o.vocab : vocab, tokens, entries_written, total_bytes,
                                stamp, o.tokenizer.lowercase));
  stage.reset();
  return o.vocab ? *o.vocab : vocab;
}

}  // namespace w2v
