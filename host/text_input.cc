#include "w2v/text_input.h"

#ifdef W2V_HAVE_LZMA
#include <lzma.h>
#endif
#ifdef W2V_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef W2V_HAVE_ZSTD
#include <zstd.h>
#endif

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string_view>

#include "w2v/error.h"
#include "w2v/io.h"
#include "w2v/vocab.h"

namespace w2v {

namespace fs = std::filesystem;

std::vector<std::string> corpus_items(const std::string& corpus) {
  std::vector<std::string> items;
  std::stringstream list(corpus);
  for (std::string item; std::getline(list, item, ',');)
    if (!item.empty()) items.push_back(item);
  return items;
}

std::vector<std::string> corpus_files(const std::string& corpus) {
  const std::vector<std::string> named = corpus_items(corpus);
  std::vector<std::string> files;
  if (named.empty()) throw Error("--corpus: no file given");
  for (const std::string& path : named) {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) throw_file_error(path, "no such file (--corpus)");
    if (fs::is_directory(status)) {
      std::vector<std::string> inside;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.is_regular_file()) inside.push_back(entry.path().string());
      if (ec) throw_file_error(path, "cannot list the directory: " + ec.message());
      if (inside.empty()) throw_file_error(path, "the directory holds no file (--corpus)");
      std::sort(inside.begin(), inside.end());
      files.insert(files.end(), inside.begin(), inside.end());
    } else if (fs::is_regular_file(status)) {
      files.push_back(path);
    } else {
      throw_file_error(path, "not a regular file or directory (--corpus)");
    }
  }
  return files;
}

std::uint64_t corpus_stamp(const std::vector<std::string>& files, std::uint64_t& total_bytes) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over names, sizes and times
  auto mix = [&](const void* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
      h = (h ^ static_cast<const unsigned char*>(p)[i]) * 1099511628211ULL;
  };
  // Raised when the same text gives other tokens, so that every cache of text is stale and
  // built once more: 1, a byte-order mark at a file's start is dropped (2026-12-08).
  constexpr std::uint32_t kTokenizerRevision = 1;
  mix(&kTokenizerRevision, sizeof kTokenizerRevision);
  total_bytes = 0;
  for (const std::string& f : files) {
    const FileStamp s = file_stamp(f);
    total_bytes += s.size;
    mix(f.data(), f.size() + 1);
    mix(&s.size, sizeof s.size);
    mix(&s.mtime_ns, sizeof s.mtime_ns);
  }
  return h;
}

