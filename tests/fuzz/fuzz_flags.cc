// Feeds the input to parse_train_args as a command line: the bytes split on '\0' and '\n'
// into arguments (an empty piece between two separators is an empty argument). A config it accepts
// must pass validate() again and print every flag's value (what --help and checkpoints show).
#include <string>
#include <vector>

#include "fuzz_file.h"
#include "w2v/config.h"
#include "w2v/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args;
  std::string arg;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0' || c == '\n') {
      args.push_back(std::move(arg));
      arg.clear();
    } else {
      arg += c;
    }
  }
  if (!arg.empty()) args.push_back(std::move(arg));
  try {
    const w2v::TrainConfig c = w2v::parse_train_args(args);
    w2v::validate(c);
    for (const w2v::Flag& f : w2v::train_flags()) W2V_FUZZ_CHECK(!f.value(c).empty());
  } catch (const w2v::Error&) {
  }
  return 0;
}
