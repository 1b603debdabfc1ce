// The callable part of the language: the built-in functions (len str int float bool round
// abs min max sorted repr any all), json.dumps, time.time, the two extras iso() and quote(), and
// the str and dict methods. Each evaluates its call node's arguments and follows CPython.
#pragma once

#include <string>
#include <string_view>

#include "common/template/interpreter.h"

namespace webhook::tmpl {

Value call_builtin(const Node& call, Frame& frame);  // builtins.cpp
Value call_method(const Node& call, Frame& frame);   // str_methods.cpp

// json.dumps(value, ...) into out (json_dumps.cpp).
struct JsonDumpsOptions {
  bool ensure_ascii = true;
  bool sort_keys = false;
  bool indent_set = false;
  std::string indent;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
};
void json_dumps(std::string& out, const Value& v, const JsonDumpsOptions& options);

// The extras beyond Python: ISO-8601 UTC text of epoch milliseconds as OpenCTI prints it
// (2024-01-01T00:00:00.000Z), and urllib.parse.quote(s, safe='').
std::string iso_from_ms(const Value& ms);
std::string percent_quote(std::string_view s);

}  // namespace webhook::tmpl
