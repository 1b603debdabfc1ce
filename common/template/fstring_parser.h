// Splits a template into literal text and replacement fields exactly as CPython 3.11 scans
// an f-string (`{{`, `}}`, `!s/!r/!a`, `=`, nested format specs), with Python's backslash
// escapes decoded in literal text (the Python connector used ordinary f-strings), and parses each
// field's expression. Throws CompileError with Python's wording for the f-string errors.
#pragma once

#include <string_view>

#include "common/template/syntax_tree.h"

namespace webhook::tmpl {

// `with_item`: whether the name `item` is bound (templates) or not (the GraphQL query).
std::shared_ptr<Program> parse_template(std::string_view source, bool with_item);

}  // namespace webhook::tmpl
