// A Python exception raised while rendering (`KeyError: 'name'`): the exception type name
// and the message, exactly as CPython words them. Thrown inside the interpreter and caught
// once per rendering, where it becomes RenderResult::error.
#pragma once

#include <string>

namespace webhook::tmpl {

struct PyError {
  std::string type;
  std::string message;
  std::string text() const { return message.empty() ? type : type + ": " + message; }
};

[[noreturn]] inline void raise(std::string type, std::string message) {
  throw PyError{std::move(type), std::move(message)};
}

}  // namespace webhook::tmpl
