#include "common/template/lexer.h"

#include <cerrno>
#include <cstdlib>

#include "common/template/big_int.h"
#include "common/template/template.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

bool is_name_start(unsigned char c) { return c == '_' || std::isalpha(c) || c >= 0x80; }
bool is_name_char(unsigned char c) { return is_name_start(c) || std::isdigit(c); }

bool is_string_prefix(const std::string& word) {
  std::string p;
  for (char ch : word) p += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  static const char* const kPrefixes[] = {"r", "u", "f", "b", "fr", "rf", "br", "rb"};
  for (const char* k : kPrefixes) {
    if (p == k) return true;
  }
  return false;
}

class Lexer {
 public:
  Lexer(std::string_view source, std::size_t begin, std::size_t end, bool fstrings)
      : src_(source), pos_(begin), end_(end), fstrings_(fstrings) {}

  std::vector<Token> run() {
    std::vector<Token> tokens;
    while (true) {
      skip_space();
      if (pos_ >= end_) break;
      tokens.push_back(next());
      const Token& t = tokens.back();
      if (t.kind == TokenKind::kOp && t.text.size() == 1) {
        char c = t.text[0];
        if (c == '(' || c == '[' || c == '{') ++brackets_;
        if ((c == ')' || c == ']' || c == '}') && brackets_ > 0) --brackets_;
      }
    }
    tokens.push_back(Token{TokenKind::kEnd, "", 0, 0, end_});
    return tokens;
  }

 private:
  [[noreturn]] void fail(const std::string& why, std::size_t at) {
    throw CompileError(why, src_, at);
  }

  char peek(std::size_t ahead = 0) const { return pos_ + ahead < end_ ? src_[pos_ + ahead] : '\0'; }

  void skip_space() {
    while (pos_ < end_) {
      char c = src_[pos_];
      if (fstrings_ && c == '\\' && pos_ + 1 < end_ && src_[pos_ + 1] == '\n') {
        pos_ += 2;  // a line continuation
        continue;
      }
      if (c == '\n' && fstrings_ && brackets_ == 0) {
        // A spliced template is one logical line, as eval() read it: a line break outside
        // brackets ends it.
        fail("invalid syntax: a line break outside brackets", pos_);
      }
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\f') return;
      ++pos_;
    }
  }

