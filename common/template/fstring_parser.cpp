#include "common/template/fstring_parser.h"

#include <cctype>

#include "common/template/expression_parser.h"
#include "common/template/template.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

constexpr int kMaxParenDepth = 200;  // CPython's MAXLEVEL for an f-string expression

class FStringParser {
 public:
  // Parses src[begin, end): the body of one f-string literal (the whole template when it
  // is not spliced into Python source). `raw`: an rf"..." literal, whose backslashes stay.
  FStringParser(std::string_view src, ParseScope& scope, std::size_t begin, std::size_t end,
                bool raw)
      : src_(src), scope_(scope), pos_(begin), end_(end), raw_(raw) {}

  // Literal text and fields up to the end (level 0) or up to the `}` closing a format spec.
  std::vector<Part> parts(int level) {
    std::vector<Part> out;
    std::string literal;
    auto flush = [&] {
      if (!literal.empty()) {
        Part p;
        p.literal = std::move(literal);
        out.push_back(std::move(p));
        literal.clear();
      }
    };
    while (pos_ < end_) {
      char ch = src_[pos_];
      if (ch == '{' || ch == '}') {
        if (level == 0) {
          if (pos_ + 1 < end_ && src_[pos_ + 1] == ch) {
            literal += ch;
            pos_ += 2;
            continue;
          }
          if (ch == '}') fail("f-string: single '}' is not allowed", pos_);
        }
        if (ch == '}') break;  // the end of a nested format spec
        flush();
        field(level, out);
        continue;
      }
      if (ch == '\\' && !raw_) {
        escape(literal);
        continue;
      }
      literal += ch;
      ++pos_;
    }
    flush();
    return out;
  }

 private:
  // The Python connector evaluated its templates as ordinary (not raw) f-strings, so the
  // backslash escapes of Python string literals apply to literal text and format specs.
  // An unknown escape such as `\q` or `\{` keeps its backslash, as CPython does.
  void escape(std::string& literal) {
    std::size_t start = pos_++;
    if (pos_ >= end_) fail("unterminated string literal: the template ends with '\\'", start);
    char c = src_[pos_];
    auto simple = std::string_view("\\'\"abfnrtv\n");
    if (auto i = simple.find(c); i != std::string_view::npos) {
      static constexpr char kDecoded[] = "\\'\"\a\b\f\n\r\t\v";
      ++pos_;
      if (c != '\n') literal += kDecoded[i];  // backslash-newline continues the line
      return;
    }
    auto hex_escape = [&](std::size_t digits, const char* what) {
      std::size_t first = pos_ + 1;
      uint32_t code = 0;
      for (std::size_t k = 0; k < digits; ++k) {
        char h = first + k < end_ ? src_[first + k] : '\0';
        int v = std::isxdigit(static_cast<unsigned char>(h))
                    ? (std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                   : (std::tolower(h) - 'a' + 10))
                    : -1;
        if (v < 0) {
          fail(std::string("(unicode error) 'unicodeescape' codec can't decode bytes: truncated ") +
                   what + " escape",
               start);
        }
        code = code * 16 + static_cast<uint32_t>(v);
      }
      pos_ = first + digits;
      if (code > 0x10FFFF) {
        fail("(unicode error) 'unicodeescape' codec can't decode bytes: illegal Unicode character",
             start);
      }
      if (code >= 0xD800 && code <= 0xDFFF) {
        fail("surrogate code points (\\ud800-\\udfff) cannot be rendered as UTF-8", start);
      }
      append_utf8(literal, code);
    };
    if (c >= '0' && c <= '7') {
      uint32_t code = 0;
      std::size_t k = 0;
      while (k < 3 && pos_ < end_ && src_[pos_] >= '0' && src_[pos_] <= '7') {
        code = code * 8 + static_cast<uint32_t>(src_[pos_] - '0');
        ++pos_;
        ++k;
      }
      append_utf8(literal, code);
    } else if (c == 'x') {
      hex_escape(2, "\\xXX");
    } else if (c == 'u') {
      hex_escape(4, "\\uXXXX");
    } else if (c == 'U') {
      hex_escape(8, "\\UXXXXXXXX");
    } else if (c == 'N') {
      fail("\\N{...} escapes (Unicode character names) are not supported; use \\u or \\U", start);
    } else {
      literal += '\\';  // unknown escape: the backslash stays, the next character is read as usual
    }
  }

  [[noreturn]] void fail(const std::string& why, std::size_t at) {
    throw CompileError(why, src_, at);
  }

