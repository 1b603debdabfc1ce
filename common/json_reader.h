// Reads an OpenCTI answer as the Python connector did (requests' `.json()`: the body decoded
// as UTF-8 with invalid bytes replaced by U+FFFD, then `json.loads`), straight into an
// nlohmann::ordered_json, without recursion. It accepts what json.loads accepts and
// nlohmann's parser refuses: lone surrogate escapes (kept as their 3-byte generalized UTF-8
// form, ED A0 80 for \ud800), numbers beyond double range (±inf, or 0.0), `NaN`,
// `Infinity`, `-Infinity`, and integers outside 64 bits (kept as exact digits, see
// json_bigint.h). It refuses what json.loads refused (syntax errors, control characters in
// strings, integers of more than 4300 digits) and nesting deeper than a limit, where
// Python's own parser stopped with RecursionError. Stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace webhook {

// Python 3.11's json.loads stops at about 990 nested arrays or objects (RecursionError);
// 1000 accepts everything it accepted, and keeps every later recursive walk (templates'
// repr, dumps, comparisons) far from the end of a thread's stack.
inline constexpr int kMaxJsonDepth = 1000;
// Python's int() refuses more digits than this (sys.get_int_max_str_digits(), ValueError).
inline constexpr std::size_t kMaxJsonIntegerDigits = 4300;

struct JsonReadResult {
  enum class Failure { kNone, kSyntax, kTooDeep, kTooManyDigits };
  nlohmann::ordered_json value;  // the document, when ok()
  Failure failure = Failure::kNone;
  std::string error;       // what was wrong and where (line, column, byte); empty when ok()
  std::size_t offset = 0;  // the byte where reading stopped, on failure
  bool ok() const { return failure == Failure::kNone; }
};

// Reads one JSON document (surrounded by JSON whitespace only). Never throws for bad input;
// std::bad_alloc may escape.
JsonReadResult read_json(std::string_view text, int max_depth = kMaxJsonDepth);

}  // namespace webhook
