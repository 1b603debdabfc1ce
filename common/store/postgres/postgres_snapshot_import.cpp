#include "common/store/postgres/postgres_snapshot_import.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/store/postgres/pg_connection.h"
#include "common/store/postgres/postgres_channel.h"
#include "common/store/postgres/postgres_migrator.h"
#include "common/store/row_helpers.h"

namespace webhook::store {
namespace {

// libpq's limit is 65535 parameters a statement.
constexpr std::size_t kMaxParameters = 60000;
// A copy waits this long for a process of the target holding a table (it should not run).
constexpr const char* kLockTimeout = "10s";

std::size_t column_count(const SnapshotTable& table) {
  const std::string_view columns(table.columns);
  return static_cast<std::size_t>(std::count(columns.begin(), columns.end(), ',')) + 1;
}

// Text parameters travel as C strings: a NUL byte would silently cut the value short.
void refuse_nul(const SnapshotTable& table, const std::vector<SnapshotValue>& row) {
  for (const SnapshotValue& value : row) {
    if (value && value->find('\0') != std::string::npos) {
      throw std::runtime_error("row " + row[0].value_or("NULL") + " of table " + table.name +
                               " holds a NUL byte, which PostgreSQL text cannot store");
    }
  }
}

// One multi-row INSERT per chunk of the batch, checking every row went in.
void insert_batch(PgConnection& connection, const SnapshotBatch& batch) {
  const SnapshotTable& table = *batch.table;
  const std::size_t columns = column_count(table);
  const std::size_t chunk = kMaxParameters / columns;
  const bool heartbeats = std::string_view(table.name) == "heartbeats";
  for (std::size_t start = 0; start < batch.rows.size(); start += chunk) {
    const std::size_t count = std::min(chunk, batch.rows.size() - start);
    std::string sql = std::string("INSERT INTO ") + table.name + " (" + table.columns + ") VALUES ";
    PgParams params;
    for (std::size_t r = 0; r < count; ++r) {
      const std::vector<SnapshotValue>& row = batch.rows[start + r];
      if (row.size() != columns) {
        throw std::logic_error(std::string("a snapshot row of ") + table.name +
                               " has the wrong number of columns");
      }
      refuse_nul(table, row);
      sql += r == 0 ? "(" : ", (";
      for (std::size_t c = 0; c < columns; ++c) {
        sql += (c == 0 ? "$" : ", $") + std::to_string(params.size() + 1);
        if (row[c]) {
          params.add(*row[c]);
        } else {
          params.add_null();
        }
      }
      sql += ")";
    }
    // Beats the target's own processes wrote meanwhile are newer than the source's.
    if (heartbeats) {
      sql +=
          " ON CONFLICT (process, worker) DO UPDATE SET at = greatest(heartbeats.at, "
          "excluded.at), stopped_at = CASE WHEN excluded.at > heartbeats.at THEN "
          "excluded.stopped_at ELSE heartbeats.stopped_at END";
    }
    const std::string what =
        "copying " + std::to_string(count) + " row(s) into " + std::string(table.name);
    expect_changes(connection.exec(what, sql, params).changed(), static_cast<int>(count), what);
  }
}

// The tables holding rows, e.g. "jobs (3 rows), cursors (1 row)"; empty when none.
std::string tables_with_rows(PgConnection& connection) {
  std::string held;
  for (const SnapshotTable& table : snapshot_tables()) {
    // Heartbeats are liveness, not queue content: a dispatcher already started on the
    // empty target has one, and its beat is kept beside the copied ones.
    if (std::string_view(table.name) == "heartbeats") continue;
    const int64_t rows = connection
                             .exec("checking that the target is empty",
                                   std::string("SELECT count(*) FROM ") + table.name)
                             .int64(0, 0);
    if (rows == 0) continue;
    if (!held.empty()) held += ", ";
    held +=
        std::string(table.name) + " (" + std::to_string(rows) + (rows == 1 ? " row)" : " rows)");
  }
  return held;
}

}  // namespace

CopyReport import_postgres_snapshot(const std::string& url, SnapshotReader& source) {
  PgConnection connection(url, "");
  migrate_postgres(connection);  // the tables, as the processes would create them
  CopyReport report;
  std::map<std::string, int64_t> copied;
  for (const SnapshotTable& table : snapshot_tables()) copied[table.name] = 0;
  bool read = false;
  connection.write("copying the queue into " + connection.display(), [&] {
    // The source is read once: a transaction the server asks to run again after reading
    // began (a deadlock, a serialization failure) cannot be.
    if (read) {
      throw std::runtime_error("the copy's transaction conflicted with another session on " +
                               connection.display() + "; nothing was written, run it again");
    }
    connection.exec("setting the lock timeout",
                    std::string("SET LOCAL lock_timeout = '") + kLockTimeout + "'");
    // Writers wait until the copy commits (readers do not), so the emptiness checked here
    // still holds at the commit.
    std::string tables;
    for (const SnapshotTable& table : snapshot_tables()) {
      tables += (tables.empty() ? "" : ", ") + std::string(table.name);
    }
    connection.exec("locking the queue's tables (is a poller or dispatcher using the target?)",
                    "LOCK TABLE " + tables + " IN SHARE ROW EXCLUSIVE MODE");
    if (const std::string held = tables_with_rows(connection); !held.empty()) {
      throw StoreNotEmpty("the target " + connection.display() + " is not empty: " + held +
                          "; copy-store copies only into an empty store, so that two queues are "
                          "never mixed (nothing was written)");
    }
    SnapshotBatch batch;
    read = true;
    while (source.next(batch)) {
      insert_batch(connection, batch);
      copied[batch.table->name] += static_cast<int64_t>(batch.rows.size());
    }
    // Identity columns were given explicit values: move each generator past them.
    for (const SnapshotTable& table : snapshot_tables()) {
      if (table.identity == nullptr) continue;
      connection.exec(
          std::string("moving the id generator of ") + table.name + " past the copied rows",
          std::string("SELECT setval(pg_get_serial_sequence('") + table.name + "', '" +
              table.identity + "'), max(" + table.identity + ")) FROM " + table.name +
              " HAVING count(*) > 0");
    }
    // Dispatchers already waiting hear of the copied jobs at the commit.
    notify_new_jobs(connection);
  });
  for (const SnapshotTable& table : snapshot_tables()) {
    report.rows.emplace_back(table.name, copied[table.name]);
  }
  return report;
}

}  // namespace webhook::store
