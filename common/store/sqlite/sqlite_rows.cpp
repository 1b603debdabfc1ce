#include "common/store/sqlite/sqlite_rows.h"

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
  if (SQLite::Column key = s.getColumn(c++); !key.isNull()) row.order_key = key.getString();
  row.dead_blocks_key = s.getColumn(c++).getInt64() != 0;
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

}  // namespace webhook::store
