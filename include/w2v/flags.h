#pragma once
// Command-line flags and positional arguments bound to the fields of a config struct: one table
// per command gives the parser, the checking of each value and the --help text with live
// defaults, so the three cannot drift apart.
#include <charconv>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "w2v/error.h"

namespace w2v {

// One flag, or one positional argument. `apply` parses the text into the config (throws
// w2v::Error naming the flag on a bad value); `value` prints the field's current value.
template <class Config>
struct FlagSpec {
  std::string name;  // without the leading "--"; dashes between words
  std::string metavar;
  std::string help;
  bool is_switch = false;  // takes no value
  bool required = false;
  void (*apply)(Config&, const std::string& text, const std::string& flag);
  std::string (*value)(const Config&);
  // Positional: the next argument not starting with '-' fills it (in table order); always
  // required. Shown as its metavar.
  bool positional = false;
  std::string short_name = "";  // "-k" for "k"; "" for none
};

namespace flags {

[[noreturn]] void bad_value(const std::string& flag, const std::string& text,
                            const std::string& expected);
double parse_double(const std::string& text, const std::string& flag);
std::string show(double v);  // shortest round-trip form, for --help

// A named value of an enum-valued flag. A table lists each value's name first; later entries
// with the same value are accepted aliases.
template <class E>
struct Choice {
  const char* name;
  E value;
};

template <class E, std::size_t N>
const char* choice_name(const Choice<E> (&choices)[N], E value) {
  for (const auto& c : choices)
    if (c.value == value) return c.name;
  return "?";
}

// The value named `text`, or a w2v::Error listing the names ("a, b or c"; aliases left out).
template <class E, std::size_t N>
E parse_choice(const Choice<E> (&choices)[N], const std::string& text, const std::string& flag) {
  for (const auto& c : choices)
    if (text == c.name) return c.value;
  std::vector<const char*> names;
  for (const auto& c : choices)
    if (choice_name(choices, c.value) == c.name) names.push_back(c.name);
  std::string expected;
  for (std::size_t i = 0; i < names.size(); ++i)
    expected += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + std::string(names[i]);
  bad_value(flag, text, expected);
}

template <typename T>
T parse_integer(const std::string& text, const std::string& flag) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty()) {
    if (!text.empty() && text[0] == '-') bad_value(flag, text, "a non-negative integer");
    bad_value(flag, text, "an integer");
  }
  return v;
}

}  // namespace flags

// Parses "--name value", "--name=value", "-s value" (a short name), switches and positional
// arguments into `config`; rejects unknown flags, stray and missing positional arguments.
// Checking the rest of the config (required flags, ranges) is the caller's.
template <class Config>
void parse_flags(const std::vector<FlagSpec<Config>>& table, const std::vector<std::string>& args,
                 const std::string& command, Config& config) {
  const std::string see = " (see w2v " + command + " --help)";
  std::size_t positionals_filled = 0;
  auto next_positional = [&]() -> const FlagSpec<Config>* {
    std::size_t seen = 0;
    for (const auto& f : table)
      if (f.positional && seen++ == positionals_filled) return &f;
    return nullptr;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 2 || a[0] != '-') {
      const FlagSpec<Config>* slot = next_positional();
      if (!slot) throw Error("unexpected argument '" + a + "'" + see);
      slot->apply(config, a, slot->name);
      ++positionals_filled;
      continue;
    }
    const bool is_short = a[1] != '-';
    std::string name = a.substr(is_short ? 1 : 2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos && !is_short) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    const FlagSpec<Config>* flag = nullptr;
    for (const auto& f : table)
      if (!f.positional && (is_short ? f.short_name == name : f.name == name)) flag = &f;
    if (!flag) throw Error("unknown flag " + a.substr(0, is_short ? 2 : a.find('=')) + see);
    name = flag->name;
    if (flag->is_switch) {
      if (has_value) throw Error("--" + name + ": takes no value");
    } else if (!has_value) {
      if (i + 1 >= args.size()) throw Error("--" + name + ": missing value");
      value = args[++i];
    }
    flag->apply(config, value, name);
  }
  if (const FlagSpec<Config>* missing = next_positional())
    throw Error("w2v " + command + ": missing " + missing->metavar + see);
}

// The flag, also accepted as "-short_name VALUE".
template <class Config>
FlagSpec<Config> with_short_name(FlagSpec<Config> flag, std::string short_name) {
  flag.short_name = std::move(short_name);
  return flag;
}

