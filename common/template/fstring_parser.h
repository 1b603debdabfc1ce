// Splits a template into literal text and replacement fields exactly as CPython 3.11 scans
// an f-string (`{{`, `}}`, `!s/!r/!a`, `=`, nested format specs), with Python's backslash
// escapes decoded in literal text (the Python connector used ordinary f-strings), and parses each
// field's expression. Throws CompileError with Python's wording for the f-string errors.
#pragma once

#include <span>
#include <string_view>

#include "common/template/expression_parser.h"
#include "common/template/syntax_tree.h"

namespace webhook::tmpl {

// `with_item`: whether the name `item` is bound (templates) or not (the GraphQL query).
// `quote`: 0 when the whole text is one f-string body (header and body templates), else
// the quote the template was spliced between as Python source (`"` for the URL, `'` for
// the query), so that a quote in it ends the f-string.
// `extra_names` are bound after `item`, in slots 1, 2, ... (a stream feed's event_id and
// event_type).
std::shared_ptr<Program> parse_template(std::string_view source, bool with_item, char quote,
                                        std::span<const std::string_view> extra_names = {});

// The parts of one f-string literal's body, scope.source[begin, end).
std::vector<Part> parse_fstring_body(ParseScope& scope, std::size_t begin, std::size_t end,
                                     bool raw);

}  // namespace webhook::tmpl