  void field(int level, std::vector<Part>& out) {
    if (level >= 2) fail("f-string: expressions nested too deeply", pos_);
    std::size_t open = pos_++;
    std::size_t begin = pos_;
    char quote = 0;
    bool triple = false;
    std::string parens;
    while (pos_ < end_) {
      char ch = src_[pos_];
      if (ch == '\\') fail("f-string expression part cannot include a backslash", pos_);
      if (quote) {
        if (ch == quote) {
          if (!triple) {
            quote = 0;
          } else if (pos_ + 2 < end_ && src_[pos_ + 1] == quote && src_[pos_ + 2] == quote) {
            pos_ += 2;
            quote = 0;
          }
        }
        ++pos_;
        continue;
      }
      if (ch == '\'' || ch == '"') {
        if (pos_ + 2 < end_ && src_[pos_ + 1] == ch && src_[pos_ + 2] == ch) {
          triple = true;
          pos_ += 3;
        } else {
          triple = false;
          ++pos_;
        }
        quote = ch;
        continue;
      }
      if (ch == '[' || ch == '(' || ch == '{') {
        if (parens.size() >= kMaxParenDepth) fail("f-string: too many nested parenthesis", pos_);
        parens += ch;
        ++pos_;
        continue;
      }
      if (ch == '#') fail("f-string expression part cannot include '#'", pos_);
      if (parens.empty() &&
          (ch == '!' || ch == ':' || ch == '}' || ch == '=' || ch == '>' || ch == '<')) {
        if (pos_ + 1 < end_ && src_[pos_ + 1] == '=' && ch != ':' && ch != '}') {
          pos_ += 2;
          continue;
        }
        if (ch == '>' || ch == '<') {
          ++pos_;
          continue;
        }
        break;
      }
      if (ch == ']' || ch == ')' || ch == '}') {
        if (parens.empty()) fail(std::string("f-string: unmatched '") + ch + "'", pos_);
        char opening = parens.back();
        parens.pop_back();
        if (!((opening == '(' && ch == ')') || (opening == '[' && ch == ']') ||
              (opening == '{' && ch == '}'))) {
          fail(std::string("f-string: closing parenthesis '") + ch +
                   "' does not match opening parenthesis '" + opening + "'",
               pos_);
        }
      }
      ++pos_;
    }
    std::size_t end = pos_;
    if (quote) fail("f-string: unterminated string", end);
    if (!parens.empty()) fail(std::string("f-string: unmatched '") + parens.back() + "'", end);
    if (pos_ >= end_) fail("f-string: expecting '}'", end);
    if (src_.substr(begin, end - begin).find_first_not_of(" \t\n\r\f\v") == std::string::npos) {
      fail("f-string: empty expression not allowed", end);
    }
    Part part;
    part.expr = parse_expression(scope_, begin, end);
    (void)open;
    if (src_[pos_] == '=') {
      ++pos_;
      while (pos_ < end_ &&
             std::string_view(" \t\n\r\f\v").find(src_[pos_]) != std::string_view::npos) {
        ++pos_;
      }
      Part text;
      text.literal = std::string(src_.substr(begin, pos_ - begin));
      out.push_back(std::move(text));
      if (pos_ >= end_) fail("f-string: expecting '}'", pos_);
      part.conversion = 'r';
      if (src_[pos_] == ':') part.conversion = 0;
    }
    if (src_[pos_] == '!') {
      ++pos_;
      if (pos_ >= end_) fail("f-string: expecting '}'", pos_);
      char conv = src_[pos_++];
      if (conv != 's' && conv != 'r' && conv != 'a') {
        fail("f-string: invalid conversion character: expected 's', 'r', or 'a'", pos_ - 1);
      }
      part.conversion = conv;
    }
    if (pos_ >= end_) fail("f-string: expecting '}'", pos_);
    if (src_[pos_] == ':') {
      ++pos_;
      if (pos_ >= end_) fail("f-string: expecting '}'", pos_);
      part.has_spec = true;
      part.spec = parts(level + 1);
    }
    if (pos_ >= end_ || src_[pos_] != '}') fail("f-string: expecting '}'", pos_);
    ++pos_;
    out.push_back(std::move(part));
  }

  std::string_view src_;
  ParseScope& scope_;
  std::size_t pos_;
  std::size_t end_;
  bool raw_;
};

}  // namespace

std::vector<Part> parse_fstring_body(ParseScope& scope, std::size_t begin, std::size_t end,
                                     bool raw) {
  return FStringParser(scope.source, scope, begin, end, raw).parts(0);
}

std::shared_ptr<Program> parse_template(std::string_view source, bool with_item, char quote,
                                        std::span<const std::string_view> extra_names) {
  if (!valid_utf8(source)) throw CompileError("the template is not valid UTF-8", source, 0);
  auto program = std::make_shared<Program>();
  program->source = std::string(source);
  ParseScope scope;
  if (with_item) scope.names.emplace_back("item", 0);
  scope.slot_count = 1;
  for (std::string_view name : extra_names) {
    scope.names.emplace_back(std::string(name), scope.slot_count++);
  }
  if (!quote) {
    scope.source = program->source;
    program->parts = parse_fstring_body(scope, 0, program->source.size(), false);
  } else {
    // The Python connector evaluated f" + template + " (f' + query + '): a quote in the
    // template ends the f-string and what follows is Python source.
    std::string spliced = std::string("f") + quote + program->source + quote;
    scope.source = spliced;
    try {
      NodePtr top = parse_spliced(scope);
      if (top->kind == NodeKind::kFormat) {
        program->parts = std::move(*top->parts);
      } else {
        Part whole;
        whole.expr = std::move(top);
        program->parts.push_back(std::move(whole));
      }
    } catch (const CompileError& e) {
      std::size_t column = e.column() >= 2 ? e.column() - 2 : 0;
      throw CompileError(e.reason(), source, std::min(column, source.size()));
    }
  }
  program->slot_count = scope.slot_count;
  for (const auto& p : program->parts) {
    if (!p.expr) program->literal_size += p.literal.size();
  }
  return program;
}

}  // namespace webhook::tmpl
