#include "common/store/postgres/postgres_operator_queries.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/store/postgres/postgres_channel.h"
#include "common/store/postgres/postgres_order_lock.h"
#include "common/store/row_helpers.h"

namespace webhook::store {
namespace {

constexpr const char* kJobColumnsSql =
    "seq, id, feed, poll_id, method, url, headers, body, state, attempts, max_attempts, "
    "next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, finished_at, "
    "last_status, last_error, order_key, dead_blocks_key";
constexpr const char* kAttemptColumnsSql =
    "number, started_at, duration_ms, http_status, error, response_head, worker";
constexpr const char* kPollColumnsSql =
    "id, feed, started_at, finished_at, window_from, window_to, items_found, jobs_enqueued, "
    "duplicates_skipped, render_errors, status, error, filtered";

JobRow read_job(const PgResult& r, int row) {
  JobRow j;
  int c = 0;
  j.seq = r.int64(row, c++);
  j.id = r.text(row, c++);
  j.feed = r.text(row, c++);
  j.poll_id = r.optional_int64(row, c++).value_or(0);
  j.method = r.text(row, c++);
  j.url = r.text(row, c++);
  j.headers = parse_headers(r.text(row, c++));
  j.body = r.text(row, c++);
  j.state = parse_job_state(r.text(row, c++)).value_or(JobState::kPending);
  j.attempts = r.int64(row, c++);
  j.max_attempts = r.int64(row, c++);
  j.next_attempt_at = r.int64(row, c++);
  j.lease_owner = r.text(row, c++);
  j.lease_expires_at = r.optional_int64(row, c++).value_or(0);
  j.created_at = r.int64(row, c++);
  j.updated_at = r.int64(row, c++);
  j.finished_at = r.optional_int64(row, c++);
  if (auto s = r.optional_int64(row, c++)) j.last_status = static_cast<int>(*s);
  j.last_error = r.text(row, c++);
  if (!r.null(row, c)) j.order_key = r.text(row, c);
  ++c;
  j.dead_blocks_key = r.int64(row, c++) != 0;
  return j;
}

PollRow read_poll(const PgResult& r, int row) {
  PollRow p;
  p.id = r.int64(row, 0);
  PollRecord& rec = p.record;
  rec.feed = r.text(row, 1);
  rec.started_at = r.int64(row, 2);
  rec.finished_at = r.int64(row, 3);
  rec.window_from = r.int64(row, 4);
  rec.window_to = r.int64(row, 5);
  rec.items_found = r.int64(row, 6);
  rec.jobs_enqueued = r.int64(row, 7);
  rec.duplicates_skipped = r.int64(row, 8);
  rec.render_errors = r.int64(row, 9);
  rec.ok = r.text(row, 10) == "ok";
  rec.error = r.text(row, 11);
  rec.filtered = r.int64(row, 12);
  return p;
}

// Runs `sql` (a DELETE of at most $2 rows older than $1), one transaction per batch, until
// a batch deletes fewer rows than it may; returns the rows deleted.
int delete_in_batches(PgConnection& connection, const std::string& what, const char* sql,
                      int64_t before, int batch) {
  int total = 0;
  for (;;) {
    int deleted = 0;
    connection.write(what, [&] {
      deleted = connection.exec(what, sql, PgParams().add(before).add(static_cast<int64_t>(batch)))
                    .changed();
    });
    total += deleted;
    if (deleted < batch) return total;
  }
}

}  // namespace

std::vector<FeedStatus> PostgresOperatorQueries::status() {
  std::map<std::string, FeedStatus> feeds;
  auto feed = [&](const std::string& name) -> FeedStatus& {
    FeedStatus& f = feeds[name];
    if (f.feed.empty()) {
      f.feed = name;
      for (JobState s : kAllJobStates) f.counts[s] = 0;
    }
    return f;
  };
  connection_.read_snapshot("reading the status", [&] {
    feeds.clear();
    PgResult cursors =
        connection_.exec("reading cursors", "SELECT feed, last_poll_time FROM cursors");
    for (int i = 0; i < cursors.rows(); ++i) feed(cursors.text(i, 0)).cursor = cursors.int64(i, 1);
    PgResult counts = connection_.exec(
        "counting jobs", "SELECT feed, state, count(*) FROM jobs GROUP BY feed, state");
    for (int i = 0; i < counts.rows(); ++i) {
      if (auto state = parse_job_state(counts.text(i, 1))) {
        feed(counts.text(i, 0)).counts[*state] = counts.int64(i, 2);
      }
    }
    PgResult polls =
        connection_.exec("reading the last polls",
                         std::string("SELECT ") + kPollColumnsSql +
                             " FROM polls WHERE id IN (SELECT max(id) FROM polls GROUP BY feed)");
    for (int i = 0; i < polls.rows(); ++i) {
      PollRow row = read_poll(polls, i);
      feed(row.record.feed).last_poll = row;
    }
    PgResult oldest = connection_.exec(
        "reading the oldest pending jobs",
        "SELECT feed, min(created_at) FROM jobs WHERE state = 'pending' GROUP BY feed");
    for (int i = 0; i < oldest.rows(); ++i) {
      feed(oldest.text(i, 0)).oldest_pending_created_at = oldest.int64(i, 1);
    }
  });
  std::vector<FeedStatus> result;
  for (auto& [name, f] : feeds) result.push_back(std::move(f));
  return result;
}

std::vector<JobRow> PostgresOperatorQueries::list_jobs(const JobFilter& filter) {
  std::string sql = std::string("SELECT ") + kJobColumnsSql + " FROM jobs";
  PgParams params;
  std::vector<std::string> where;
  if (filter.state) {
    params.add(to_string(*filter.state));
    where.push_back("state = $" + std::to_string(params.size()));
  }
  if (filter.feed) {
    params.add(*filter.feed);
    where.push_back("feed = $" + std::to_string(params.size()));
  }
  if (filter.text) {
    params.add(*filter.text);
    const std::string p = "$" + std::to_string(params.size());
    where.push_back("(id = " + p + " OR strpos(lower(url), lower(" + p +
                    ")) > 0 OR strpos(lower(body), lower(" + p +
                    ")) > 0 OR strpos(lower(last_error), lower(" + p + ")) > 0)");
  }
  if (filter.before_seq) {
    params.add(*filter.before_seq);
    where.push_back("seq < $" + std::to_string(params.size()) + "::bigint");
  }
  for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  params.add(static_cast<int64_t>(std::max(filter.limit, 0)));
  sql += " ORDER BY seq DESC LIMIT $" + std::to_string(params.size());
  PgResult r = connection_.exec("listing jobs", sql, params);
  std::vector<JobRow> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(read_job(r, i));
  return rows;
}

std::optional<JobDetail> PostgresOperatorQueries::job(std::string_view id) {
  std::optional<JobDetail> detail;
  connection_.read_snapshot("reading a job", [&] {
    detail.reset();
    const bool by_seq = is_seq_number(id);
    PgResult r = connection_.exec("reading a job",
                                  std::string("SELECT ") + kJobColumnsSql + " FROM jobs WHERE " +
                                      (by_seq ? "seq = $1::bigint" : "id = $1"),
                                  PgParams().add(id));
    if (r.rows() == 0) return;
    detail.emplace();
    detail->job = read_job(r, 0);
    PgResult a = connection_.exec("reading a job's attempts",
                                  std::string("SELECT ") + kAttemptColumnsSql +
                                      " FROM attempts WHERE job_seq = $1 ORDER BY number",
                                  PgParams().add(detail->job.seq));
    for (int i = 0; i < a.rows(); ++i) {
      AttemptRow row;
      row.number = a.int64(i, 0);
      row.started_at = a.int64(i, 1);
      row.duration_ms = a.int64(i, 2);
      if (auto s = a.optional_int64(i, 3)) row.http_status = static_cast<int>(*s);
      row.error = a.text(i, 4);
      row.response_head = a.text(i, 5);
      row.worker = a.text(i, 6);
      detail->attempts.push_back(std::move(row));
    }
  });
  return detail;
}

std::vector<PollRow> PostgresOperatorQueries::list_polls(std::optional<std::string> feed,
                                                         int limit) {
  PgParams params;
  std::string sql = std::string("SELECT ") + kPollColumnsSql + " FROM polls";
  if (feed) {
    params.add(*feed);
    sql += " WHERE feed = $1";
  }
  params.add(static_cast<int64_t>(std::max(limit, 0)));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  PgResult r = connection_.exec("listing polls", sql, params);
  std::vector<PollRow> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back(read_poll(r, i));
  return rows;
}

std::vector<AttemptMinute> PostgresOperatorQueries::attempts_per_minute(int64_t since) {
  PgResult r = connection_.exec(
      "counting attempts per minute",
      "SELECT j.feed, a.started_at / 60000 * 60000 AS minute, "
      "count(*) FILTER (WHERE a.http_status BETWEEN 200 AND 299), "
      "count(*) FILTER (WHERE a.http_status IS NULL OR a.http_status NOT BETWEEN 200 AND 299) "
      "FROM attempts AS a JOIN jobs AS j ON j.seq = a.job_seq "
      "WHERE a.started_at >= $1::bigint GROUP BY j.feed, minute ORDER BY minute, j.feed",
      PgParams().add(since));
  std::vector<AttemptMinute> rows;
  for (int i = 0; i < r.rows(); ++i) {
    rows.push_back({r.text(i, 0), r.int64(i, 1), r.int64(i, 2), r.int64(i, 3)});
  }
  return rows;
}

std::vector<HeartbeatRow> PostgresOperatorQueries::heartbeats() {
  PgResult r = connection_.exec("reading heartbeats",
                                "SELECT process, worker, at, stopped_at FROM heartbeats "
                                "ORDER BY process, worker",
                                PgParams());
  std::vector<HeartbeatRow> rows;
  for (int i = 0; i < r.rows(); ++i) {
    rows.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2), r.optional_int64(i, 3)});
  }
  return rows;
}

