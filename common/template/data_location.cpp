#include "common/template/lexer.h"
#include "common/template/template.h"

namespace webhook::tmpl {

DataLocation DataLocation::compile(std::string_view source) {
  DataLocation location;
  location.source_ = std::string(source);
  std::vector<Token> tokens = tokenize(location.source_, 0, location.source_.size());
  auto fail = [&](const std::string& why, std::size_t at) -> void {
    throw CompileError(why, location.source_, at);
  };
  std::size_t i = 0;
  auto is_op = [&](const char* op) {
    return tokens[i].kind == TokenKind::kOp && tokens[i].text == op;
  };
  while (tokens[i].kind != TokenKind::kEnd) {
    if (!is_op("[")) {
      fail("a data location is a chain of subscripts such as ['data']['works']['edges']",
           tokens[i].offset);
    }
    ++i;
    bool negative = false;
    if (is_op("-")) {
      negative = true;
      ++i;
    }
    const Token& t = tokens[i];
    if (t.kind == TokenKind::kString && !negative) {
      std::string key;
      while (tokens[i].kind == TokenKind::kString) key += tokens[i++].text;
      location.steps_.push_back(key);
    } else if (t.kind == TokenKind::kInt) {
      // Beyond 64 bits no list is that long: the index selects nothing, as out of range.
      if (t.big) {
        location.steps_.push_back(negative ? INT64_MIN : INT64_MAX);
        ++i;
        if (!is_op("]")) fail("expected ']'", tokens[i].offset);
        ++i;
        continue;
      }
      location.steps_.push_back(negative ? -t.int_value : t.int_value);
      ++i;
    } else {
      fail("a subscript in a data location must be a quoted key or an integer index", t.offset);
    }
    if (!is_op("]")) fail("expected ']'", tokens[i].offset);
    ++i;
  }
  return location;
}

const nlohmann::ordered_json* DataLocation::select(const nlohmann::ordered_json& document) const {
  const nlohmann::ordered_json* node = &document;
  for (const auto& step : steps_) {
    if (step.is_string()) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(step.get_ref<const std::string&>());
      if (it == node->end()) return nullptr;
      node = &*it;
    } else {
      if (!node->is_array()) return nullptr;
      int64_t index = step.get<int64_t>();
      auto size = static_cast<int64_t>(node->size());
      if (index < 0) index += size;
      if (index < 0 || index >= size) return nullptr;
      node = &(*node)[static_cast<std::size_t>(index)];
    }
  }
  return node->is_null() ? nullptr : node;
}

}  // namespace webhook::tmpl