// "  META  help" for every positional argument, then "  [-s, ]--name META  help [default:
// value]" for every flag of the table.
template <class Config>
std::string flags_help(const std::vector<FlagSpec<Config>>& table) {
  const Config defaults{};
  std::string s;
  for (bool positional : {true, false}) {
    for (const auto& f : table) {
      if (f.positional != positional) continue;
      std::string head = "  ";
      if (positional) {
        head += f.metavar;
      } else {
        if (!f.short_name.empty()) head += "-" + f.short_name + ", ";
        head += "--" + f.name + (f.metavar.empty() ? "" : " " + f.metavar);
      }
      s += head + std::string(head.size() < 30 ? 30 - head.size() : 1, ' ') + f.help;
      if (!positional) s += f.required ? " (required)" : " [default: " + f.value(defaults) + "]";
      s += "\n";
    }
  }
  return s;
}

// Table-building macros for a config type named FlagConfig in the including file: each binds
// a flag to a field of the same name (underscores become dashes on the command line).
#define W2V_STRING_FLAG(field, meta, help)                                                 \
  ::w2v::FlagSpec<FlagConfig> {                                                            \
#field, meta, help, false, false,                                                        \
        [](FlagConfig& c, const std::string& t, const std::string&) { c.field = t; },        \
        [](const FlagConfig& c) { return c.field.empty() ? std::string("\"\"") : c.field; } \
  }
#define W2V_INT_FLAG(name, field, type, help)                           \
  ::w2v::FlagSpec<FlagConfig> {                                         \
    name, "N", help, false, false,                                      \
        [](FlagConfig& c, const std::string& t, const std::string& f) { \
          c.field = ::w2v::flags::parse_integer<type>(t, f);            \
        },                                                              \
        [](const FlagConfig& c) { return std::to_string(c.field); }     \
  }
// An integer that may also be "auto", stored as `automatic`, a value no given count takes.
#define W2V_INT_OR_AUTO_FLAG(name, field, type, automatic, help)                       \
  ::w2v::FlagSpec<FlagConfig> {                                                        \
    name, "N|auto", help, false, false,                                                \
        [](FlagConfig& c, const std::string& t, const std::string& f) {                \
          c.field = t == "auto" ? automatic : ::w2v::flags::parse_integer<type>(t, f); \
        },                                                                             \
        [](const FlagConfig& c) {                                                      \
          return c.field == automatic ? std::string("auto") : std::to_string(c.field); \
        }                                                                              \
  }
#define W2V_REAL_FLAG(name, field, help)                                \
  ::w2v::FlagSpec<FlagConfig> {                                         \
    name, "X", help, false, false,                                      \
        [](FlagConfig& c, const std::string& t, const std::string& f) { \
          c.field = ::w2v::flags::parse_double(t, f);                   \
        },                                                              \
        [](const FlagConfig& c) { return ::w2v::flags::show(c.field); } \
  }
// `choices`: a Choice table at namespace scope.
#define W2V_CHOICE_FLAG(name, meta, field, choices, help)                  \
  ::w2v::FlagSpec<FlagConfig> {                                            \
    name, meta, help, false, false,                                        \
        [](FlagConfig& c, const std::string& t, const std::string& f) {    \
          c.field = ::w2v::flags::parse_choice(choices, t, f);             \
        },                                                                 \
        [](const FlagConfig& c) {                                          \
          return std::string(::w2v::flags::choice_name(choices, c.field)); \
        }                                                                  \
  }
// A positional argument stored in a string field.
#define W2V_POSITIONAL(field, meta, help)                                                          \
  ::w2v::FlagSpec<FlagConfig> {                                                                    \
#field, meta, help, false, true,                                                               \
        [](FlagConfig & c, const std::string& t,                                                   \
           const std::string&) { c.field = t; }, [](const FlagConfig& c) { return c.field; }, true \
  }
#define W2V_SWITCH(name, field, help)                                                  \
  ::w2v::FlagSpec<FlagConfig> {                                                        \
    name, "", help, true, false,                                                       \
        [](FlagConfig& c, const std::string&, const std::string&) { c.field = true; }, \
        [](const FlagConfig& c) { return std::string(c.field ? "on" : "off"); }        \
  }

}  // namespace w2v
