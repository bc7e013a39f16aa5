#include "w2v/vectors.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "w2v/error.h"
#include "w2v/io.h"

namespace w2v {

// The binary format is little-endian float32; rows are copied as raw bytes.
static_assert(std::endian::native == std::endian::little, "big-endian hosts need a byte swap");

VectorFormat resolve_vector_format(const std::string& flag_value, const std::string& path) {
  if (flag_value == "text") return VectorFormat::kText;
  if (flag_value == "bin" || flag_value == "binary") return VectorFormat::kBinary;
  if (flag_value == "auto") {
    bool bin = path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0;
    return bin ? VectorFormat::kBinary : VectorFormat::kText;
  }
  throw Error("--format: expected text, bin or auto, got '" + flag_value + "'");
}

namespace {

// Length of the well-formed UTF-8 sequence starting at s[i] (2 to 4 bytes), or 0. As strict
// as Python's decoder (gensim's): no overlong form, no surrogate, nothing past U+10FFFF.
std::size_t utf8_sequence(std::string_view s, std::size_t i) {
  auto lead = static_cast<unsigned char>(s[i]);
  std::size_t len = lead >= 0xc2 && lead <= 0xdf   ? 2
                    : lead >= 0xe0 && lead <= 0xef ? 3
                    : lead >= 0xf0 && lead <= 0xf4 ? 4
                                                   : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if ((lead == 0xe0 && second < 0xa0) || (lead == 0xed && second > 0x9f) ||
      (lead == 0xf0 && second < 0x90) || (lead == 0xf4 && second > 0x8f))
    return 0;
  return len;
}

bool is_blank(unsigned char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_space(unsigned char c) { return is_blank(c) || c == '\n'; }

class VectorReader {
 public:
  VectorReader(const std::string& path, const MappedFile& file)
      : path_(path), data_(reinterpret_cast<const char*>(file.data())), size_(file.size()) {}

  Embeddings read(std::size_t max_words) {
    if (size_ == 0) fail("empty file (expected a 'COUNT DIM' header line)");
    read_header();
    std::size_t rows = max_words > 0 ? std::min<std::uint64_t>(count_, max_words) : count_;
    // The smallest possible row is a 1-byte word, DIM one-digit values with their separators
    // and a newline: bounding rows by the file size keeps a lying header from allocating.
    std::size_t left = size_ - pos_;
    if (rows > 0 && (dim_ > left / 2 || rows > left / (2 * dim_ + 2))) {
      fail("truncated or bad header: " + std::to_string(count_) + " words of dimension " +
           std::to_string(dim_) + " cannot fit in the " + std::to_string(left) +
           " bytes after the header");
    }
    Embeddings e;
    e.dim = dim_;
    e.words.resize(rows);
    e.data.resize(rows * dim_);
    binary_ = rows > 0 && detect_binary();
    pos_ = body_;
    for (std::size_t i = 0; i < rows; ++i) {
      if (binary_) {
        binary_row(i, e.words[i], e.data.data() + i * dim_);
      } else {
        text_row(i, e.words[i], e.data.data() + i * dim_);
      }
    }
    if (rows == count_) {
      while (pos_ < size_ && is_space(data_[pos_])) ++pos_;
      if (pos_ < size_) {
        fail("header says " + std::to_string(count_) +
             " words, but more data follows: " + shown({data_ + pos_, size_ - pos_}));
      }
    }
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const { throw_file_error(path_, problem); }

  void read_header() {
    const char* nl = static_cast<const char*>(std::memchr(data_, '\n', size_));
    std::string_view line(data_, nl ? nl - data_ : size_);
    std::uint64_t values[2];
    std::size_t found = 0, i = 0;
    bool ok = nl != nullptr;
    while (ok) {
      while (i < line.size() && is_blank(line[i])) ++i;
      if (i == line.size()) break;
      std::size_t end = i;
      while (end < line.size() && !is_blank(line[end])) ++end;
      if (found == 2) {  // a third field
        ok = false;
        break;
      }
      auto [p, ec] = std::from_chars(line.data() + i, line.data() + end, values[found]);
      ok = ec == std::errc() && p == line.data() + end;
      found += ok;
      i = end;
    }
    if (!ok || found != 2) fail("expected a 'COUNT DIM' header line, found " + shown(line));
    count_ = values[0];
    dim_ = values[1];
    if (dim_ == 0) fail("header says dimension 0");
    pos_ = body_ = line.size() + 1;
  }

  // Text rows are printable ASCII after the word; float32 bytes of real vectors almost never
  // are (any negative value has a byte >= 0x80). The first line can still look printable when
  // a float byte happens to be '\n', so it must also parse as text; failing that, a row that
  // parses as binary up to its '\n', then a ".bin" name, decide.
  bool detect_binary() {
    std::size_t p = pos_;
    while (p < size_ && data_[p] != ' ' && data_[p] != '\n') ++p;
    for (; p < size_ && data_[p] != '\n'; ++p) {
      auto c = static_cast<unsigned char>(data_[p]);
      if (!(is_blank(c) || (c >= 0x20 && c < 0x7f))) return true;
    }
    if (first_row_parses(&VectorReader::text_row)) return false;
    if (first_row_parses(&VectorReader::binary_row) && (pos_ == size_ || data_[pos_] == '\n')) {
      return true;
    }
    return resolve_vector_format("auto", path_) == VectorFormat::kBinary;
  }

  // Leaves pos_ after the row on success, for the caller to look further; read() rewinds.
  bool first_row_parses(void (VectorReader::*parse)(std::size_t, std::string&, float*)) {
    pos_ = body_;
    std::string word;
    std::vector<float> row(dim_);
    try {
      (this->*parse)(0, word, row.data());
    } catch (const Error&) {
      return false;
    }
    return true;
  }

  [[noreturn]] void truncated(std::size_t i) const {
    fail("truncated: header says " + std::to_string(count_) + " words, file ends in word " +
         std::to_string(i + 1));
  }

  void text_row(std::size_t i, std::string& word, float* out) {
    std::string line_no = "line " + std::to_string(i + 2) + ": ";
    if (pos_ == size_) {
      fail("truncated: header says " + std::to_string(count_) + " words, file ends after " +
           std::to_string(i));
    }
    const char* begin = data_ + pos_;
    const char* nl = static_cast<const char*>(std::memchr(begin, '\n', size_ - pos_));
    if (!nl) fail(line_no + "truncated: the last line has no newline");
    std::string_view line(begin, nl - begin);
    std::size_t w = line.find(' ');
    if (w == 0 || w == std::string_view::npos) {
      fail(line_no + "expected a word and " + std::to_string(dim_) + " values, found " +
           shown(line));
    }
    word.assign(line.substr(0, w));
    std::size_t values = 0;
    for (std::size_t j = w; j < line.size();) {
      if (is_blank(line[j])) {
        ++j;
        continue;
      }
      std::size_t end = j;
      while (end < line.size() && !is_blank(line[end])) ++end;
      if (values < dim_) {
        float v = 0;
        auto [p, ec] = std::from_chars(line.data() + j, line.data() + end, v);
        if (ec != std::errc() || p != line.data() + end || !std::isfinite(v)) {
          fail(line_no + "value " + std::to_string(values + 1) +
               " is not a finite float32: " + shown(line.substr(j, end - j)));
        }
        out[values] = v;
      }
      ++values;
      j = end;
    }
    if (values != dim_)
      fail(line_no + "expected " + std::to_string(dim_) + " values, found " +
           std::to_string(values));
    pos_ += line.size() + 1;
  }

  void binary_row(std::size_t i, std::string& word, float* out) {
    // word2vec.c ends every row with '\n', gensim none: the first row sets the rule, so a
    // file cut right after a row's floats is still caught.
    if (i > 0) {
      if (newline_rows_) {
        if (pos_ == size_) truncated(i);
        if (data_[pos_] != '\n')
          fail("word " + std::to_string(i + 1) + ": expected a newline before it");
        ++pos_;
      } else if (pos_ < size_ && data_[pos_] == '\n') {
        ++pos_;
      }
    }
    const char* begin = data_ + pos_;
    const char* sp = static_cast<const char*>(std::memchr(begin, ' ', size_ - pos_));
    if (!sp) truncated(i);
    std::string_view w(begin, sp - begin);
    if (w.empty() || w.find_first_of(std::string_view("\n\0", 2)) != std::string_view::npos) {
      fail("word " + std::to_string(i + 1) + ": bad word " + shown(w) +
           " (not a word2vec binary file?)");
    }
    pos_ += w.size() + 1;
    if (size_ - pos_ < dim_ * sizeof(float)) truncated(i);
    std::memcpy(out, data_ + pos_, dim_ * sizeof(float));
    pos_ += dim_ * sizeof(float);
    for (std::size_t j = 0; j < dim_; ++j) {
      if (!std::isfinite(out[j])) {
        fail("word " + std::to_string(i + 1) + " " + shown(w) + ": value " + std::to_string(j + 1) +
             " is not finite");
      }
    }
    word.assign(w);
    if (i == 0) newline_rows_ = pos_ < size_ && data_[pos_] == '\n';
    if (i + 1 == count_ && newline_rows_) {
      if (pos_ == size_) truncated(i);
      ++pos_;
    }
  }

  const std::string& path_;
  const char* data_;
  std::size_t size_, pos_ = 0, body_ = 0;
  std::uint64_t count_ = 0, dim_ = 0;
  bool binary_ = false, newline_rows_ = false;
};

}  // namespace

void write_vectors(const std::string& path, VectorFormat format,
                   const std::vector<std::string>& words, const float* data, std::size_t dim,
                   const float* plus) {
  if (dim == 0) throw_file_error(path, "cannot write vectors of dimension 0");
  AtomicFile out(path);
  std::vector<float> sum(plus ? dim : 0);
  std::string buf = std::to_string(words.size()) + " " + std::to_string(dim) + "\n";
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.empty() || w.find_first_of(" \n") != std::string::npos) {
      throw_file_error(path, "word " + std::to_string(i + 1) + " " + shown(w) +
                                 " is empty or contains a space or newline");
    }
    const float* r = data + i * dim;
    if (plus) {
      for (std::size_t j = 0; j < dim; ++j) sum[j] = r[j] + plus[i * dim + j];
      r = sum.data();
    }
    for (std::size_t j = 0; j < dim; ++j) {
      if (!std::isfinite(r[j])) {
        throw_file_error(path, "word " + std::to_string(i + 1) + " " + shown(w) + ": value " +
                                   std::to_string(j + 1) + " is not finite");
      }
    }
    buf += w;
    if (format == VectorFormat::kText) {
      char num[32];
      for (std::size_t j = 0; j < dim; ++j) {
        buf += ' ';
        // Shortest representation that parses back to the same float32.
        auto res = std::to_chars(num, num + sizeof num, r[j]);
        buf.append(num, res.ptr);
      }
    } else {
      buf += ' ';
      buf.append(reinterpret_cast<const char*>(r), dim * sizeof(float));
    }
    buf += '\n';
    if (buf.size() >= (1u << 20)) {
      out.write(buf);
      buf.clear();
    }
  }
  out.write(buf);
  out.commit();
}

Embeddings read_vectors(const std::string& path, std::size_t max_words) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw_file_error(path, "is a directory, not a file");
  MappedFile file(path);
  return VectorReader(path, file).read(max_words);
}

// A piece of a possibly binary file, made safe to put in a one-line message: printable
// ASCII and well-formed UTF-8 stay, every other byte is written as \xNN.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 40;
  std::string_view head = s.substr(0, kMax);
  std::string out = "'";
  for (std::size_t i = 0; i < head.size();) {
    auto c = static_cast<unsigned char>(head[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += head[i++];
    } else if (std::size_t len = utf8_sequence(head, i)) {
      out.append(head.substr(i, len));
      i += len;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
      ++i;
    }
  }
  return out + (s.size() > kMax ? "...'" : "'");
}

bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else if (const std::size_t len = utf8_sequence(s, i)) {
      i += len;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace w2v
