#include "w2v/flags.h"

#include <cmath>
#include <sstream>

namespace w2v::flags {

void bad_value(const std::string& flag, const std::string& text, const std::string& expected) {
  throw Error("--" + flag + ": expected " + expected + ", got '" + text + "'");
}

double parse_double(const std::string& text, const std::string& flag) {
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || !std::isfinite(v))
    bad_value(flag, text, "a finite number");
  return v;
}

std::string show(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

}  // namespace w2v::flags
