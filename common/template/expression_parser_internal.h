// The recursive-descent parser behind parse_expression, shared by expression_parser.cpp
// (operators, precedence, subscripts, methods) and display_parser.cpp (atoms, displays,
// calls, comprehensions). One Parser per expression; not shared between threads.
#pragma once

#include <string>
#include <vector>

#include "common/template/expression_parser.h"
#include "common/template/lexer.h"
#include "common/template/template.h"

namespace webhook::tmpl {

bool is_keyword(const std::string& name);
// The message for a tree deeper than kMaxTreeHeight.
std::string too_deep();

class Parser {
 public:
  Parser(ParseScope& scope, std::vector<Token> tokens) : scope_(scope), toks_(std::move(tokens)) {}

  NodePtr run() {
    if (toks_.size() == 1) fail("f-string: empty expression not allowed", toks_[0].offset);
    NodePtr n = testlist();
    if (!at_end()) fail("invalid syntax: unexpected '" + cur().text + "'", cur().offset);
    check_height(*n);
    return n;
  }

 private:
  [[noreturn]] void fail(const std::string& why, std::size_t at) {
    throw CompileError(why, scope_.source, at);
  }
  const Token& cur() const { return toks_[pos_]; }
  bool at_end() const { return cur().kind == TokenKind::kEnd; }
  bool is_op(const char* op) const { return cur().kind == TokenKind::kOp && cur().text == op; }
  bool is_word(const char* w) const { return cur().kind == TokenKind::kName && cur().text == w; }
  void expect(const char* op) {
    if (!is_op(op)) {
      fail(std::string("invalid syntax: expected '") + op + "'" +
               (at_end() ? " at the end of the expression" : ", found '" + cur().text + "'"),
           cur().offset);
    }
    ++pos_;
  }

  NodePtr make(NodeKind kind, std::size_t column) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->column = column;
    return n;
  }

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser, std::size_t at) : p(parser) {
      if (++p.depth_ > kMaxNesting) {
        p.fail("expression nested too deeply (the limit is " + std::to_string(kMaxNesting) + ")",
               at);
      }
    }
    ~DepthGuard() { --p.depth_; }
  };

  // Fails at the first node deeper than kMaxTreeHeight. Flat chains (`1+1+…`, `a and b and
  // …`, `x[0][0]…`) are parsed by loops, not recursion, so only the finished tree shows how
  // deep evaluating it would recurse.
  void check_height(const Node& root);

  bool ends_list() const { return at_end() || is_op(")") || is_op("]") || is_op("}"); }

  NodePtr testlist();
  NodePtr test();
  NodePtr or_test();
  NodePtr and_test();
  NodePtr not_test();

  // The comparison operator at the cursor ("" if none), consuming it.
  std::string compare_op();
  NodePtr comparison();
  NodePtr bitwise();
  NodePtr binary(NodePtr left, BinaryOp op, NodePtr right, std::size_t at);
  NodePtr arith();
  NodePtr term();
  NodePtr factor();
  NodePtr power();
  NodePtr primary();
  NodePtr subscript(NodePtr object);
  NodePtr testlist_in_subscript();
  NodePtr method(NodePtr receiver);

  // Finds the next `for` at bracket depth 0 before the closing bracket; returns its index
  // or 0 when there is none.
  std::size_t find_for() const;

  // Parses `ELEMENT for ... [if ...]...` with the cursor on ELEMENT: loops first (they bind
  // the names the element uses), then the element.
  NodePtr comprehension(std::size_t for_index, std::size_t at);

  // `(args)` of a call or method: positional, then keyword arguments; a lone generator
  // expression is allowed.
  void arguments(Node& call);
  NodePtr call(Builtin builtin, std::size_t at, const std::string& name);
  NodePtr name_atom();
  NodePtr atom();

  ParseScope& scope_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  int depth_ = 0;
  int power_depth_ = 0;  // right operands of `**` being parsed (power() recurses)
};

}  // namespace webhook::tmpl