int PostgresOperatorQueries::requeue(std::span<const std::string> job_ids, int64_t now) {
  return update_jobs("requeueing jobs",
                     "state = 'pending', attempts = 0, next_attempt_at = $1, finished_at = NULL, "
                     "updated_at = $1",
                     "state IN ('dead', 'cancelled')", job_ids, now);
}

int PostgresOperatorQueries::requeue_dead(std::optional<std::string> feed, int64_t now) {
  int changed = 0;
  connection_.write("requeueing dead jobs", [&] {
    lock_order_heads(connection_, true);  // see postgres_order_lock.h
    PgParams params;
    params.add(now);
    std::string where = " WHERE state = 'dead'";
    if (feed) {
      params.add(*feed);
      where += " AND feed = $2";
    }
    // Locked first, so the UPDATE below must change exactly these rows.
    PgResult locked =
        connection_.exec("counting dead jobs",
                         "SELECT seq FROM jobs" + where + " AND $1::bigint > 0 FOR UPDATE", params);
    changed = connection_
                  .exec("requeueing dead jobs",
                        "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = $1, "
                        "finished_at = NULL, updated_at = $1" +
                            where,
                        params)
                  .changed();
    expect_changes(changed, locked.rows(), "requeueing dead jobs");
    if (changed > 0) notify_new_jobs(connection_);
  });
  return changed;
}

