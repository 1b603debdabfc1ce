// Helpers shared by the SQLite store's parts: a guard that resets a kept prepared statement
// (so no read snapshot outlives its use), binding of optional values, and reading a jobs row
// into a JobRow. Stateless; no ownership.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include "common/store/job_store.h"
#include "common/store/row_helpers.h"

namespace webhook::store {

// Clears a kept statement's bindings before use and resets it when the scope ends.
class StatementScope {
 public:
  explicit StatementScope(SQLite::Statement& statement) : statement_(statement) {
    statement_.reset();
    statement_.clearBindings();
  }
  ~StatementScope() { statement_.tryReset(); }
  StatementScope(const StatementScope&) = delete;
  StatementScope& operator=(const StatementScope&) = delete;

  SQLite::Statement& operator*() { return statement_; }
  SQLite::Statement* operator->() { return &statement_; }

 private:
  SQLite::Statement& statement_;
};

// The columns read_job_row expects, in order, to be selected from `jobs`.
inline constexpr std::string_view kJobColumns =
    "seq, id, feed, poll_id, method, url, headers, body, state, attempts, max_attempts, "
    "next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, finished_at, "
    "last_status, last_error, order_key, dead_blocks_key";

// Reads the current row of `statement`, whose first columns are kJobColumns from `first`.
JobRow read_job_row(SQLite::Statement& statement, int first = 0);

// The current row of attempts: number, started_at, duration_ms, http_status, error,
// response_head, worker.
AttemptRow read_attempt_row(SQLite::Statement& statement);

inline constexpr std::string_view kAttemptColumns =
    "number, started_at, duration_ms, http_status, error, response_head, worker";

void bind_optional(SQLite::Statement& statement, int index, const std::optional<int64_t>& value);
void bind_optional(SQLite::Statement& statement, int index,
                   const std::optional<std::string>& value);
std::optional<int64_t> optional_int64(const SQLite::Column& column);

}  // namespace webhook::store
