#include "w2v/corpus.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "checksum.h"
#include "w2v/error.h"
#include "w2v/text_input.h"

namespace w2v {

namespace {
constexpr std::size_t kWriteChunk = 1 << 16;

std::string hex(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}
}  // namespace

void EncodedCorpus::encode(const std::string& text_path, const Vocab& vocab,
                           TokenizerOptions options, const std::string& out_path) {
  Tokenizer tokenizer(text_path, options);
  std::uint64_t source_size = 0;
  const std::uint64_t source_stamp = corpus_stamp({text_path}, source_size);
  EncodedCorpusWriter out(out_path);
  std::vector<std::uint32_t> chunk;
  chunk.reserve(kWriteChunk);
  std::uint64_t tokens = 0, entries = 0;
  bool sentence_open = false;
  auto emit = [&](std::uint32_t v) {
    chunk.push_back(v);
    ++entries;
    if (chunk.size() == kWriteChunk) {
      out.write(chunk.data(), chunk.size());
      chunk.clear();
    }
  };
  std::string_view token;
  bool sentence_end = false;
  while (tokenizer.next(token, sentence_end)) {
    std::uint32_t id = vocab.find(token);
    if (id != Vocab::kNotFound) {
      emit(id);
      ++tokens;
      sentence_open = true;
    }
    // Sentences whose words were all dropped leave no trace.
    if (sentence_end && sentence_open) {
      emit(kSentenceEnd);
      sentence_open = false;
    }
  }
  if (sentence_open) emit(kSentenceEnd);
  out.write(chunk.data(), chunk.size());
  if (tokens == 0) throw_file_error(text_path, "no token of the corpus is in the vocabulary");
  out.finish(CorpusHeader::make(vocab, tokens, entries, source_size, source_stamp,
                                options.lowercase));
}

CorpusHeader CorpusHeader::make(const Vocab& vocab, std::uint64_t tokens, std::uint64_t entries,
                                std::uint64_t source_size, std::uint64_t source_stamp,
                                bool lowercase) {
  CorpusHeader h{};
  std::memcpy(h.magic, kMagic, sizeof h.magic);
  h.version = kVersion;
  h.vocab_size = static_cast<std::uint32_t>(vocab.size());
  h.vocab_hash = vocab.hash();
  h.token_count = tokens;
  h.entry_count = entries;
  h.source_size = source_size;
  h.source_stamp = source_stamp;
  h.lowercase = lowercase ? 1 : 0;
  return h;
}

struct EncodedCorpusWriter::Hash {
  Checksum entries;
};

EncodedCorpusWriter::EncodedCorpusWriter(std::string path)
    : out_(std::move(path)), hash_(std::make_unique<Hash>()) {
  // A placeholder, so the entries land at their final offset.
  const CorpusHeader placeholder{};
  out_.write(&placeholder, sizeof placeholder);
}

EncodedCorpusWriter::~EncodedCorpusWriter() = default;

void EncodedCorpusWriter::write(const std::uint32_t* entries, std::size_t count) {
  hash_->entries.add(entries, count * sizeof *entries);
  out_.write(entries, count * sizeof *entries);
}

void EncodedCorpusWriter::finish(CorpusHeader header) {
  header.entries_checksum = hash_->entries.value();
  out_.rewrite_start(&header, sizeof header);
  out_.commit();
}

bool EncodedCorpus::is_encoded(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[8] = {};
  bool yes = std::fread(magic, 1, sizeof magic, f) == sizeof magic &&
             std::memcmp(magic, CorpusHeader::kMagic, sizeof magic) == 0;
  std::fclose(f);
  return yes;
}

CorpusHeader EncodedCorpus::read_header(const std::string& path) {
  InputFile in(path, sizeof(CorpusHeader));
  CorpusHeader h{};
  if (!in.read_exact(&h, sizeof h)) throw_file_error(path, "empty file, not an encoded corpus");
  if (std::memcmp(h.magic, CorpusHeader::kMagic, sizeof h.magic) != 0)
    throw_file_error(path, "not an encoded corpus (bad magic number)");
  if (h.version != CorpusHeader::kVersion)
    throw_file_error(path, "encoded corpus version " + std::to_string(h.version) +
                               ", this build reads version " +
                               std::to_string(CorpusHeader::kVersion) + "; delete it to re-encode");
  return h;
}

EncodedCorpus::EncodedCorpus(const std::string& path, const Vocab& vocab) {
  header_ = read_header(path);
  if (header_.vocab_size != vocab.size() || header_.vocab_hash != vocab.hash())
    throw_file_error(path,
                     "encoded with another vocabulary (" + std::to_string(header_.vocab_size) +
                         " words, hash " + hex(header_.vocab_hash) + "; this vocabulary has " +
                         std::to_string(vocab.size()) + " words, hash " + hex(vocab.hash()) + ")");
  file_ = std::make_unique<MappedFile>(path);
  std::uint64_t expected = sizeof(CorpusHeader) + header_.entry_count * sizeof(std::uint32_t);
  if (header_.entry_count > (file_->size() / sizeof(std::uint32_t)) || file_->size() != expected)
    throw_file_error(path, "size " + std::to_string(file_->size()) + " bytes, header implies " +
                               std::to_string(expected) + " (truncated or corrupt)");
  entries_ = reinterpret_cast<const std::uint32_t*>(file_->data() + sizeof(CorpusHeader));
  // One pass over the ids so that no later indexing can go out of bounds.
  std::uint64_t tokens = 0, run = 0, longest = 0;
  std::uint32_t bad = 0;
  const std::uint32_t limit = header_.vocab_size;
  for (std::size_t i = 0; i < header_.entry_count; ++i) {
    std::uint32_t v = entries_[i];
    tokens += v != kSentenceEnd;
    bad |= static_cast<std::uint32_t>(v >= limit && v != kSentenceEnd);
    run = v == kSentenceEnd ? 0 : run + 1;
    longest = std::max(longest, run);
  }
  if (bad) throw_file_error(path, "holds a word id outside the vocabulary (corrupt)");
  if (longest > kMaxSentenceTokens)
    throw_file_error(path, "holds a sentence of more than " + std::to_string(kMaxSentenceTokens) +
                               " tokens, which w2v cuts (corrupt)");
  if (tokens != header_.token_count)
    throw_file_error(path, "header says " + std::to_string(header_.token_count) +
                               " tokens, the data holds " + std::to_string(tokens) + " (corrupt)");
  if (Checksum::of(entries_, header_.entry_count * sizeof *entries_) != header_.entries_checksum)
    throw_file_error(path, "checksum mismatch: the file is damaged (delete it to re-encode)");
}

std::vector<CorpusRange> split_at_sentences(const std::uint32_t* entries, std::size_t count,
                                            std::size_t parts) {
  parts = std::max<std::size_t>(parts, 1);
  std::vector<std::size_t> cuts{0};
  for (std::size_t p = 1; p < parts; ++p) {
    // count * p overflows only past 2^64 / parts entries; the quotient and remainder do not.
    const std::size_t even = count / parts * p + count % parts * p / parts;
    std::size_t at = std::max(even, cuts.back());
    while (at < count && at > 0 && entries[at - 1] != kSentenceEnd) ++at;
    cuts.push_back(at);
  }
  cuts.push_back(count);
  std::vector<CorpusRange> ranges;
  for (std::size_t p = 0; p < parts; ++p) ranges.push_back({cuts[p], cuts[p + 1]});
  return ranges;
}

PreparedCorpus prepare_corpus(const CorpusOptions& o, LogLine log) {
  auto say = [&](const std::string& s) {
    if (log) log(s);
  };
  const std::vector<std::string> files = corpus_files(o.corpus_path);
  PreparedCorpus out;
  if (files.size() == 1 && EncodedCorpus::is_encoded(files.front())) {
    if (o.vocab_path.empty() || !file_exists(o.vocab_path))
      throw_file_error(o.corpus_path,
                       "is an encoded corpus: give the vocabulary it was encoded with (--vocab)");
    out.vocab = Vocab::load(o.vocab_path);
    out.encoded_path = files.front();
    return out;
  }

  namespace fs = std::filesystem;
  // The cache is named after the corpus: its file, its directory, or its first file and how
  // many follow.
  std::string base = fs::path(o.corpus_path).filename().string();
  if (base.empty()) base = fs::path(o.corpus_path).parent_path().filename().string();
  if (o.corpus_path.find(',') != std::string::npos)
    base = fs::path(files.front()).filename().string() + ".and" + std::to_string(files.size() - 1);
  std::string stem = base + ".mc" + std::to_string(o.min_count) +
                     (o.max_vocab ? ".mv" + std::to_string(o.max_vocab) : "") +
                     (o.max_count_words ? ".cw" + std::to_string(o.max_count_words) : "") +
                     (o.tokenizer.lowercase ? ".lc" : "");
  fs::path dir = o.cache_dir.empty() ? fs::path(".") : fs::path(o.cache_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw_file_error(dir.string(), "cannot create the cache directory: " + ec.message());
  std::string vocab_path = o.vocab_path.empty() ? (dir / (stem + ".vocab")).string() : o.vocab_path;
  bool explicit_vocab = !o.vocab_path.empty() && file_exists(o.vocab_path);
  out.encoded_path =
      o.vocab_path.empty() ? (dir / (stem + ".tokens")).string() : vocab_path + ".tokens";

  const FileLock lock(dir.string(), log, o.stop_signal);
  std::uint64_t source_size = 0;
  const std::uint64_t source_stamp = corpus_stamp(files, source_size);
  bool cache_ok = false;
  if (!o.rebuild && file_exists(vocab_path) && file_exists(out.encoded_path)) {
    try {
      CorpusHeader h = EncodedCorpus::read_header(out.encoded_path);
      Vocab v = Vocab::load(vocab_path);
      cache_ok = h.vocab_hash == v.hash() && h.vocab_size == v.size() &&
                 h.source_size == source_size && h.source_stamp == source_stamp &&
                 h.lowercase == (o.tokenizer.lowercase ? 1u : 0u);
      if (cache_ok) out.vocab = std::move(v);
    } catch (const Error&) {
      cache_ok = false;  // a damaged cache is rebuilt, not fatal
    }
  }
  if (cache_ok) {
    say("reusing vocabulary " + vocab_path + " and encoded corpus " + out.encoded_path);
    out.reused_cache = true;
    return out;
  }
  CorpusBuildOptions build;
  build.tokenizer = o.tokenizer;
  build.min_count = o.min_count;
  build.max_vocab = o.max_vocab;
  build.max_count_words = o.max_count_words;
  build.progress_interval = o.progress_interval;
  build.threads = o.threads;
  build.name = o.corpus_path;
  build.log = log;
  build.trace = o.trace;
  build.stop_signal = o.stop_signal;
  if (explicit_vocab) {
    say("reading vocabulary " + vocab_path);
    out.vocab = Vocab::load(vocab_path);
    build.vocab = &out.vocab;
    say("encoding " + o.corpus_path + " -> " + out.encoded_path);
    build_encoded_corpus(files, build, out.encoded_path);
    return out;
  }
  say("building vocabulary from " + o.corpus_path + " and encoding it -> " + out.encoded_path);
  const auto start = std::chrono::steady_clock::now();
  out.vocab = build_encoded_corpus(files, build, out.encoded_path);
  out.vocab.save(vocab_path);
  char done[160];
  std::snprintf(done, sizeof done, "prepared %zu words from %.1f MB in %.1f s", out.vocab.size(),
                source_size / 1e6,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  say(done);
  return out;
}

}  // namespace w2v
