// The public face of the template language: Python f-string semantics over JSON items,
// without eval (see DESIGN.md § The template language). A template is compiled once into
// an immutable tree and rendered many times; compiled objects are cheap to copy (shared
// tree) and safe to render from several threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace webhook {
class Clock;
}

namespace webhook::tmpl {

// A template that does not compile. what() is the full multi-line message: what is wrong,
// then the template, then a caret under the column.
class CompileError : public std::runtime_error {
 public:
  CompileError(std::string reason, std::string_view source, std::size_t column);
  const std::string& reason() const { return reason_; }  // one line, no caret
  std::size_t column() const { return column_; }         // 0-based offset into the source

 private:
  std::string reason_;
  std::size_t column_;
};

// The outcome of one rendering: the text, or a Python-style runtime error such as
// "KeyError: 'name'" (error is empty on success).
struct RenderResult {
  std::string text;
  std::string error;
  bool ok() const { return error.empty(); }
};

struct Program;  // the compiled tree; defined by the implementation

// How a template's text is read as Python.
enum class Quoting {
  // As the Python connector evaluated WEBHOOK_URL: the Python expression f"TEXT", so a `"`
  // in the text ends the f-string and what follows is Python source (adjacent literals
  // concatenate, `" + str(1) + "` is an expression).
  kSpliced,
  // The whole text is one f-string body and quotes are plain text: header and body
  // templates, which the Python connector did not have, and which hold JSON.
  kWhole,
};

// An f-string template (WEBHOOK_URL, WEBHOOK_BODY, header values), rendered with the name
// `item` bound to a JSON value.
class Template {
 public:
  // Throws CompileError.
  static Template compile(std::string_view source, Quoting quoting = Quoting::kSpliced);
  // The same with more names bound beside `item` (a stream feed's `event_id` and
  // `event_type`); render_into's `extras` gives their values, in this order.
  static Template compile(std::string_view source, Quoting quoting,
                          std::span<const std::string_view> extra_names);

  RenderResult render(const nlohmann::ordered_json& item) const;
  // The same, with time.time() read from `clock`.
  RenderResult render(const nlohmann::ordered_json& item, const Clock& clock) const;
  // Renders into `result`, reusing its buffers (the fast path for many items).
  void render_into(const nlohmann::ordered_json& item, const Clock& clock,
                   RenderResult& result) const;
  void render_into(const nlohmann::ordered_json& item,
                   std::span<const nlohmann::ordered_json* const> extras, const Clock& clock,
                   RenderResult& result) const;

  const std::string& source() const;
  // Plain text without a replacement field: it renders the same for every item (so a
  // caller may render it once).
  bool is_literal() const;

 private:
  std::shared_ptr<const Program> program_;
};

// WEBHOOK_GRAPHQL_QUERY: every occurrence of the text LAST_POLL_TIME is replaced by the
// cursor (an integer), then the text is evaluated as the Python expression f'TEXT' (a `'`
// ends the f-string, as in the Python connector) with no `item`.
class QueryTemplate {
 public:
  // Checks that the template compiles once LAST_POLL_TIME is replaced. Throws CompileError.
  static QueryTemplate compile(std::string_view source);

  RenderResult render(int64_t last_poll_time) const;
  RenderResult render(int64_t last_poll_time, const Clock& clock) const;

  const std::string& source() const { return source_; }

  // The first step alone: every LAST_POLL_TIME replaced by the decimal cursor.
  static std::string substitute(std::string_view source, int64_t last_poll_time);

 private:
  std::string source_;
};

// WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION: a chain of Python subscripts such as
// ['data']['works']['edges'], [0] or [-1], applied to a whole GraphQL answer.
class DataLocation {
 public:
  // Throws CompileError.
  static DataLocation compile(std::string_view source);

  // The selected value inside `document`, or nullptr when there is no data: a missing key,
  // an index out of range, a subscript of a non-container, or a null value.
  const nlohmann::ordered_json* select(const nlohmann::ordered_json& document) const;

  const std::string& source() const { return source_; }

 private:
  std::string source_;
  nlohmann::ordered_json steps_ = nlohmann::ordered_json::array();  // strings and integers
};

}  // namespace webhook::tmpl