int PostgresOperatorQueries::cancel(std::span<const std::string> job_ids, int64_t now) {
  // The next job of a cancelled one's order key may be due now: update_jobs notifies.
  return update_jobs("cancelling jobs", "state = 'cancelled', finished_at = $1, updated_at = $1",
                     "state IN ('pending', 'dead')", job_ids, now);
}

// One statement for every job named (each once, however often named), under the order lock
// (the triggers move the heads of their keys after it); $1 is `now`. Announces the jobs that
// may be due now.
int PostgresOperatorQueries::update_jobs(std::string_view what, const std::string& set,
                                         const std::string& from_states,
                                         std::span<const std::string> job_ids, int64_t now) {
  PgArray ids;
  for (const std::string& id : job_ids) ids.add(id);
  int changed = 0;
  connection_.write(what, [&] {
    lock_order_heads(connection_, true);  // see postgres_order_lock.h
    changed =
        connection_
            .exec(what, "UPDATE jobs SET " + set + " WHERE id = ANY($2::text[]) AND " + from_states,
                  PgParams().add(now).add(ids.text()))
            .changed();
    if (changed > 0) notify_new_jobs(connection_);
  });
  return changed;
}

std::vector<BlockedKey> PostgresOperatorQueries::blocked_keys(std::optional<std::string> feed,
                                                              int limit) {
  // The view of schema/postgres/003_ordered_delivery.sql, so that psql users see the same.
  PgParams params;
  std::string sql =
      "SELECT b.feed, b.order_key, b.blocking_seq, b.blocking_id, j.finished_at, b.last_error, "
      "b.waiting FROM blocked_keys AS b JOIN jobs AS j ON j.seq = b.blocking_seq";
  if (feed) {
    params.add(*feed);
    sql += " WHERE b.feed = $1";
  }
  params.add(static_cast<int64_t>(std::max(limit, 0)));
  sql += " ORDER BY j.finished_at, b.blocking_seq LIMIT $" + std::to_string(params.size());
  PgResult r = connection_.exec("listing blocked order keys", sql, params);
  std::vector<BlockedKey> rows;
  for (int i = 0; i < r.rows(); ++i) {
    BlockedKey& k = rows.emplace_back();
    k.feed = r.text(i, 0);
    k.order_key = r.text(i, 1);
    k.blocking_seq = r.int64(i, 2);
    k.blocking_id = r.text(i, 3);
    k.dead_since = r.optional_int64(i, 4).value_or(0);
    k.last_error = r.text(i, 5);
    k.waiting = r.int64(i, 6);
  }
  return rows;
}

