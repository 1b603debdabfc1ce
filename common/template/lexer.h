// Splits the text of one Python expression (the inside of a replacement field, or a data
// location) into tokens. Offsets are absolute positions in the whole template, so every
// compile error can point at its column. Throws CompileError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace webhook::tmpl {

enum class TokenKind { kName, kInt, kFloat, kString, kFString, kOp, kEnd };

struct Token {
  TokenKind kind;
  std::string text;  // name, operator, or the decoded value of a string literal
  int64_t int_value = 0;
  double float_value = 0;
  std::size_t offset = 0;  // in the template
  int base = 10;           // kInt: of `text`, the literal's digits without prefix or '_'
  bool big = false;        // kInt beyond 64 bits: int_value is unset, build from text
  // kFString: the body between the quotes, source[body_begin, body_end), undecoded.
  std::size_t body_begin = 0, body_end = 0;
  bool raw = false;
};

// `source` is the whole template; the expression is source[begin, end). `fstrings`: whether
// f-string literals are tokens (the top level of a spliced template) or refused (inside a
// replacement field, as nested f-strings are not supported).
std::vector<Token> tokenize(std::string_view source, std::size_t begin, std::size_t end,
                            bool fstrings = false);

}  // namespace webhook::tmpl
