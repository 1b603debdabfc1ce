#include "common/store/sqlite_rows.h"

#include <stdexcept>

namespace webhook::store {

JobRow read_job_row(SQLite::Statement& s, int first) {
  JobRow row;
  int c = first;
  row.seq = s.getColumn(c++).getInt64();
  row.id = s.getColumn(c++).getString();
  row.feed = s.getColumn(c++).getString();
  row.poll_id = optional_int64(s.getColumn(c++)).value_or(0);
  row.method = s.getColumn(c++).getString();
  row.url = s.getColumn(c++).getString();
  row.headers = parse_headers(s.getColumn(c++).getString());
  row.body = s.getColumn(c++).getString();
  std::string state = s.getColumn(c++).getString();
  row.state = parse_job_state(state).value_or(JobState::kPending);
  row.attempts = s.getColumn(c++).getInt64();
  row.max_attempts = s.getColumn(c++).getInt64();
  row.next_attempt_at = s.getColumn(c++).getInt64();
  row.lease_owner = s.getColumn(c++).getString();
  row.lease_expires_at = optional_int64(s.getColumn(c++)).value_or(0);
  row.created_at = s.getColumn(c++).getInt64();
  row.updated_at = s.getColumn(c++).getInt64();
  row.finished_at = optional_int64(s.getColumn(c++));
  if (auto status = optional_int64(s.getColumn(c++))) row.last_status = static_cast<int>(*status);
  row.last_error = s.getColumn(c++).getString();
  return row;
}

AttemptRow read_attempt_row(SQLite::Statement& s) {
  AttemptRow row;
  row.number = s.getColumn(0).getInt64();
  row.started_at = s.getColumn(1).getInt64();
  row.duration_ms = s.getColumn(2).getInt64();
  if (auto status = optional_int64(s.getColumn(3))) row.http_status = static_cast<int>(*status);
  row.error = s.getColumn(4).getString();
  row.response_head = s.getColumn(5).getString();
  row.worker = s.getColumn(6).getString();
  return row;
}

void bind_optional(SQLite::Statement& s, int index, const std::optional<int64_t>& value) {
  if (value) {
    s.bind(index, *value);
  } else {
    s.bind(index);
  }
}

void bind_optional(SQLite::Statement& s, int index, const std::optional<std::string>& value) {
  if (value) {
    s.bind(index, *value);
  } else {
    s.bind(index);
  }
}

std::optional<int64_t> optional_int64(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut sequence.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

void expect_changes(int changed, int expected, std::string_view what) {
  if (changed != expected) {
    throw std::runtime_error(std::string(what) + ": expected to change " +
                             std::to_string(expected) + " row(s), changed " +
                             std::to_string(changed));
  }
}

nlohmann::ordered_json parse_headers(const std::string& text) {
  // Most jobs have no headers: skip the parser for them (every claim reads this column).
  if (text == "{}" || text.empty()) return nlohmann::ordered_json::object();
  auto parsed = nlohmann::ordered_json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return nlohmann::ordered_json::object();
  return parsed;
}

}  // namespace webhook::store