PruneResult PostgresOperatorQueries::prune(int64_t before, int batch) {
  PruneResult total;
  batch = std::max(batch, 1);
  for (;;) {
    PruneResult step;
    int jobs_in_batch = 0;
    connection_.write("pruning finished jobs", [&] {
      step = {};
      PgResult victims = connection_.exec(
          "choosing finished jobs to prune",
          "SELECT seq FROM jobs WHERE finished_at IS NOT NULL AND finished_at < $1 "
          "ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED",
          PgParams().add(before).add(static_cast<int64_t>(batch)));
      for (int i = 0; i < victims.rows(); ++i) {
        const int64_t seq = victims.int64(i, 0);
        step.attempts += connection_
                             .exec("pruning attempts", "DELETE FROM attempts WHERE job_seq = $1",
                                   PgParams().add(seq))
                             .changed();
        expect_changes(connection_
                           .exec("pruning a job",
                                 "DELETE FROM jobs WHERE seq = $1 AND finished_at IS NOT NULL",
                                 PgParams().add(seq))
                           .changed(),
                       1, "pruning job " + std::to_string(seq));
        ++step.jobs;
      }
      jobs_in_batch = victims.rows();
    });
    total.jobs += step.jobs;
    total.attempts += step.attempts;
    if (jobs_in_batch < batch) break;
  }
  total.polls += delete_in_batches(connection_, "pruning old polls",
                                   "DELETE FROM polls WHERE id IN (SELECT id FROM polls WHERE "
                                   "finished_at < $1 ORDER BY finished_at LIMIT $2)",
                                   before, batch);
  // Stream connections are a stream feed's polls: pruned by the same age, open ones kept.
  total.polls += delete_in_batches(connection_, "pruning old stream connections",
                                   "DELETE FROM stream_connections WHERE id IN (SELECT id FROM "
                                   "stream_connections WHERE ended_at < $1 ORDER BY id LIMIT $2)",
                                   before, batch);
  return total;
}

std::vector<StreamConnectionRow> PostgresOperatorQueries::list_stream_connections(
    std::optional<std::string> feed, int limit) {
  PgParams params;
  std::string sql =
      "SELECT id, feed, started_at, ended_at, from_id, last_id, http_status, events, "
      "heartbeats, jobs_enqueued, filtered, render_errors, end_reason FROM stream_connections";
  if (feed) {
    params.add(*feed);
    sql += " WHERE feed = $1";
  }
  params.add(static_cast<int64_t>(std::max(limit, 0)));
  sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size());
  PgResult r = connection_.exec("listing stream connections", sql, params);
  std::vector<StreamConnectionRow> rows;
  for (int i = 0; i < r.rows(); ++i) {
    StreamConnectionRow c;
    c.id = r.int64(i, 0);
    c.feed = r.text(i, 1);
    c.started_at = r.int64(i, 2);
    c.ended_at = r.optional_int64(i, 3);
    c.from_id = r.text(i, 4);
    c.last_id = r.text(i, 5);
    if (auto status = r.optional_int64(i, 6)) c.http_status = static_cast<int>(*status);
    c.events = r.int64(i, 7);
    c.heartbeats = r.int64(i, 8);
    c.jobs_enqueued = r.int64(i, 9);
    c.filtered = r.int64(i, 10);
    c.render_errors = r.int64(i, 11);
    c.end_reason = r.text(i, 12);
    rows.push_back(std::move(c));
  }
  return rows;
}

std::map<std::string, std::string> PostgresOperatorQueries::stream_cursors() {
  PgResult r = connection_.exec("reading the stream cursors",
                                "SELECT feed, last_event_id FROM stream_cursors");
  std::map<std::string, std::string> out;
  for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)] = r.text(i, 1);
  return out;
}

}  // namespace webhook::store
