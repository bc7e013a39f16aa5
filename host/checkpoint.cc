#include "w2v/checkpoint.h"

#include <cstring>
#include <initializer_list>
#include <memory>

#include "checksum.h"
#include "w2v/error.h"
#include "w2v/io.h"

namespace w2v {

namespace {

constexpr std::size_t kPreambleBytes = 32;  // magic, version, 0, body bytes, body checksum

std::string hex(std::uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The body goes through a checksum on its way to the file.
class BodyWriter {
 public:
  explicit BodyWriter(AtomicFile& out) : out_(out) {}
  void bytes(const void* data, std::size_t n) {
    if (n == 0) return;  // an empty vector's data() may be null
    hash_.add(data, n);
    out_.write(data, n);
    size_ += n;
  }
  template <class T>
  void value(T v) {
    bytes(&v, sizeof v);
  }
  void text(const std::string& s) {
    value(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  std::uint64_t size() const { return size_; }
  std::uint64_t checksum() const { return hash_.value(); }

 private:
  AtomicFile& out_;
  Checksum hash_;
  std::uint64_t size_ = 0;
};

// Reads the body with a bounds check before every field, so a damaged or hostile file gives an
// error, never a read past its end or a huge allocation.
class BodyReader {
 public:
  BodyReader(const unsigned char* data, std::size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}
  const unsigned char* take(std::uint64_t n, const char* what) {
    if (n > size_ - at_)
      throw_file_error(name_, std::string("checkpoint ends inside its ") + what + " (corrupt)");
    const unsigned char* p = data_ + at_;
    at_ += n;
    return p;
  }
  template <class T>
  T value(const char* what) {
    T v;
    std::memcpy(&v, take(sizeof v, what), sizeof v);
    return v;
  }
  std::string text(const char* what) {
    const auto n = value<std::uint32_t>(what);
    const unsigned char* p = take(n, what);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  std::size_t left() const { return size_ - at_; }

 private:
  const unsigned char* data_;
  std::size_t size_, at_ = 0;
  const std::string& name_;
};

}  // namespace

CheckpointSettings checkpoint_settings(const TrainConfig& c, const std::string& trainer,
                                       const Vocab& vocab, const EncodedCorpus& corpus) {
  CheckpointSettings s = {
      {"trainer", trainer},
      {"vocabulary", std::to_string(vocab.size()) + " words, hash " + hex(vocab.hash())},
      {"corpus", std::to_string(corpus.token_count()) + " tokens, checksum " +
                     hex(corpus.header().entries_checksum)},
  };
  auto add_flags = [&](std::initializer_list<const char*> names) {
    for (const char* name : names)
      for (const Flag& f : train_flags())
        if (f.name == name) s.emplace_back("--" + f.name, f.value(c));
  };
  // Every flag that changes what training computes. --threads is the CPU trainer's count of
  // corpus walkers, each with its own slice and RNG.
  add_flags({"model", "loss", "dim", "window", "negative", "tied", "sample", "min-alpha-fraction",
             "optimizer", "momentum", "epochs", "seed"});
  s.emplace_back("--ns-exponent", flags::show(c.noise_exponent()));
  s.emplace_back("--alpha", flags::show(c.start_alpha()));
  if (trainer == "cpu") {
    // The GPU paths draw as their path does (--gpu-path below).
    if (c.model == ModelKind::kSkipGram && c.loss == LossKind::kNegativeSampling)
      add_flags({"sg-noise"});
    s.emplace_back("--threads", std::to_string(c.thread_count()));
    return s;
  }
  // The GPU trainer: its samplers are the corpus walkers; the path and the batches' shape
  // decide what each step computes.
  s.emplace_back("--sampler-threads", std::to_string(c.sampler_thread_count()));
  add_flags({"gpu-path", "fused-tokens", "fused-update", "fused-window-rows", "scatter",
             "repeat-cap", "deterministic", "sg-rows"});
  s.emplace_back("--batch", std::to_string(c.batch_rows()));  // its default follows --loss
  // The twin's warps in lock step, whichever flag set them.
  if (trainer == "twin") s.emplace_back("--twin-warps", std::to_string(c.twin_concurrency()));
  return s;
}

void write_checkpoint(const std::string& path, const CheckpointSettings& settings,
                      const TrainerState& state, const Model& model) {
  AtomicFile out(path);
  const unsigned char placeholder[kPreambleBytes] = {};
  out.write(placeholder, sizeof placeholder);
  BodyWriter body(out);
  body.value(static_cast<std::uint32_t>(settings.size()));
  for (const auto& [key, value] : settings) {
    body.text(key);
    body.text(value);
  }
  body.value(state.words_done);
  body.value(state.loss_sum);
  body.value(state.loss_count);
  body.value(static_cast<std::uint32_t>(state.walkers.size()));
  for (const WalkerState& w : state.walkers) {
    body.value(w.position);
    body.value(w.epoch);
    body.value(w.next_center);
    body.value(w.rng);
    body.value(static_cast<std::uint32_t>(w.sentence.size()));
    body.bytes(w.sentence.data(), w.sentence.size() * sizeof(std::uint32_t));
  }
  const std::uint32_t tables = model.tied ? 1 : 2;
  body.value(static_cast<std::uint64_t>(model.input.rows()));
  body.value(static_cast<std::uint32_t>(model.input.cols()));
  body.value(tables);
  const std::size_t table_bytes = model.input.rows() * model.input.cols() * sizeof(float);
  body.bytes(model.input.data(), table_bytes);
  if (!model.tied) body.bytes(model.output.data(), table_bytes);
  body.value(static_cast<std::uint64_t>(state.extra.size()));
  body.bytes(state.extra.data(), state.extra.size());

  unsigned char preamble[kPreambleBytes];
  const std::uint32_t version = kCheckpointVersion, zero = 0;
  const std::uint64_t size = body.size(), checksum = body.checksum();
  std::memcpy(preamble, kCheckpointMagic, 8);
  std::memcpy(preamble + 8, &version, 4);
  std::memcpy(preamble + 12, &zero, 4);
  std::memcpy(preamble + 16, &size, 8);
  std::memcpy(preamble + 24, &checksum, 8);
  out.rewrite_start(preamble, sizeof preamble);
  out.commit();
}

Checkpoint parse_checkpoint(const unsigned char* data, std::size_t size, const std::string& name) {
  if (size < kPreambleBytes || std::memcmp(data, kCheckpointMagic, 8) != 0)
    throw_file_error(name, "not a w2v checkpoint (bad magic number)");
  std::uint32_t version;
  std::uint64_t body_size, checksum;
  std::memcpy(&version, data + 8, 4);
  std::memcpy(&body_size, data + 16, 8);
  std::memcpy(&checksum, data + 24, 8);
  if (version != kCheckpointVersion)
    throw_file_error(name, "checkpoint version " + std::to_string(version) +
                               ", this build reads version " +
                               std::to_string(kCheckpointVersion));
  if (body_size != size - kPreambleBytes)
    throw_file_error(name, "size " + std::to_string(size) + " bytes, the header implies " +
                               std::to_string(body_size + kPreambleBytes) +
                               " (truncated or corrupt)");
  const unsigned char* body_data = data + kPreambleBytes;
  if (Checksum::of(body_data, body_size) != checksum)
    throw_file_error(name, "checksum mismatch: the checkpoint is damaged; refusing to resume");

  BodyReader body(body_data, body_size, name);
  Checkpoint ck;
  const auto settings = body.value<std::uint32_t>("settings");
  for (std::uint32_t i = 0; i < settings; ++i) {
    std::string key = body.text("settings");
    ck.settings.emplace_back(std::move(key), body.text("settings"));
  }
  ck.state.words_done = body.value<std::uint64_t>("progress");
  ck.state.loss_sum = body.value<double>("progress");
  ck.state.loss_count = body.value<std::uint64_t>("progress");
  const auto walkers = body.value<std::uint32_t>("walkers");
  // 28 bytes at least each: a count beyond what the body holds is corrupt, not an allocation
  // to try.
  if (walkers > body.left() / 28) throw_file_error(name, "checkpoint walker count is corrupt");
  for (std::uint32_t i = 0; i < walkers; ++i) {
    WalkerState w;
    w.position = body.value<std::uint64_t>("walkers");
    w.epoch = body.value<std::uint32_t>("walkers");
    w.next_center = body.value<std::uint32_t>("walkers");
    w.rng = body.value<std::uint64_t>("walkers");
    const auto length = body.value<std::uint32_t>("walkers");
    const unsigned char* ids = body.take(std::uint64_t{length} * sizeof(std::uint32_t), "walkers");
    w.sentence.resize(length);
    if (length) std::memcpy(w.sentence.data(), ids, std::size_t{length} * sizeof(std::uint32_t));
    ck.state.walkers.push_back(std::move(w));
  }
  const auto rows = body.value<std::uint64_t>("tables");
  const auto cols = body.value<std::uint32_t>("tables");
  const auto tables = body.value<std::uint32_t>("tables");
  if (rows == 0 || cols == 0 || (tables != 1 && tables != 2) ||
      rows > body.left() / cols / sizeof(float) / tables)
    throw_file_error(name, "checkpoint table shape " + std::to_string(rows) + " x " +
                               std::to_string(cols) + " x " + std::to_string(tables) +
                               " does not fit the file (corrupt)");
  const std::size_t table_bytes = rows * cols * sizeof(float);
  ck.model.tied = tables == 1;
  ck.model.input = Matrix(rows, cols);
  std::memcpy(ck.model.input.data(), body.take(table_bytes, "tables"), table_bytes);
  if (!ck.model.tied) {
    ck.model.output = Matrix(rows, cols);
    std::memcpy(ck.model.output.data(), body.take(table_bytes, "tables"), table_bytes);
  }
  const auto extra = body.value<std::uint64_t>("extra state");
  const unsigned char* p = body.take(extra, "extra state");
  ck.state.extra.assign(p, p + extra);
  if (body.left() != 0) throw_file_error(name, "checkpoint has bytes after its end (corrupt)");
  return ck;
}

Checkpoint read_checkpoint(const std::string& path) {
  const MappedFile file(path);
  return parse_checkpoint(file.data(), file.size(), path);
}

void check_resumable(const std::string& path, const CheckpointSettings& saved,
                     const CheckpointSettings& now) {
  for (const auto& [key, value] : now) {
    const std::string* was = nullptr;
    for (const auto& [saved_key, saved_value] : saved)
      if (saved_key == key) was = &saved_value;
    // What runs did before these flags existed: the CPU trainer's skip-gram drew noise words
    // for each pair, and the fused path held its window rows.
    static const std::string kNoisePerPair = "pair", kHeldRows = "hold";
    if (!was && key == "--sg-noise") was = &kNoisePerPair;
    if (!was && key == "--fused-window-rows") was = &kHeldRows;
    if (!was) throw_file_error(path, "cannot resume: the checkpoint does not record " + key);
    // Checkpoints before 2026-12-06 recorded --gpu-path auto, not the path that ran; auto
    // resolves the same way for the same flags on the same device.
    if (key == "--gpu-path" && *was == "auto") continue;
    if (*was != value)
      throw_file_error(path, "cannot resume: written by a run with " + key + " " + *was +
                                 "; this run has " + key + " " + value);
  }
}

}  // namespace w2v
