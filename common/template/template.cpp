#include "common/template/template.h"

#include "common/clock.h"
#include "common/template/fstring_parser.h"
#include "common/template/interpreter.h"
#include "common/template/limits.h"
#include "common/template/py_error.h"
#include "common/template/unicode.h"

namespace webhook::tmpl {
namespace {

std::string describe(const std::string& reason, std::string_view source, std::size_t column) {
  if (column > source.size()) column = source.size();
  std::size_t line_start = source.rfind('\n', column == 0 ? 0 : column - 1);
  line_start = (line_start == std::string_view::npos || column == 0) ? 0 : line_start + 1;
  if (column > 0 && source[column - 1] == '\n') line_start = column;
  std::size_t line_end = source.find('\n', column);
  if (line_end == std::string_view::npos) line_end = source.size();
  std::size_t line_number = 1;
  for (std::size_t i = 0; i < line_start; ++i) line_number += source[i] == '\n';
  std::string_view line = source.substr(line_start, line_end - line_start);
  std::string_view before = source.substr(line_start, column - line_start);
  std::string out = reason + " (line " + std::to_string(line_number) + ", column " +
                    std::to_string(code_point_count(before) + 1) + ")\n  " + std::string(line) +
                    "\n  ";
  for (unsigned char c : before) {
    if ((c & 0xC0) != 0x80) out += c == '\t' ? '\t' : ' ';
  }
  out += '^';
  return out;
}

const Clock& system_clock() {
  static const SystemClock kClock;
  return kClock;
}

// A representative cursor for checking that a query compiles.
constexpr int64_t kSampleCursor = 1'700'000'000'000;

}  // namespace

CompileError::CompileError(std::string reason, std::string_view source, std::size_t column)
    : std::runtime_error(describe(reason, source, column)),
      reason_(std::move(reason)),
      column_(column) {}

Template Template::compile(std::string_view source, Quoting quoting) {
  Template t;
  t.program_ = parse_template(source, true, quoting == Quoting::kSpliced ? '"' : 0);
  return t;
}

Template Template::compile(std::string_view source, Quoting quoting,
                           std::span<const std::string_view> extra_names) {
  Template t;
  t.program_ = parse_template(source, true, quoting == Quoting::kSpliced ? '"' : 0, extra_names);
  return t;
}

const std::string& Template::source() const {
  static const std::string kNone;
  return program_ ? program_->source : kNone;
}

bool Template::is_literal() const {
  if (!program_) return false;
  for (const Part& part : program_->parts) {
    if (part.expr) return false;
  }
  return true;
}

RenderResult Template::render(const nlohmann::ordered_json& item) const {
  return render(item, system_clock());
}

RenderResult Template::render(const nlohmann::ordered_json& item, const Clock& clock) const {
  RenderResult result;
  render_into(item, clock, result);
  return result;
}

void Template::render_into(const nlohmann::ordered_json& item, const Clock& clock,
                           RenderResult& result) const {
  render_into(item, {}, clock, result);
}

void Template::render_into(const nlohmann::ordered_json& item,
                           std::span<const nlohmann::ordered_json* const> extras,
                           const Clock& clock, RenderResult& result) const {
  result.text.clear();
  result.error.clear();
  if (!program_) {
    result.error = "SystemError: the template was never compiled";
    return;
  }
  constexpr int kInlineSlots = 8;
  Value inline_slots[kInlineSlots];
  std::vector<Value> heap_slots;
  Value* slots = inline_slots;
  if (program_->slot_count > kInlineSlots) {
    heap_slots.resize(static_cast<std::size_t>(program_->slot_count));
    slots = heap_slots.data();
  }
  BudgetScope budget;
  try {
    slots[0] = Value::from_json(item);
    // Slots past the compiled names are comprehension variables; extras fill 1..n only
    // when the template was compiled with that many names.
    for (std::size_t i = 0; i < extras.size() && static_cast<int>(i) + 1 < program_->slot_count;
         ++i) {
      slots[i + 1] = Value::from_json(*extras[i]);
    }
    Frame frame{slots, &clock};
    result.text.reserve(program_->literal_size + 32);
    render_parts(program_->parts, frame, result.text);
  } catch (const PyError& e) {
    result.text.clear();
    result.error = e.text();
  }
}

std::string QueryTemplate::substitute(std::string_view source, int64_t last_poll_time) {
  static constexpr std::string_view kName = "LAST_POLL_TIME";
  std::string value = std::to_string(last_poll_time);
  std::string out;
  std::size_t pos = 0;
  while (true) {
    std::size_t at = source.find(kName, pos);
    if (at == std::string_view::npos) break;
    out += source.substr(pos, at - pos);
    out += value;
    pos = at + kName.size();
  }
  out += source.substr(pos);
  return out;
}

QueryTemplate QueryTemplate::compile(std::string_view source) {
  parse_template(substitute(source, kSampleCursor), false, '\'');
  QueryTemplate q;
  q.source_ = std::string(source);
  return q;
}

RenderResult QueryTemplate::render(int64_t last_poll_time) const {
  return render(last_poll_time, system_clock());
}

RenderResult QueryTemplate::render(int64_t last_poll_time, const Clock& clock) const {
  RenderResult result;
  std::shared_ptr<Program> program;
  try {
    program = parse_template(substitute(source_, last_poll_time), false, '\'');
  } catch (const CompileError& e) {
    result.error = "SyntaxError: " + e.reason();
    return result;
  }
  std::vector<Value> heap(static_cast<std::size_t>(std::max(program->slot_count, 1)));
  BudgetScope budget;
  try {
    Frame frame{heap.data(), &clock};
    render_parts(program->parts, frame, result.text);
  } catch (const PyError& e) {
    result.text.clear();
    result.error = e.text();
  }
  return result;
}

}  // namespace webhook::tmpl
