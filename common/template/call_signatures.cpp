#include "common/template/call_signatures.h"

#include <algorithm>
#include <initializer_list>

namespace webhook::tmpl {

const std::map<std::string, Builtin>& builtin_names() {
  static const std::map<std::string, Builtin> kNames = {
      {"len", Builtin::kLen},       {"str", Builtin::kStr},     {"int", Builtin::kInt},
      {"float", Builtin::kFloat},   {"bool", Builtin::kBool},   {"round", Builtin::kRound},
      {"abs", Builtin::kAbs},       {"min", Builtin::kMin},     {"max", Builtin::kMax},
      {"sorted", Builtin::kSorted}, {"repr", Builtin::kRepr},   {"ascii", Builtin::kAscii},
      {"iso", Builtin::kIso},       {"quote", Builtin::kQuote}, {"any", Builtin::kAny},
      {"all", Builtin::kAll}};
  return kNames;
}

bool is_method_name(const std::string& name) {
  static const char* const kMethods[] = {"lower",      "upper",    "strip", "lstrip",
                                         "rstrip",     "replace",  "split", "join",
                                         "startswith", "endswith", "get"};
  return std::any_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* m) { return name == m; });
}

std::string check_call_signature(Builtin builtin, const std::string& name, const Node& call) {
  std::size_t positional = call.children.size() - call.keywords.size();
  auto arity = [&](std::size_t lo, std::size_t hi) -> std::string {
    if (positional >= lo && positional <= hi) return "";
    return name + "() takes " +
           (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
           " positional argument" + (hi == 1 ? "" : "s") + ", " + std::to_string(positional) +
           " given";
  };
  auto keywords = [&](std::initializer_list<const char*> allowed) -> std::string {
    for (const auto& k : call.keywords) {
      if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; })) {
        return "keyword argument '" + k + "' of " + name + "() is not supported";
      }
    }
    return "";
  };
  auto both = [](std::string a, std::string b) { return a.empty() ? b : a; };
  switch (builtin) {
    case Builtin::kLen:
    case Builtin::kAbs:
    case Builtin::kRepr:
    case Builtin::kAscii:
    case Builtin::kIso:
    case Builtin::kQuote:
    case Builtin::kAny:
    case Builtin::kAll:
      return both(arity(1, 1), keywords({}));
    case Builtin::kStr:
    case Builtin::kInt:
    case Builtin::kFloat:
    case Builtin::kBool:
      return both(arity(0, 1), keywords({}));
    case Builtin::kRound:
      return both(arity(1, 2), keywords({}));
    case Builtin::kMin:
    case Builtin::kMax:
      return both(arity(1, 1000), keywords({"default"}));
    case Builtin::kSorted:
      return both(arity(1, 1), keywords({"reverse"}));
    case Builtin::kJsonDumps:
      return both(arity(1, 1), keywords({"ensure_ascii", "sort_keys", "indent", "separators"}));
    case Builtin::kTimeTime:
      return both(arity(0, 0), keywords({}));
  }
  return "unknown built-in";
}

}  // namespace webhook::tmpl
