// Parses the Python expression inside one replacement field into a syntax tree, with
// Python's precedence and associativity, and resolves every name at compile time: `item`,
// comprehension variables, the built-ins, `json.dumps` and `time.time`. Whatever lies
// outside the supported subset is a CompileError naming the construct.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/template/syntax_tree.h"

namespace webhook::tmpl {

inline constexpr int kMaxNesting = 100;  // parenthesised / nested sub-expressions
// Levels of the syntax tree (operators, subscripts, calls): evaluation recurses once per
// level, so this bounds the stack a template can use. CPython accepts chains of about this
// length too (it refuses 20,000 `+` terms with "RecursionError ... during compilation").
inline constexpr int kMaxTreeHeight = 1000;

struct ParseScope {
  std::string_view source;                         // the whole template
  std::vector<std::pair<std::string, int>> names;  // visible names → slots, innermost last
  int slot_count = 0;
};

// Parses source[begin, end) as Python parses an f-string field: as if parenthesised, so a
// top-level comma makes a tuple. Throws CompileError.
NodePtr parse_expression(ParseScope& scope, std::size_t begin, std::size_t end);
// Parses the whole scope.source as one Python expression in which f-string literals are
// atoms (a template spliced into f"..."). Throws CompileError.
NodePtr parse_spliced(ParseScope& scope);

}  // namespace webhook::tmpl
