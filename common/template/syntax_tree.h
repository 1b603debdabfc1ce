// The compiled form of a template: literal text and replacement fields whose expressions
// are trees of Nodes. Built once by the parser, then only read (by any number of threads).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/template/python_value.h"

namespace webhook::tmpl {

enum class NodeKind {
  kConst,          // value
  kLocal,          // slot: `item` (slot 0) or a comprehension variable
  kSubscript,      // children: object, index
  kSlice,          // children: object, lower, upper, step (null when omitted)
  kBinary,         // op, children: left, right
  kUnary,          // op ("-" or "+"), children: operand
  kNot,            // children: operand
  kAnd,            // children: left, right
  kOr,             // children: left, right
  kCompare,        // compare_ops; children: first operand then one per operator
  kIfElse,         // children: condition, then, else
  kList,           // children: elements
  kTuple,          // children: elements
  kDict,           // children: key, value, key, value...
  kCall,           // op = Builtin; children: positional args; keywords: names of the last ones
  kMethod,         // name = method; children: receiver, args
  kComprehension,  // children: element; loops
  kFormat,         // parts: an f-string literal (with adjacent literals concatenated)
};

enum class Builtin {
  kLen,
  kStr,
  kInt,
  kFloat,
  kBool,
  kRound,
  kAbs,
  kMin,
  kMax,
  kSorted,
  kAscii,
  kRepr,
  kIso,
  kQuote,
  kJsonDumps,
  kTimeTime,
  kAny,
  kAll,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
struct Part;

// One `for TARGETS in ITER if COND...` clause of a comprehension.
struct Loop {
  std::vector<int> target_slots;  // one slot, or several for `for a, b in ...`
  bool unpack = false;            // the target is a tuple
  NodePtr iterable;
  std::vector<NodePtr> conditions;
};

struct Node {
  Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  // Frees the subtree with an explicit stack: a tree built from a long flat chain may be
  // deeper than the thread's stack, and is only refused after it was built (syntax_tree.cpp).
  ~Node();

  NodeKind kind;
  std::size_t column = 0;  // in the template, for messages
  int op = 0;              // BinaryOp, Builtin or slot
  std::string name;        // method name or unary/compare operator
  Value value;             // kConst
  std::vector<NodePtr> children;
  std::vector<std::string> compare_ops;
  std::vector<std::string> keywords;
  std::vector<Loop> loops;
  std::unique_ptr<std::vector<Part>> parts;  // kFormat
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };

// A replacement field `{expr!conv:spec}` or literal text.
struct Part {
  std::string literal;  // when expr is null
  NodePtr expr;
  char conversion = 0;     // 0, 's', 'r' or 'a'
  std::vector<Part> spec;  // the format spec, itself literal text and fields
  bool has_spec = false;
};

struct Program {
  std::string source;
  std::vector<Part> parts;
  int slot_count = 1;            // slot 0 is `item`
  std::size_t literal_size = 0;  // total literal text, to reserve the output
};

}  // namespace webhook::tmpl
