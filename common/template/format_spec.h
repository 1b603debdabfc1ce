// Python's format-spec mini-language (`format(value, spec)`): fill, align, sign, `z`, `#`,
// `0`, width, `,`/`_` grouping, precision and the types `s d n c b o x X e E f F g G %`,
// for str, int, bool and float, with CPython 3.11's error messages. Stateless.
#pragma once

#include <string>
#include <string_view>

#include "common/template/python_value.h"

namespace webhook::tmpl {

// Appends format(value, spec) to out. Throws PyError.
void append_formatted(std::string& out, const Value& value, std::string_view spec);

}  // namespace webhook::tmpl
