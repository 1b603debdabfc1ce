#include "tests/support/graphql_document.h"

#include <cctype>
#include <map>

namespace webhook::testing {
namespace {

using Json = nlohmann::ordered_json;

class Parser {
 public:
  Parser(std::string_view text, const Json& variables) : text_(text), variables_(variables) {}

  GraphqlOperation operation() {
    GraphqlOperation op;
    skip();
    if (peek() != '{') {
      op.kind = name();
      if (op.kind != "query" && op.kind != "mutation" && op.kind != "subscription") {
        fail("expected query, mutation or {, found \"" + op.kind + "\"");
      }
      skip();
      if (is_name_start(peek())) name();
      skip();
      if (peek() == '(') variable_definitions(op);
    }
    op.selections = selection_set();
    skip();
    if (pos_ < text_.size()) fail("unexpected text after the operation");
    return op;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw GraphqlParseError("Syntax Error: " + what + " (at offset " + std::to_string(pos_) + ")");
  }

  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

  // Whitespace, commas and comments are insignificant in GraphQL.
  void skip() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  void expect(char c) {
    skip();
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }

  static bool is_name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_';
  }

  std::string name() {
    skip();
    if (!is_name_start(peek())) fail("expected a name");
    std::size_t start = pos_;
    while (pos_ < text_.size() &&
           (std::isalnum(static_cast<unsigned char>(text_[pos_])) != 0 || text_[pos_] == '_')) {
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  void variable_definitions(GraphqlOperation& op) {
    expect('(');
    skip();
    while (peek() != ')') {
      expect('$');
      std::string var = name();
      expect(':');
      op.variable_types[var] = type_reference();
      skip();
      if (peek() == '=') {
        ++pos_;
        Json def = value(/*constant=*/true);
        if (!variables_.contains(var)) defaults_[var] = def;
      }
      skip();
      if (pos_ >= text_.size()) fail("unterminated variable definitions");
    }
    ++pos_;
  }

  // The type as text without blanks: "ID!", "[String!]".
  std::string type_reference() {
    skip();
    std::string type;
    if (peek() == '[') {
      ++pos_;
      type = "[" + type_reference() + "]";
      expect(']');
    } else {
      type = name();
    }
    skip();
    if (peek() == '!') {
      ++pos_;
      type += "!";
    }
    return type;
  }

  std::vector<GraphqlField> selection_set() {
    expect('{');
    std::vector<GraphqlField> fields;
    skip();
    while (peek() != '}') {
      if (pos_ >= text_.size()) fail("unterminated selection set");
      if (text_.substr(pos_, 3) == "...") {
        pos_ += 3;
        skip();
        if (is_name_start(peek())) {
          std::string on = name();
          if (on != "on") fail("fragment spreads are not supported");
          name();
        }
        for (auto& f : selection_set()) fields.push_back(std::move(f));
      } else {
        fields.push_back(field());
      }
      skip();
    }
    ++pos_;
    if (fields.empty()) fail("empty selection set");
    return fields;
  }

  GraphqlField field() {
    GraphqlField f;
    f.name = name();
    skip();
    if (peek() == ':') {
      ++pos_;
      f.alias = f.name;
      f.name = name();
      skip();
    } else {
      f.alias = f.name;
    }
    if (peek() == '(') {
      ++pos_;
      skip();
      while (peek() != ')') {
        std::string arg = name();
        expect(':');
        skip();
        if (peek() == '$') {
          std::size_t at = pos_++;
          f.argument_variables[arg] = name();
          pos_ = at;
        }
        f.arguments[arg] = value(/*constant=*/false);
        skip();
        if (pos_ >= text_.size()) fail("unterminated arguments");
      }
      ++pos_;
      skip();
    }
    if (peek() == '{') f.selections = selection_set();
    return f;
  }

  Json value(bool constant) {
    skip();
    char c = peek();
    if (c == '$') {
      if (constant) fail("a variable is not allowed here");
      ++pos_;
      std::string var = name();
      if (variables_.is_object() && variables_.contains(var)) return variables_[var];
      if (auto it = defaults_.find(var); it != defaults_.end()) return it->second;
      return nullptr;
    }
    if (c == '"') return string_value();
    if (c == '[') {
      ++pos_;
      Json list = Json::array();
      skip();
      while (peek() != ']') {
        if (pos_ >= text_.size()) fail("unterminated list");
        list.push_back(value(constant));
        skip();
      }
      ++pos_;
      return list;
    }
    if (c == '{') {
      ++pos_;
      Json object = Json::object();
      skip();
      while (peek() != '}') {
        if (pos_ >= text_.size()) fail("unterminated object");
        std::string key = name();
        expect(':');
        object[key] = value(constant);
        skip();
      }
      ++pos_;
      return object;
    }
    if (c == '-' || std::isdigit(static_cast<unsigned char>(c)) != 0) return number();
    if (is_name_start(c)) {
      std::string word = name();
      if (word == "true") return true;
      if (word == "false") return false;
      if (word == "null") return nullptr;
      return word;  // an enum value
    }
    fail("unexpected character");
  }

  Json number() {
    std::size_t start = pos_;
    if (peek() == '-') ++pos_;
    bool is_float = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
        ++pos_;
      } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || (c == '-' && is_float)) {
        is_float = true;
        ++pos_;
      } else {
        break;
      }
    }
    std::string text(text_.substr(start, pos_ - start));
    if (text == "-") fail("expected a number");
    try {
      if (is_float) return std::stod(text);
      return std::stoll(text);
    } catch (const std::exception&) {
      fail("invalid number " + text);
    }
  }

  Json string_value() {
    if (text_.substr(pos_, 3) == "\"\"\"") {
      auto end = text_.find("\"\"\"", pos_ + 3);
      if (end == std::string_view::npos) fail("unterminated block string");
      std::string s(text_.substr(pos_ + 3, end - pos_ - 3));
      pos_ = end + 3;
      return s;
    }
    ++pos_;
    std::string out;
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') fail("unterminated string");
      char c = text_[pos_++];
      if (c == '"') break;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail("unterminated string");
      char e = text_[pos_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case 'r':
          out += '\r';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) fail("bad \\u escape");
          unsigned code = std::stoul(std::string(text_.substr(pos_, 4)), nullptr, 16);
          pos_ += 4;
          // Enough for the fake: BMP code points as UTF-8.
          if (code < 0x80) {
            out += static_cast<char>(code);
          } else if (code < 0x800) {
            out += static_cast<char>(0xC0 | (code >> 6));
            out += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (code >> 12));
            out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default:
          out += e;  // \" \\ \/
      }
    }
    return out;
  }

  std::string_view text_;
  const Json& variables_;
  std::map<std::string, Json> defaults_;
  std::size_t pos_ = 0;
};

}  // namespace

GraphqlOperation parse_graphql(std::string_view text, const Json& variables) {
  return Parser(text, variables).operation();
}

}  // namespace webhook::testing
