#include "common/store/postgres/postgres_snapshot_import.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/store/row_helpers.h"

namespace webhook::store {
namespace {

// One INSERT of many rows: `columns` values per row, at most 65535 parameters a statement.
void insert_rows(PgConnection& connection, const std::string& table, const std::string& columns,
                 int per_row, std::size_t rows,
                 const std::function<void(std::size_t, PgParams&)>& add_row) {
  const std::size_t chunk = static_cast<std::size_t>(60000 / per_row);
  for (std::size_t start = 0; start < rows; start += chunk) {
    const std::size_t count = std::min(chunk, rows - start);
    std::string sql = "INSERT INTO " + table + " (" + columns + ") VALUES ";
    PgParams params;
    for (std::size_t r = 0; r < count; ++r) {
      const std::size_t first = params.size() + 1;
      sql += r == 0 ? "(" : ", (";
      for (int c = 0; c < per_row; ++c) {
        sql += (c == 0 ? "$" : ", $") + std::to_string(first + static_cast<std::size_t>(c));
      }
      sql += ")";
      add_row(start + r, params);
    }
    const std::string what = "copying " + std::to_string(count) + " row(s) into " + table;
    expect_changes(connection.exec(what, sql, params).changed(), static_cast<int>(count), what);
  }
}

std::optional<int64_t> optional_status(const std::optional<int>& status) {
  return status ? std::optional<int64_t>(*status) : std::nullopt;
}

void write_batch(PgConnection& c, const StoreSnapshot& b) {
  insert_rows(
      c, "cursors", "feed, last_poll_time", 2, b.cursors.size(),
      [&](std::size_t i, PgParams& p) { p.add(b.cursors[i].first).add(b.cursors[i].second); });
  insert_rows(c, "heartbeats", "process, worker, at", 3, b.heartbeats.size(),
              [&](std::size_t i, PgParams& p) {
                const HeartbeatRow& h = b.heartbeats[i];
                p.add(h.process).add(h.worker).add(h.at);
              });
  insert_rows(c, "polls",
              "id, feed, started_at, finished_at, window_from, window_to, items_found, "
              "jobs_enqueued, duplicates_skipped, render_errors, status, error",
              12, b.polls.size(), [&](std::size_t i, PgParams& p) {
                const PollRow& row = b.polls[i];
                const PollRecord& r = row.record;
                p.add(row.id)
                    .add(r.feed)
                    .add(r.started_at)
                    .add(r.finished_at)
                    .add(r.window_from)
                    .add(r.window_to)
                    .add(r.items_found)
                    .add(r.jobs_enqueued)
                    .add(r.duplicates_skipped)
                    .add(r.render_errors)
                    .add(r.ok ? "ok" : "failed")
                    .add(r.error);
              });
  insert_rows(c, "seen_items", "id, feed, seen_at, hashes", 4, b.seen.size(),
              [&](std::size_t i, PgParams& p) {
                const SnapshotSeen& s = b.seen[i];
                p.add(s.id).add(s.feed).add(s.seen_at).add(s.hashes);
              });
  insert_rows(c, "jobs",
              "seq, id, feed, poll_id, method, url, headers, body, state, attempts, attempt_seq, "
              "max_attempts, next_attempt_at, lease_owner, lease_token, lease_expires_at, "
              "created_at, updated_at, finished_at, last_status, last_error",
              21, b.jobs.size(), [&](std::size_t i, PgParams& p) {
                const SnapshotJob& job = b.jobs[i];
                const JobRow& j = job.row;
                // Only a running job holds a lease (a CHECK on both stores).
                const bool running = j.state == JobState::kRunning;
                p.add(j.seq)
                    .add(j.id)
                    .add(j.feed)
                    .add(j.poll_id > 0 ? std::optional<int64_t>(j.poll_id) : std::nullopt)
                    .add(j.method)
                    .add(j.url)
                    .add(j.headers.empty() ? std::string("{}") : j.headers.dump())
                    .add(j.body)
                    .add(to_string(j.state))
                    .add(j.attempts)
                    .add(job.attempt_seq)
                    .add(j.max_attempts)
                    .add(j.next_attempt_at);
                if (running) {
                  p.add(j.lease_owner);
                } else {
                  p.add_null();
                }
                p.add(job.lease_token)
                    .add(running ? std::optional<int64_t>(j.lease_expires_at) : std::nullopt)
                    .add(j.created_at)
                    .add(j.updated_at)
                    .add(j.finished_at)
                    .add(optional_status(j.last_status))
                    .add(j.last_error);
              });
  insert_rows(c, "attempts",
              "job_seq, number, started_at, duration_ms, http_status, error, response_head, "
              "worker",
              8, b.attempts.size(), [&](std::size_t i, PgParams& p) {
                const SnapshotAttempt& a = b.attempts[i];
                p.add(a.job_seq)
                    .add(a.row.number)
                    .add(a.row.started_at)
                    .add(a.row.duration_ms)
                    .add(optional_status(a.row.http_status))
                    .add(a.row.error)
                    .add(a.row.response_head)
                    .add(a.row.worker);
              });
}

}  // namespace

void import_postgres_snapshot(PgConnection& connection, SnapshotReader& source) {
  bool started = false;
  connection.write("copying a store into " + connection.display(), [&] {
    // The source is read once; a transaction the server asks to run again cannot be.
    if (started) {
      throw std::runtime_error(
          "the copy's transaction was interrupted by another session; "
          "nothing was written, run it again");
    }
    started = true;
    // Writers wait until the copy commits (readers do not), so the emptiness checked here
    // still holds at the commit.
    connection.exec("locking the queue's tables",
                    "LOCK TABLE cursors, polls, jobs, attempts, seen_items, heartbeats IN SHARE "
                    "ROW EXCLUSIVE MODE");
    PgResult held =
        connection.exec("checking that the target is empty",
                        "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM polls), "
                        "(SELECT count(*) FROM cursors)");
    const int64_t jobs = held.int64(0, 0);
    const int64_t polls = held.int64(0, 1);
    const int64_t cursors = held.int64(0, 2);
    if (jobs + polls + cursors > 0) {
      throw StoreNotEmpty("the target " + connection.display() + " is not empty: it holds " +
                          std::to_string(jobs) + " job(s), " + std::to_string(polls) +
                          " poll(s) and " + std::to_string(cursors) +
                          " cursor(s); copy-store copies only into an empty store, so nothing "
                          "already there is mixed with or overwritten by the copy (nothing was "
                          "written)");
    }
    // Heartbeats of processes that no longer run here would only confuse health checks
    // until they age out; the copied ones replace any the target's processes wrote.
    connection.exec("clearing heartbeats", "DELETE FROM heartbeats");
    StoreSnapshot batch;
    while (source.next(batch)) write_batch(connection, batch);
    // Identity columns were given explicit values: move each generator past them.
    struct Identity {
      std::string table, column;
    };
    for (const auto& [table, column] :
         {Identity{"polls", "id"}, Identity{"jobs", "seq"}, Identity{"seen_items", "id"}}) {
      connection.exec("moving the " + table + " id generator past the copied rows",
                      "SELECT setval(pg_get_serial_sequence('" + table + "', '" + column +
                          "'), max(" + column + ")) FROM " + table + " HAVING count(*) > 0");
    }
    // Dispatchers already waiting hear of the copied pending jobs.
    connection.exec("signalling new jobs", "NOTIFY webhook_jobs");
  });
}

}  // namespace webhook::store
