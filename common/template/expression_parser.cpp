#include "common/template/expression_parser.h"

#include <algorithm>
#include <map>

#include "common/template/lexer.h"
#include "common/template/template.h"

namespace webhook::tmpl {
namespace {

const std::map<std::string, Builtin>& builtin_names() {
  static const std::map<std::string, Builtin> kNames = {
      {"len", Builtin::kLen},       {"str", Builtin::kStr},    {"int", Builtin::kInt},
      {"float", Builtin::kFloat},   {"bool", Builtin::kBool},  {"round", Builtin::kRound},
      {"abs", Builtin::kAbs},       {"min", Builtin::kMin},    {"max", Builtin::kMax},
      {"sorted", Builtin::kSorted}, {"repr", Builtin::kRepr},  {"ascii", Builtin::kAscii},
      {"iso", Builtin::kIso},       {"quote", Builtin::kQuote}};
  return kNames;
}

bool is_method_name(const std::string& n) {
  static const char* const kMethods[] = {"lower",      "upper",    "strip", "lstrip",
                                         "rstrip",     "replace",  "split", "join",
                                         "startswith", "endswith", "get"};
  return std::any_of(std::begin(kMethods), std::end(kMethods),
                     [&](const char* m) { return n == m; });
}

bool is_keyword(const std::string& n) {
  static const char* const kKeywords[] = {
      "False", "None",     "True",  "and",    "as",   "assert", "async",  "await",    "break",
      "class", "continue", "def",   "del",    "elif", "else",   "except", "finally",  "for",
      "from",  "global",   "if",    "import", "in",   "is",     "lambda", "nonlocal", "not",
      "or",    "pass",     "raise", "return", "try",  "while",  "with",   "yield"};
  return std::any_of(std::begin(kKeywords), std::end(kKeywords),
                     [&](const char* k) { return n == k; });
}

class Parser {
 public:
  Parser(ParseScope& scope, std::vector<Token> tokens) : scope_(scope), toks_(std::move(tokens)) {}