// One file's bytes: read as they are, or through zlib, liblzma or libzstd by its extension.
class TextReader::Decoder {
 public:
  explicit Decoder(const std::string& path) : path_(path) {
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) throw_file_error(path, std::string("cannot open: ") + std::strerror(errno));
    const std::string ext = fs::path(path).extension().string();
    kind_ = ext == ".gz"    ? Kind::kGzip
            : ext == ".xz"  ? Kind::kXz
            : ext == ".zst" ? Kind::kZstd
                            : Kind::kPlain;
    [[maybe_unused]] auto missing = [&](const char* library) {
      fail(std::string("this build of w2v reads no ") + ext + " files (it was built without " +
           library + "): decompress the corpus first");
    };
    switch (kind_) {
      case Kind::kGzip:
#ifdef W2V_HAVE_ZLIB
        if (inflateInit2(&gz_, 15 + 32) != Z_OK) fail("cannot start the gzip decoder");
#else
        missing("zlib");
#endif
        break;
      case Kind::kXz:
#ifdef W2V_HAVE_LZMA
        if (lzma_stream_decoder(&xz_, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
          fail("cannot start the xz decoder");
#else
        missing("liblzma");
#endif
        break;
      case Kind::kZstd:
#ifdef W2V_HAVE_ZSTD
        if (!(zstd_ = ZSTD_createDStream())) fail("cannot start the zstd decoder");
#else
        missing("libzstd");
#endif
        break;
      case Kind::kPlain:
        break;
    }
    in_.resize(kInputBytes);
  }
  ~Decoder() {
#ifdef W2V_HAVE_ZLIB
    if (kind_ == Kind::kGzip) inflateEnd(&gz_);
#endif
#ifdef W2V_HAVE_LZMA
    if (kind_ == Kind::kXz) lzma_end(&xz_);
#endif
#ifdef W2V_HAVE_ZSTD
    if (zstd_) ZSTD_freeDStream(zstd_);
#endif
  }

  // Up to max decompressed bytes; 0 at the end of the file. A compressed stream that stops
  // before its end is an error.
  std::size_t read(char* dst, std::size_t max) {
    if (kind_ == Kind::kPlain) return fill(dst, max);
    while (!finished_) {
      if (in_pos_ == in_len_ && !input_ended_) {
        in_len_ = fill(in_.data(), in_.size());
        in_pos_ = 0;
        input_ended_ = in_len_ == 0;
      }
      const std::size_t produced = step(dst, max);
      if (produced > 0) return produced;
      if (input_ended_ && in_pos_ == in_len_ && !finished_) {
        // gzip members and zstd frames may follow each other; the file may end between two.
        if (kind_ != Kind::kXz && between_members_)
          finished_ = true;
        else
          fail("truncated: the compressed data ends early");
      }
    }
    return 0;
  }
  std::uint64_t consumed() const { return consumed_; }

 private:
  enum class Kind { kPlain, kGzip, kXz, kZstd };
  static constexpr std::size_t kInputBytes = std::size_t(1) << 20;

  [[noreturn]] void fail(const std::string& problem) const { throw_file_error(path_, problem); }

  std::size_t fill(char* dst, std::size_t max) {
    const std::size_t n = std::fread(dst, 1, max, file_.get());
    if (n < max && std::ferror(file_.get()))
      fail(std::string("read error: ") + std::strerror(errno));
    consumed_ += n;
    return n;
  }

  // Decompresses what input there is into dst; returns the bytes produced.
  std::size_t step([[maybe_unused]] char* dst, std::size_t max) {
    [[maybe_unused]] const char* in = in_.data() + in_pos_;
    [[maybe_unused]] const std::size_t avail = in_len_ - in_pos_;
    max = std::min<std::size_t>(max, std::size_t(1) << 30);
    std::size_t used = 0, produced = 0;
    switch (kind_) {
#ifdef W2V_HAVE_ZLIB
      case Kind::kGzip: {
        gz_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
        gz_.avail_in = static_cast<uInt>(avail);
        gz_.next_out = reinterpret_cast<Bytef*>(dst);
        gz_.avail_out = static_cast<uInt>(max);
        const int r = inflate(&gz_, Z_NO_FLUSH);
        used = avail - gz_.avail_in;
        produced = max - gz_.avail_out;
        if (r == Z_STREAM_END) {
          between_members_ = true;
          if (inflateReset(&gz_) != Z_OK) fail("cannot restart the gzip decoder");
        } else if (r == Z_OK) {
          if (used > 0) between_members_ = false;
        } else if (r != Z_BUF_ERROR) {
          fail(std::string("corrupt gzip data: ") + (gz_.msg ? gz_.msg : "inflate failed"));
        }
        break;
      }
#endif
#ifdef W2V_HAVE_LZMA
      case Kind::kXz: {
        xz_.next_in = reinterpret_cast<const uint8_t*>(in);
        xz_.avail_in = avail;
        xz_.next_out = reinterpret_cast<uint8_t*>(dst);
        xz_.avail_out = max;
        const lzma_ret r = lzma_code(&xz_, input_ended_ ? LZMA_FINISH : LZMA_RUN);
        used = avail - xz_.avail_in;
        produced = max - xz_.avail_out;
        if (r == LZMA_STREAM_END)
          finished_ = true;
        else if (r != LZMA_OK && r != LZMA_BUF_ERROR)
          fail("corrupt xz data (liblzma error " + std::to_string(r) + ")");
        break;
      }
#endif
#ifdef W2V_HAVE_ZSTD
      case Kind::kZstd: {
        ZSTD_inBuffer input{in, avail, 0};
        ZSTD_outBuffer output{dst, max, 0};
        const std::size_t r = ZSTD_decompressStream(zstd_, &output, &input);
        if (ZSTD_isError(r)) fail(std::string("corrupt zstd data: ") + ZSTD_getErrorName(r));
        used = input.pos;
        produced = output.pos;
        if (used > 0 || produced > 0) between_members_ = r == 0;  // a frame decoded whole
        break;
      }
#endif
      default:
        break;
    }
    in_pos_ += used;
    return produced;
  }

  std::string path_;
  struct Close {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, Close> file_;
  Kind kind_ = Kind::kPlain;
#ifdef W2V_HAVE_ZLIB
  z_stream gz_{};
#endif
#ifdef W2V_HAVE_LZMA
  lzma_stream xz_ = LZMA_STREAM_INIT;
#endif
#ifdef W2V_HAVE_ZSTD
  ZSTD_DStream* zstd_ = nullptr;
#endif
  std::vector<char> in_;
  std::size_t in_pos_ = 0, in_len_ = 0;
  std::uint64_t consumed_ = 0;
  bool input_ended_ = false, finished_ = false, between_members_ = false;
};

TextReader::TextReader(std::vector<std::string> files) : files_(std::move(files)) {}
TextReader::~TextReader() = default;

bool TextReader::open_next() {
  if (decoder_) input_done_ += decoder_->consumed();
  decoder_.reset();
  input_in_file_ = 0;
  if (next_ == files_.size()) return false;
  decoder_ = std::make_unique<Decoder>(files_[next_++]);
  head_begin_ = head_end_ = 0;
  for (std::size_t n; head_end_ < sizeof head_ &&
                      (n = decoder_->read(head_ + head_end_, sizeof head_ - head_end_)) > 0;)
    head_end_ += n;
  if (std::string_view(head_, head_end_) == kUtf8ByteOrderMark) head_end_ = 0;
  std::lock_guard<std::mutex> lock(starts_mutex_);
  starts_.push_back(offset_);
  return true;
}

std::size_t TextReader::read(char* dst, std::size_t max) {
  while (true) {
    if (!decoder_ && !open_next()) return 0;
    std::size_t n;
    if (head_begin_ < head_end_) {
      n = std::min(max, head_end_ - head_begin_);
      std::memcpy(dst, head_ + head_begin_, n);
      head_begin_ += n;
    } else {
      n = decoder_->read(dst, max);
    }
    input_in_file_ = decoder_->consumed();
    if (n > 0) {
      offset_ += n;
      return n;
    }
    if (!open_next()) return 0;
  }
}

std::string TextReader::file_at(std::uint64_t offset) const {
  std::lock_guard<std::mutex> lock(starts_mutex_);
  std::size_t i = 0;
  while (i + 1 < starts_.size() && starts_[i + 1] <= offset) ++i;
  return files_[std::min(i, files_.size() - 1)];
}

}  // namespace w2v
