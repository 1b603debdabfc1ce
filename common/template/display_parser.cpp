// Atoms, displays, names, calls and comprehensions of the expression parser.
#include "common/template/big_int.h"
#include "common/template/call_signatures.h"
#include "common/template/expression_parser_internal.h"
#include "common/template/fstring_parser.h"

namespace webhook::tmpl {

std::size_t Parser::find_for() const {
  int depth = 0;
  for (std::size_t i = pos_; i < toks_.size(); ++i) {
    const Token& t = toks_[i];
    if (t.kind == TokenKind::kOp) {
      if (t.text == "(" || t.text == "[" || t.text == "{") ++depth;
      if (t.text == ")" || t.text == "]" || t.text == "}") {
        if (depth == 0) return 0;
        --depth;
      }
      if (depth == 0 && t.text == ",") return 0;
    }
    if (t.kind == TokenKind::kEnd) return 0;
    if (depth == 0 && t.kind == TokenKind::kName && t.text == "for") return i;
  }
  return 0;
}

NodePtr Parser::comprehension(std::size_t for_index, std::size_t at) {
  std::size_t element_start = pos_;
  pos_ = for_index;
  NodePtr n = make(NodeKind::kComprehension, at);
  std::size_t names_before = scope_.names.size();
  while (is_word("for")) {
    ++pos_;
    Loop loop;
    std::vector<std::pair<std::string, std::size_t>> targets;
    bool parens = is_op("(");
    if (parens) ++pos_;
    while (true) {
      if (cur().kind != TokenKind::kName || is_keyword(cur().text)) {
        fail("only names (or a tuple of names) may follow 'for'", cur().offset);
      }
      targets.emplace_back(cur().text, cur().offset);
      ++pos_;
      if (!is_op(",")) break;
      loop.unpack = true;
      ++pos_;
      if (is_word("in") || is_op(")")) break;
    }
    if (parens) {
      expect(")");
      loop.unpack = true;
    }
    if (!is_word("in")) fail("invalid syntax: expected 'in'", cur().offset);
    ++pos_;
    loop.iterable = or_test();
    for (const auto& [name, offset] : targets) {
      (void)offset;
      int slot = scope_.slot_count++;
      loop.target_slots.push_back(slot);
      scope_.names.emplace_back(name, slot);
    }
    while (is_word("if")) {
      ++pos_;
      loop.conditions.push_back(or_test());
    }
    n->loops.push_back(std::move(loop));
  }
  std::size_t end = pos_;
  pos_ = element_start;
  n->children.push_back(test());
  if (pos_ != for_index) fail("invalid syntax in comprehension", cur().offset);
  pos_ = end;
  scope_.names.resize(names_before);
  return n;
}

void Parser::arguments(Node& call) {
  ++pos_;  // (
  while (!is_op(")")) {
    if (is_op("*") || is_op("**")) fail("argument unpacking is not supported", cur().offset);
    if (cur().kind == TokenKind::kName && toks_[pos_ + 1].kind == TokenKind::kOp &&
        toks_[pos_ + 1].text == "=") {
      call.keywords.push_back(cur().text);
      pos_ += 2;
      call.children.push_back(test());
    } else {
      if (!call.keywords.empty()) {
        fail("positional argument follows keyword argument", cur().offset);
      }
      std::size_t at = cur().offset;
      std::size_t for_index = find_for();
      if (for_index) {
        call.children.push_back(comprehension(for_index, at));
        if (!is_op(")") || call.children.size() != (call.kind == NodeKind::kMethod ? 2 : 1)) {
          fail("generator expression must be parenthesized", at);
        }
        break;
      }
      call.children.push_back(test());
    }
    if (!is_op(",")) break;
    ++pos_;
  }
  expect(")");
}

NodePtr Parser::call(Builtin builtin, std::size_t at, const std::string& name) {
  NodePtr n = make(NodeKind::kCall, at);
  n->op = static_cast<int>(builtin);
  arguments(*n);
  std::string problem = check_call_signature(builtin, name, *n);
  if (!problem.empty()) fail(problem, at);
  return n;
}

NodePtr Parser::name_atom() {
  const Token& t = cur();
  std::string name = t.text;
  std::size_t at = t.offset;
  ++pos_;
  if (name == "True" || name == "False" || name == "None") {
    NodePtr n = make(NodeKind::kConst, at);
    n->value = name == "None" ? Value() : Value::boolean(name == "True");
    return n;
  }
  for (auto it = scope_.names.rbegin(); it != scope_.names.rend(); ++it) {
    if (it->first == name) {
      NodePtr n = make(NodeKind::kLocal, at);
      n->op = it->second;
      return n;
    }
  }
  if (name == "json" || name == "time") {
    const char* attr = name == "json" ? "dumps" : "time";
    if (!is_op(".") || toks_[pos_ + 1].text != attr) {
      fail("only " + name + "." + attr + "() is supported from the module '" + name + "'", at);
    }
    pos_ += 2;
    if (!is_op("(")) fail(name + "." + attr + " can only be called", at);
    return call(name == "json" ? Builtin::kJsonDumps : Builtin::kTimeTime, at, name + "." + attr);
  }
  auto b = builtin_names().find(name);
  if (b != builtin_names().end()) {
    if (!is_op("(")) fail("the built-in '" + name + "' can only be called", at);
    return call(b->second, at, name);
  }
  if (is_keyword(name)) fail("invalid syntax: unexpected keyword '" + name + "'", at);
  fail("the name '" + name + "' is not supported (names: item, json, time, the built-ins)", at);
}

NodePtr Parser::atom() {
  DepthGuard guard(*this, cur().offset);
  const Token& t = cur();
  std::size_t at = t.offset;
  switch (t.kind) {
    case TokenKind::kEnd:
      fail("invalid syntax: the expression ends too early", at);
    case TokenKind::kName:
      return name_atom();
    case TokenKind::kInt: {
      NodePtr n = make(NodeKind::kConst, at);
      n->value = t.big ? make_int(big_parse(t.text, t.base)) : Value::integer(t.int_value);
      ++pos_;
      return n;
    }
    case TokenKind::kFloat: {
      NodePtr n = make(NodeKind::kConst, at);
      n->value = Value::floating(t.float_value);
      ++pos_;
      return n;
    }
    case TokenKind::kString:
    case TokenKind::kFString: {
      // Adjacent literals concatenate; with an f-string among them, the result is formatted.
      auto is_literal = [](const Token& k) {
        return k.kind == TokenKind::kString || k.kind == TokenKind::kFString;
      };
      bool formatted = false;
      for (std::size_t k = pos_; is_literal(toks_[k]); ++k) {
        formatted |= toks_[k].kind == TokenKind::kFString;
      }
      if (!formatted) {
        std::string s;
        while (cur().kind == TokenKind::kString) s += toks_[pos_++].text;
        NodePtr n = make(NodeKind::kConst, at);
        n->value = Value::str(std::move(s));
        return n;
      }
      NodePtr n = make(NodeKind::kFormat, at);
      n->parts = std::make_unique<std::vector<Part>>();
      for (; is_literal(cur()); ++pos_) {
        const Token& lit = cur();
        if (lit.kind == TokenKind::kString) {
          Part p;
          p.literal = lit.text;
          if (!p.literal.empty()) n->parts->push_back(std::move(p));
          continue;
        }
        for (auto& p : parse_fstring_body(scope_, lit.body_begin, lit.body_end, lit.raw)) {
          n->parts->push_back(std::move(p));
        }
      }
      return n;
    }
    case TokenKind::kOp:
      break;
  }
  if (is_op("(")) {
    ++pos_;
    if (is_op(")")) {
      ++pos_;
      return make(NodeKind::kTuple, at);
    }
    if (find_for()) fail("generator expressions are only supported as a call's argument", at);
    NodePtr n = testlist();
    expect(")");
    return n;
  }
  if (is_op("[")) {
    ++pos_;
    NodePtr n;
    if (std::size_t for_index = find_for(); for_index && !is_op("]")) {
      n = comprehension(for_index, at);
    } else {
      n = make(NodeKind::kList, at);
      while (!is_op("]")) {
        if (is_op("*")) fail("unpacking in a list display is not supported", cur().offset);
        n->children.push_back(test());
        if (!is_op(",")) break;
        ++pos_;
      }
    }
    expect("]");
    return n;
  }
  if (is_op("{")) {
    ++pos_;
    NodePtr n = make(NodeKind::kDict, at);
    while (!is_op("}")) {
      if (is_op("**")) fail("unpacking in a dict display is not supported", cur().offset);
      n->children.push_back(test());
      if (!is_op(":")) fail("set displays are not supported", at);
      ++pos_;
      n->children.push_back(test());
      if (is_word("for")) fail("dict comprehensions are not supported", cur().offset);
      if (!is_op(",")) break;
      ++pos_;
    }
    expect("}");
    return n;
  }
  fail("invalid syntax: unexpected '" + t.text + "'", at);
}

}  // namespace webhook::tmpl
