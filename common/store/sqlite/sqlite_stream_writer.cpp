#include "common/store/sqlite/sqlite_stream_writer.h"

#include <stdexcept>

#include "common/store/row_helpers.h"
#include "common/store/sqlite/sqlite_rows.h"

namespace webhook::store {

SqliteStreamWriter::SqliteStreamWriter(SqliteConnection& connection, SqlitePollWriter& jobs,
                                       SqliteFeedLeases& leases)
    : connection_(connection),
      jobs_(jobs),
      leases_(leases),
      select_cursor_(connection.db(), "SELECT last_event_id FROM stream_cursors WHERE feed = ?"),
      upsert_cursor_(
          connection.db(),
          "INSERT INTO stream_cursors (feed, last_event_id, updated_at) VALUES (?, ?, ?) "
          "ON CONFLICT (feed) DO UPDATE SET last_event_id = excluded.last_event_id, "
          "updated_at = excluded.updated_at"),
      count_connection_(connection.db(),
                        "UPDATE stream_connections SET last_id = ?, events = events + ?, "
                        "heartbeats = heartbeats + ?, jobs_enqueued = jobs_enqueued + ?, "
                        "filtered = filtered + ?, render_errors = render_errors + ? WHERE id = ?") {
}

std::optional<std::string> SqliteStreamWriter::stream_cursor(std::string_view feed) {
  StatementScope s(select_cursor_);
  s->bind(1, std::string(feed));
  if (!s->executeStep()) return std::nullopt;
  return s->getColumn(0).getString();
}

bool SqliteStreamWriter::commit_stream(const StreamCommit& c) {
  check_stream_id(c.new_cursor, "stream commit of feed " + c.feed, "cursor");
  SqlitePollWriter::check_unique_ids(c.jobs, "stream batch of feed " + c.feed);
  bool written = false;
  connection_.write("committing stream events of feed " + c.feed, [&] {
    written = false;
    // A poller that lost its feed's lease writes nothing: its successor streams the feed.
    if (c.lease_epoch) leases_.check_held(c.feed, *c.lease_epoch, c.now);
    // Another poller (or an operator) moved the cursor since this batch began: it is moot.
    if (stream_cursor(c.feed) != c.expected_cursor) return;
    jobs_.insert_jobs(c.jobs, c.feed, std::nullopt, c.now, c.ordering);
    connection_.fault_point("commit_stream:jobs_written");
    {
      StatementScope s(upsert_cursor_);
      s->bind(1, c.feed);
      s->bind(2, c.new_cursor);
      s->bind(3, c.now);
      expect_changes(s->exec(), 1, "setting the stream cursor of feed " + c.feed);
    }
    if (c.connection_id != 0) {
      StatementScope s(count_connection_);
      s->bind(1, c.new_cursor);
      s->bind(2, c.events);
      s->bind(3, c.heartbeats);
      s->bind(4, static_cast<int64_t>(c.jobs.size()) - c.render_errors);
      s->bind(5, c.filtered);
      s->bind(6, c.render_errors);
      s->bind(7, c.connection_id);
      s->exec();  // a pruned connection row is no reason to lose the batch
    }
    connection_.fault_point("commit_stream:before_commit");
    written = true;
  });
  return written;
}

int64_t SqliteStreamWriter::open_connection(std::string_view feed, int64_t started_at,
                                            std::string_view from_id) {
  int64_t id = 0;
  connection_.write("recording a stream connection of feed " + std::string(feed), [&] {
    SQLite::Statement s(connection_.db(),
                        "INSERT INTO stream_connections (feed, started_at, from_id) "
                        "VALUES (?, ?, ?)");
    s.bind(1, std::string(feed));
    s.bind(2, started_at);
    s.bind(3, std::string(from_id));
    expect_changes(s.exec(), 1, "recording a stream connection");
    id = connection_.db().getLastInsertRowid();
  });
  return id;
}

void SqliteStreamWriter::close_connection(int64_t id, int64_t ended_at,
                                          std::optional<int> http_status, std::string_view reason) {
  connection_.write("recording the end of stream connection " + std::to_string(id), [&] {
    SQLite::Statement s(connection_.db(),
                        "UPDATE stream_connections SET ended_at = max(?, started_at), "
                        "http_status = ?, end_reason = ? WHERE id = ?");
    s.bind(1, ended_at);
    bind_optional(s, 2,
                  http_status ? std::optional<int64_t>(*http_status) : std::optional<int64_t>());
    s.bind(3, std::string(reason));
    s.bind(4, id);
    s.exec();
  });
}

bool SqliteStreamWriter::rewind(std::string_view feed, std::string_view to, int64_t now) {
  check_stream_id(to, "rewinding stream feed " + std::string(feed), "stream id");
  bool moved = false;
  connection_.write("rewinding stream feed " + std::string(feed), [&] {
    // An UPDATE, not the upsert: a feed that never streamed is not made up here.
    SQLite::Statement s(
        connection_.db(),
        "UPDATE stream_cursors SET last_event_id = ?, updated_at = ? WHERE feed = ?");
    s.bind(1, std::string(to));
    s.bind(2, now);
    s.bind(3, std::string(feed));
    moved = s.exec() == 1;
  });
  return moved;
}

}  // namespace webhook::store