  Token next() {
    std::size_t start = pos_;
    auto c = static_cast<unsigned char>(peek());
    if (std::isdigit(c) || (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
      return number();
    }
    if (is_name_start(c)) {
      while (pos_ < end_ && is_name_char(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      std::string word(src_.substr(start, pos_ - start));
      if (c >= 0x80) fail("non-ASCII name '" + word + "' is not supported", start);
      // As Python's tokenizer: only a real prefix joins the quote; `node"` is a name, then
      // a string (so a spliced template's errors come in Python's order).
      if ((peek() == '\'' || peek() == '"') && is_string_prefix(word)) {
        return prefixed_string(word, start);
      }
      return Token{TokenKind::kName, word, 0, 0, start};
    }
    if (c == '\'' || c == '"') return string(start);
    static const char* const kOps[] = {"**", "//", "==", "!=", "<=", ">=", "<<", ">>", "->",
                                       ":=", "(",  ")",  "[",  "]",  "{",  "}",  ",",  ":",
                                       ".",  "+",  "-",  "*",  "/",  "%",  "<",  ">",  "=",
                                       "~",  "&",  "|",  "^",  "@",  ";",  "!"};
    for (const char* op : kOps) {
      std::string_view o(op);
      if (src_.substr(pos_, o.size()) == o && pos_ + o.size() <= end_) {
        pos_ += o.size();
        return Token{TokenKind::kOp, std::string(o), 0, 0, start};
      }
    }
    fail(std::string("invalid character '") + static_cast<char>(c) + "' in expression", start);
  }

  Token number() {
    std::size_t start = pos_;
    std::string digits;
    auto take_digits = [&](auto pred) {
      bool last_underscore = true;
      while (pos_ < end_ && (pred(peek()) || peek() == '_')) {
        if (peek() == '_') {
          if (last_underscore) fail("invalid decimal literal", pos_);
          last_underscore = true;
        } else {
          digits += peek();
          last_underscore = false;
        }
        ++pos_;
      }
      if (last_underscore && !digits.empty() && src_[pos_ - 1] == '_') {
        fail("invalid decimal literal", pos_ - 1);
      }
    };
    auto is_dec = [](char ch) { return ch >= '0' && ch <= '9'; };
    if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X' || peek(1) == 'o' || peek(1) == 'O' ||
                          peek(1) == 'b' || peek(1) == 'B')) {
      char base_char = static_cast<char>(std::tolower(peek(1)));
      int base = base_char == 'x' ? 16 : (base_char == 'o' ? 8 : 2);
      pos_ += 2;
      if (peek() == '_') ++pos_;
      take_digits([base](char ch) {
        if (base == 16) return std::isxdigit(static_cast<unsigned char>(ch)) != 0;
        return ch >= '0' && ch < static_cast<char>('0' + base);
      });
      if (digits.empty()) fail("invalid number literal", start);
      if (is_name_char(static_cast<unsigned char>(peek()))) fail("invalid number literal", pos_);
      return integer(digits, base, start);
    }
    bool is_float = false;
    take_digits(is_dec);
    if (peek() == '.') {
      is_float = true;
      digits += '.';
      ++pos_;
      if (is_dec(peek())) take_digits(is_dec);
    }
    if (peek() == 'e' || peek() == 'E') {
      std::size_t save = pos_;
      std::string save_digits = digits;
      digits += 'e';
      ++pos_;
      if (peek() == '+' || peek() == '-') digits += src_[pos_++];
      if (is_dec(peek())) {
        take_digits(is_dec);
        is_float = true;
      } else {
        pos_ = save;
        digits = save_digits;
      }
    }
    if (peek() == 'j' || peek() == 'J') fail("complex numbers are not supported", start);
    if (is_name_char(static_cast<unsigned char>(peek()))) fail("invalid decimal literal", pos_);
    if (is_float) {
      Token t{TokenKind::kFloat, digits, 0, std::strtod(digits.c_str(), nullptr), start};
      return t;
    }
    if (digits.size() > 1 && digits[0] == '0' &&
        digits.find_first_not_of('0') != std::string::npos) {
      fail("leading zeros in decimal integer literals are not permitted", start);
    }
    return integer(digits, 10, start);
  }

  Token integer(const std::string& digits, int base, std::size_t start) {
    errno = 0;
    char* endp = nullptr;
    unsigned long long v = std::strtoull(digits.c_str(), &endp, base);
    if (errno == ERANGE || v > 9223372036854775807ULL) {
      std::size_t bits_per_digit = base == 2 ? 1 : base == 8 ? 3 : 4;  // 4 bounds decimal too
      if (base == 10 && digits.size() > kMaxIntStrDigits) {
        fail("Exceeds the limit (4300 digits) for integer string conversion: value has " +
                 std::to_string(digits.size()) +
                 " digits; use sys.set_int_max_str_digits() to increase the limit - Consider "
                 "hexadecimal for huge integer literals to avoid decimal conversion limits.",
             start);
      }
      if (digits.size() * bits_per_digit > kMaxIntBits + 4) {
        fail("integer literal too large (the template limit is " + std::to_string(kMaxIntBits) +
                 " bits)",
             start);
      }
      Token t{TokenKind::kInt, digits, 0, 0, start};
      t.base = base;
      t.big = true;
      return t;
    }
    return Token{TokenKind::kInt, digits, static_cast<int64_t>(v), 0, start};
  }

  Token prefixed_string(const std::string& prefix, std::size_t start) {
    std::string p;
    for (char ch : prefix) p += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (p == "r" || p == "u") return string(start, p == "r");
    if (fstrings_ && (p == "f" || p == "rf" || p == "fr")) return fstring(start, p.size() == 2);
    if (p.find('f') != std::string::npos) fail("nested f-strings are not supported", start);
    if (p.find('b') != std::string::npos) fail("bytes literals are not supported", start);
    fail("invalid string prefix '" + prefix + "'", start);
  }

  // Python's tokenizer finds an f-string's end as a plain string's (a backslash escapes the
  // next character, braces mean nothing yet); the f-string parser reads the body later.
  Token fstring(std::size_t start, bool raw) {
    char quote = peek();
    bool triple = peek(1) == quote && peek(2) == quote;
    pos_ += triple ? 3 : 1;
    std::size_t body = pos_;
    while (true) {
      if (pos_ >= end_) fail("unterminated string literal", start);
      char ch = src_[pos_];
      if (ch == quote && (!triple || (peek(1) == quote && peek(2) == quote))) break;
      if (ch == '\n' && !triple) fail("unterminated string literal", start);
      if (ch == '\\' && pos_ + 1 < end_) ++pos_;
      ++pos_;
    }
    Token t{TokenKind::kFString, "", 0, 0, start};
    t.body_begin = body;
    t.body_end = pos_;
    t.raw = raw;
    pos_ += triple ? 3 : 1;
    return t;
  }

  Token string(std::size_t start, bool raw = false) {
    char quote = peek();
    bool triple = peek(1) == quote && peek(2) == quote;
    pos_ += triple ? 3 : 1;
    std::string value;
    while (true) {
      if (pos_ >= end_) fail("unterminated string literal", start);
      char ch = src_[pos_];
      if (ch == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
        pos_ += triple ? 3 : 1;
        break;
      }
      if (ch == '\n' && !triple) fail("unterminated string literal", start);
      if (ch == '\\' && !raw) {
        escape(value);
        continue;
      }
      value += ch;
      ++pos_;
    }
    return Token{TokenKind::kString, value, 0, 0, start};
  }

  void escape(std::string& value) {
    std::size_t at = pos_;
    ++pos_;
    if (pos_ >= end_) fail("unterminated string literal", at);
    char e = src_[pos_++];
    auto hex = [&](int n) {
      char32_t cp = 0;
      for (int i = 0; i < n; ++i) {
        if (pos_ >= end_ || !std::isxdigit(static_cast<unsigned char>(src_[pos_]))) {
          fail("truncated \\x, \\u or \\U escape", at);
        }
        char h = src_[pos_++];
        cp = cp * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h))
                                                 ? h - '0'
                                                 : std::tolower(h) - 'a' + 10);
      }
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("invalid code point escape", at);
      append_utf8(value, cp);
    };
    switch (e) {
      case '\n':
        break;
      case '\\':
        value += '\\';
        break;
      case '\'':
        value += '\'';
        break;
      case '"':
        value += '"';
        break;
      case 'a':
        value += '\a';
        break;
      case 'b':
        value += '\b';
        break;
      case 'f':
        value += '\f';
        break;
      case 'n':
        value += '\n';
        break;
      case 'r':
        value += '\r';
        break;
      case 't':
        value += '\t';
        break;
      case 'v':
        value += '\v';
        break;
      case 'x':
        hex(2);
        break;
      case 'u':
        hex(4);
        break;
      case 'U':
        hex(8);
        break;
      default:
        value += '\\';
        value += e;
    }
  }

  std::string_view src_;
  std::size_t pos_;
  std::size_t end_;
  bool fstrings_;
  int brackets_ = 0;  // open brackets before pos_
};

}  // namespace

std::vector<Token> tokenize(std::string_view source, std::size_t begin, std::size_t end,
                            bool fstrings) {
  return Lexer(source, begin, end, fstrings).run();
}

}  // namespace webhook::tmpl
