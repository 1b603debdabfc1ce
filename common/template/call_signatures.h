// What may be called in a template and how: the built-in names, the method names, and each
// built-in's accepted arity and keyword arguments, checked when the template compiles.
// Constant tables; thread-safe.
#pragma once

#include <map>
#include <string>

#include "common/template/syntax_tree.h"

namespace webhook::tmpl {

const std::map<std::string, Builtin>& builtin_names();
bool is_method_name(const std::string& name);
// An empty string when `call` (a kCall node) passes the right arguments to `builtin`, else
// the compile error's reason.
std::string check_call_signature(Builtin builtin, const std::string& name, const Node& call);

}  // namespace webhook::tmpl