  NodePtr run() {
    if (toks_.size() == 1) fail("f-string: empty expression not allowed", toks_[0].offset);
    NodePtr n = testlist();
    if (!at_end()) fail("invalid syntax: unexpected '" + cur().text + "'", cur().offset);
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

  bool ends_list() const { return at_end() || is_op(")") || is_op("]") || is_op("}"); }

  NodePtr testlist() {
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

  NodePtr test() {
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

  NodePtr or_test() {
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

  NodePtr and_test() {
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

  NodePtr not_test() {
    if (is_word("not")) {
      DepthGuard guard(*this, cur().offset);
      NodePtr n = make(NodeKind::kNot, cur().offset);
      ++pos_;
      n->children.push_back(not_test());
      return n;
    }
    return comparison();
  }

  // The comparison operator at the cursor ("" if none), consuming it.
  std::string compare_op() {
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
    if (is_word("not") && toks_[pos_ + 1].kind == TokenKind::kName &&
        toks_[pos_ + 1].text == "in") {
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

  NodePtr comparison() {
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

  NodePtr bitwise() {
    NodePtr left = arith();
    static const char* const kBitOps[] = {"|", "^", "&", "<<", ">>", "@"};
    for (const char* op : kBitOps) {
      if (is_op(op)) fail(std::string("the operator '") + op + "' is not supported", cur().offset);
    }
    return left;
  }

  NodePtr binary(NodePtr left, BinaryOp op, NodePtr right, std::size_t at) {
    NodePtr n = make(NodeKind::kBinary, at);
    n->op = static_cast<int>(op);
    n->children.push_back(std::move(left));
    n->children.push_back(std::move(right));
    return n;
  }

  NodePtr arith() {
    NodePtr left = term();
    while (is_op("+") || is_op("-")) {
      std::size_t at = cur().offset;
      BinaryOp op = is_op("+") ? BinaryOp::kAdd : BinaryOp::kSub;
      ++pos_;
      left = binary(std::move(left), op, term(), at);
    }
    return left;
  }

  NodePtr term() {
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

  NodePtr factor() {
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

  NodePtr power() {
    NodePtr base = primary();
    if (!is_op("**")) return base;
    std::size_t at = cur().offset;
    ++pos_;
    return binary(std::move(base), BinaryOp::kPow, factor(), at);
  }

  NodePtr primary() {
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

  NodePtr subscript(NodePtr object) {
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

  NodePtr testlist_in_subscript() {
    if (is_op("]")) fail("invalid syntax: empty subscript", cur().offset);
    return testlist();
  }

  NodePtr method(NodePtr receiver) {
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

  // Finds the next `for` at bracket depth 0 before the closing bracket; returns its index
  // or 0 when there is none.
  std::size_t find_for() const {
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

  // Parses `ELEMENT for ... [if ...]...` with the cursor on ELEMENT: loops first (they bind
  // the names the element uses), then the element.
  NodePtr comprehension(std::size_t for_index, std::size_t at) {
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

  // `(args)` of a call or method: positional, then keyword arguments; a lone generator
  // expression is allowed.
  void arguments(Node& call) {
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

  NodePtr call(Builtin builtin, std::size_t at, const std::string& name) {
    NodePtr n = make(NodeKind::kCall, at);
    n->op = static_cast<int>(builtin);
    arguments(*n);
    std::size_t positional = n->children.size() - n->keywords.size();
    auto arity = [&](std::size_t lo, std::size_t hi) {
      if (positional < lo || positional > hi) {
        fail(
            name + "() takes " +
                (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                " positional argument" + (hi == 1 ? "" : "s") + ", " + std::to_string(positional) +
                " given",
            at);
      }
    };
    auto allow_keywords = [&](std::initializer_list<const char*> allowed) {
      for (const auto& k : n->keywords) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; })) {
          fail("keyword argument '" + k + "' of " + name + "() is not supported", at);
        }
      }
    };
    switch (builtin) {
      case Builtin::kLen:
      case Builtin::kAbs:
      case Builtin::kRepr:
      case Builtin::kAscii:
      case Builtin::kIso:
      case Builtin::kQuote:
        arity(1, 1);
        allow_keywords({});
        break;
      case Builtin::kStr:
      case Builtin::kInt:
      case Builtin::kFloat:
      case Builtin::kBool:
        arity(0, 1);
        allow_keywords({});
        break;
      case Builtin::kRound:
        arity(1, 2);
        allow_keywords({});
        break;
      case Builtin::kMin:
      case Builtin::kMax:
        arity(1, 1000);
        allow_keywords({"default"});
        break;
      case Builtin::kSorted:
        arity(1, 1);
        allow_keywords({"reverse"});
        break;
      case Builtin::kJsonDumps:
        arity(1, 1);
        allow_keywords({"ensure_ascii", "sort_keys", "indent", "separators"});
        break;
      case Builtin::kTimeTime:
        arity(0, 0);
        allow_keywords({});
        break;
    }
    return n;
  }

  NodePtr name_atom() {
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

  NodePtr atom() {
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
        n->value = Value::integer(t.int_value);
        ++pos_;
        return n;
      }
      case TokenKind::kFloat: {
        NodePtr n = make(NodeKind::kConst, at);
        n->value = Value::floating(t.float_value);
        ++pos_;
        return n;
      }
      case TokenKind::kString: {
        std::string s;
        while (cur().kind == TokenKind::kString) s += toks_[pos_++].text;
        NodePtr n = make(NodeKind::kConst, at);
        n->value = Value::str(std::move(s));
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

  ParseScope& scope_;
  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

NodePtr parse_expression(ParseScope& scope, std::size_t begin, std::size_t end) {
  return Parser(scope, tokenize(scope.source, begin, end)).run();
}

}  // namespace webhook::tmpl
