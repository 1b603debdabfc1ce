// The stream feeds' side of the SQLite store: the stream cursor per feed, the connection
// history, and commit_stream, which writes a batch of events' jobs with the stream id they
// lead up to in one transaction (fenced by the expected cursor, as commit_poll is), and the
// operator's rewind of that cursor. Borrows
// the connection and the poll writer (for its job inserts), which must outlive it; keeps
// its statements prepared. One thread at a time.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <SQLiteCpp/Statement.h>

#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_connection.h"
#include "common/store/sqlite/sqlite_feed_leases.h"
#include "common/store/sqlite/sqlite_poll_writer.h"

namespace webhook::store {

class SqliteStreamWriter {
 public:
  SqliteStreamWriter(SqliteConnection& connection, SqlitePollWriter& jobs,
                     SqliteFeedLeases& leases);

  std::optional<std::string> stream_cursor(std::string_view feed);
  bool commit_stream(const StreamCommit& commit);
  int64_t open_connection(std::string_view feed, int64_t started_at, std::string_view from_id);
  void close_connection(int64_t id, int64_t ended_at, std::optional<int> http_status,
                        std::string_view reason);
  // The operator's rewind: false when the feed has no stream cursor.
  bool rewind(std::string_view feed, std::string_view to, int64_t now);

 private:
  SqliteConnection& connection_;
  SqlitePollWriter& jobs_;
  SqliteFeedLeases& leases_;
  SQLite::Statement select_cursor_;
  SQLite::Statement upsert_cursor_;
  SQLite::Statement count_connection_;
};

}  // namespace webhook::store
