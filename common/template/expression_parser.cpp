#include "common/template/expression_parser.h"

#include <algorithm>

#include "common/template/call_signatures.h"
#include "common/template/expression_parser_internal.h"

namespace webhook::tmpl {

bool is_keyword(const std::string& n) {
  static const char* const kKeywords[] = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  return std::any_of(std::begin(kKeywords), std::end(kKeywords),
                     [&](const char* k) { return n == k; });
}

NodePtr Parser::testlist() {
  std::size_t at = cur().offset;
  NodePtr first = test();
  if (!is_op(",")) return first;
  NodePtr tuple = make(NodeKind::kTuple, at);
  tuple->children.push_back(std::move(first));
  while (is_op(",")) {
    ++pos_;
    if (ends_list()) break;
    tuple->children.push_back(test());
  }
  return tuple;
}

NodePtr Parser::test() {
  DepthGuard guard(*this, cur().offset);
  if (is_word("lambda")) fail("lambda expressions are not supported", cur().offset);
  std::size_t at = cur().offset;
  NodePtr body = or_test();
  if (is_op(":=")) fail("assignment expressions (:=) are not supported", cur().offset);
  if (!is_word("if")) return body;
  ++pos_;
  NodePtr cond = or_test();
  if (!is_word("else")) fail("invalid syntax: expected 'else' after 'if'", cur().offset);
  ++pos_;
  NodePtr other = test();
  NodePtr n = make(NodeKind::kIfElse, at);
  n->children.push_back(std::move(cond));
  n->children.push_back(std::move(body));
  n->children.push_back(std::move(other));
  return n;
}

NodePtr Parser::or_test() {
  NodePtr left = and_test();
  while (is_word("or")) {
    std::size_t at = cur().offset;
    ++pos_;
    NodePtr n = make(NodeKind::kOr, at);
    n->children.push_back(std::move(left));
    n->children.push_back(and_test());
    left = std::move(n);
  }
  return left;
}

NodePtr Parser::and_test() {
  NodePtr left = not_test();
  while (is_word("and")) {
    std::size_t at = cur().offset;
    ++pos_;
    NodePtr n = make(NodeKind::kAnd, at);
    n->children.push_back(std::move(left));
    n->children.push_back(not_test());
    left = std::move(n);
  }
  return left;
}

NodePtr Parser::not_test() {
  if (is_word("not")) {
    DepthGuard guard(*this, cur().offset);
    NodePtr n = make(NodeKind::kNot, cur().offset);
    ++pos_;
    n->children.push_back(not_test());
    return n;
  }
  return comparison();
}

std::string Parser::compare_op() {
  static const char* const kOps[] = {"<", ">", "==", ">=", "<=", "!="};
  for (const char* op : kOps) {
    if (is_op(op)) {
      ++pos_;
      return op;
    }
  }
  if (is_word("in")) {
    ++pos_;
    return "in";
  }
  if (is_word("not") && toks_[pos_ + 1].kind == TokenKind::kName && toks_[pos_ + 1].text == "in") {
    pos_ += 2;
    return "not in";
  }
  if (is_word("is")) {
    ++pos_;
    if (is_word("not")) {
      ++pos_;
      return "is not";
    }
    return "is";
  }
  return "";
}

NodePtr Parser::comparison() {
  std::size_t at = cur().offset;
  NodePtr first = bitwise();
  NodePtr n;
  while (true) {
    std::size_t op_at = cur().offset;
    std::string op = compare_op();
    if (op.empty()) break;
    if (!n) {
      n = make(NodeKind::kCompare, at);
      n->children.push_back(std::move(first));
    }
    NodePtr right = bitwise();
    if (op == "is" || op == "is not") {
      bool singleton = right->kind == NodeKind::kConst &&
                       (right->value.kind() == Kind::kNone || right->value.kind() == Kind::kBool);
      if (!singleton) {
        fail("'" + op + "' is only supported with None, True or False on its right", op_at);
      }
    }
    n->compare_ops.push_back(op);
    n->children.push_back(std::move(right));
  }
  return n ? std::move(n) : std::move(first);
}

NodePtr Parser::bitwise() {
  NodePtr left = arith();
  static const char* const kBitOps[] = {"|", "^", "&", "<<", ">>", "@"};
  for (const char* op : kBitOps) {
    if (is_op(op)) fail(std::string("the operator '") + op + "' is not supported", cur().offset);
  }
  return left;
}

NodePtr Parser::binary(NodePtr left, BinaryOp op, NodePtr right, std::size_t at) {
  NodePtr n = make(NodeKind::kBinary, at);
  n->op = static_cast<int>(op);
  n->children.push_back(std::move(left));
  n->children.push_back(std::move(right));
  return n;
}

NodePtr Parser::arith() {
  NodePtr left = term();
  while (is_op("+") || is_op("-")) {
    std::size_t at = cur().offset;
    BinaryOp op = is_op("+") ? BinaryOp::kAdd : BinaryOp::kSub;
    ++pos_;
    left = binary(std::move(left), op, term(), at);
  }
  return left;
}

NodePtr Parser::term() {
  NodePtr left = factor();
  while (true) {
    std::size_t at = cur().offset;
    BinaryOp op;
    if (is_op("*")) {
      op = BinaryOp::kMul;
    } else if (is_op("/")) {
      op = BinaryOp::kDiv;
    } else if (is_op("//")) {
      op = BinaryOp::kFloorDiv;
    } else if (is_op("%")) {
      op = BinaryOp::kMod;
    } else {
      return left;
    }
    ++pos_;
    left = binary(std::move(left), op, factor(), at);
  }
}

NodePtr Parser::factor() {
  if (is_op("-") || is_op("+")) {
    DepthGuard guard(*this, cur().offset);
    NodePtr n = make(NodeKind::kUnary, cur().offset);
    n->name = cur().text;
    ++pos_;
    n->children.push_back(factor());
    return n;
  }
  if (is_op("~")) fail("the operator '~' is not supported", cur().offset);
  if (is_word("await")) fail("'await' is not supported", cur().offset);
  return power();
}

NodePtr Parser::power() {
  NodePtr base = primary();
  if (!is_op("**")) return base;
  std::size_t at = cur().offset;
  ++pos_;
  // `a ** b ** c` is right-associative, so each `**` recurses: bound it like the tree.
  if (++power_depth_ > kMaxTreeHeight) fail(too_deep(), at);
  NodePtr exponent = factor();
  --power_depth_;
  return binary(std::move(base), BinaryOp::kPow, std::move(exponent), at);
}

void Parser::check_height(const Node& root) {
  struct Pending {
    const Node* node;
    int level;
  };
  std::vector<Pending> stack{{&root, 1}};
  while (!stack.empty()) {
    Pending p = stack.back();
    stack.pop_back();
    if (p.level > kMaxTreeHeight) fail(too_deep(), p.node->column);
    const Node& n = *p.node;
    if (n.kind == NodeKind::kComprehension) {
      // Each `for` clause is one more level of recursion (run_loops), below it the element.
      int level = p.level;
      for (const Loop& loop : n.loops) {
        ++level;
        stack.push_back({loop.iterable.get(), level});
        for (const auto& c : loop.conditions) stack.push_back({c.get(), level});
      }
      stack.push_back({n.children[0].get(), level + 1});
      continue;
    }
    for (const auto& c : n.children) {
      if (c) stack.push_back({c.get(), p.level + 1});
    }
  }
}

std::string too_deep() {
  return "expression too deep: more than " + std::to_string(kMaxTreeHeight) +
         " levels of operators, subscripts or calls (the template limit)";
}

NodePtr Parser::primary() {
  NodePtr n = atom();
  while (true) {
    if (is_op("[")) {
      n = subscript(std::move(n));
    } else if (is_op(".")) {
      n = method(std::move(n));
    } else if (is_op("(")) {
      fail("calling this expression is not supported (only the built-ins and methods)",
           cur().offset);
    } else {
      return n;
    }
  }
}

NodePtr Parser::subscript(NodePtr object) {
  std::size_t at = cur().offset;
  ++pos_;  // [
  NodePtr lower, upper, step;
  bool is_slice = false;
  if (!is_op(":")) lower = testlist_in_subscript();
  if (is_op(":")) {
    is_slice = true;
    ++pos_;
    if (!is_op(":") && !is_op("]")) upper = test();
    if (is_op(":")) {
      ++pos_;
      if (!is_op("]")) step = test();
    }
  }
  expect("]");
  if (!is_slice) {
    NodePtr n = make(NodeKind::kSubscript, at);
    n->children.push_back(std::move(object));
    n->children.push_back(std::move(lower));
    return n;
  }
  NodePtr n = make(NodeKind::kSlice, at);
  n->children.push_back(std::move(object));
  n->children.push_back(std::move(lower));
  n->children.push_back(std::move(upper));
  n->children.push_back(std::move(step));
  return n;
}

NodePtr Parser::testlist_in_subscript() {
  if (is_op("]")) fail("invalid syntax: empty subscript", cur().offset);
  return testlist();
}

NodePtr Parser::method(NodePtr receiver) {
  ++pos_;  // .
  if (cur().kind != TokenKind::kName)
    fail("invalid syntax: expected a name after '.'", cur().offset);
  std::string name = cur().text;
  std::size_t at = cur().offset;
  ++pos_;
  if (!is_method_name(name)) fail("the attribute '." + name + "' is not supported", at);
  if (!is_op("(")) fail("the method '." + name + "' can only be called", at);
  NodePtr n = make(NodeKind::kMethod, at);
  n->name = name;
  n->children.push_back(std::move(receiver));
  arguments(*n);
  if (!n->keywords.empty() && name != "split") {
    fail("keyword arguments to '." + name + "' are not supported", at);
  }
  return n;
}

NodePtr parse_expression(ParseScope& scope, std::size_t begin, std::size_t end) {
  return Parser(scope, tokenize(scope.source, begin, end)).run();
}

NodePtr parse_spliced(ParseScope& scope) {
  return Parser(scope, tokenize(scope.source, 0, scope.source.size(), true)).run();
}

}  // namespace webhook::tmpl
