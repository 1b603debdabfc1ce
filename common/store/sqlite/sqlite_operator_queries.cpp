#include "common/store/sqlite/sqlite_operator_queries.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <nlohmann/json.hpp>

#include "common/store/sqlite/sqlite_order_heads.h"
#include "common/store/sqlite/sqlite_rows.h"

namespace webhook::store {
namespace {

constexpr const char* kPollColumns =
    "id, feed, started_at, finished_at, window_from, window_to, items_found, jobs_enqueued, "
    "duplicates_skipped, render_errors, status, error, filtered";

PollRow read_poll_row(SQLite::Statement& s) {
  PollRow row;
  row.id = s.getColumn(0).getInt64();
  PollRecord& p = row.record;
  p.feed = s.getColumn(1).getString();
  p.started_at = s.getColumn(2).getInt64();
  p.finished_at = s.getColumn(3).getInt64();
  p.window_from = s.getColumn(4).getInt64();
  p.window_to = s.getColumn(5).getInt64();
  p.items_found = s.getColumn(6).getInt64();
  p.jobs_enqueued = s.getColumn(7).getInt64();
  p.duplicates_skipped = s.getColumn(8).getInt64();
  p.render_errors = s.getColumn(9).getInt64();
  p.ok = s.getColumn(10).getString() == "ok";
  p.error = s.getColumn(11).getString();
  p.filtered = s.getColumn(12).getInt64();
  return row;
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() < 19 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Runs `sql` (a DELETE of at most ?2 rows older than ?1), one transaction per batch, until
// a batch deletes fewer rows than it may; returns the rows deleted.
int delete_in_batches(SqliteConnection& connection, const std::string& what, const char* sql,
                      int64_t before, int batch) {
  int total = 0;
  for (;;) {
    int deleted = 0;
    connection.write(what, [&] {
      SQLite::Statement s(connection.db(), sql);
      s.bind(1, before);
      s.bind(2, batch);
      deleted = s.exec();
    });
    total += deleted;
    if (deleted < batch) return total;
  }
}

}  // namespace

std::vector<FeedStatus> SqliteOperatorQueries::status() {
  SQLite::Database& db = connection_.db();
  // Everything in one read transaction, so the figures agree with each other.
  SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
  std::map<std::string, FeedStatus> feeds;
  auto feed = [&](const std::string& name) -> FeedStatus& {
    FeedStatus& f = feeds[name];
    if (f.feed.empty()) {
      f.feed = name;
      for (JobState s : kAllJobStates) f.counts[s] = 0;
    }
    return f;
  };
  SQLite::Statement cursors(db, "SELECT feed, last_poll_time FROM cursors");
  while (cursors.executeStep())
    feed(cursors.getColumn(0).getString()).cursor = cursors.getColumn(1).getInt64();
  SQLite::Statement counts(db, "SELECT feed, state, count(*) FROM jobs GROUP BY feed, state");
  while (counts.executeStep()) {
    if (auto state = parse_job_state(counts.getColumn(1).getString())) {
      feed(counts.getColumn(0).getString()).counts[*state] = counts.getColumn(2).getInt64();
    }
  }
  SQLite::Statement polls(db,
                          std::string("SELECT ") + kPollColumns +
                              " FROM polls WHERE id IN (SELECT max(id) FROM polls GROUP BY feed)");
  while (polls.executeStep()) {
    PollRow row = read_poll_row(polls);
    feed(row.record.feed).last_poll = row;
  }
  SQLite::Statement oldest(
      db, "SELECT feed, min(created_at) FROM jobs WHERE state = 'pending' GROUP BY feed");
  while (oldest.executeStep()) {
    feed(oldest.getColumn(0).getString()).oldest_pending_created_at =
        oldest.getColumn(1).getInt64();
  }
  snapshot.commit();
  std::vector<FeedStatus> result;
  for (auto& [name, f] : feeds) result.push_back(std::move(f));
  return result;
}

std::vector<JobRow> SqliteOperatorQueries::list_jobs(const JobFilter& filter) {
  std::string sql = "SELECT " + std::string(kJobColumns) + " FROM jobs";
  std::vector<std::string> where;
  if (filter.state) where.push_back("state = :state");
  if (filter.feed) where.push_back("feed = :feed");
  if (filter.text) {
    where.push_back(
        "(id = :text OR instr(lower(url), lower(:text)) > 0 OR instr(lower(body), lower(:text)) "
        "> 0 OR instr(lower(last_error), lower(:text)) > 0)");
  }
  if (filter.before_seq) where.push_back("seq < :before");
  for (std::size_t i = 0; i < where.size(); ++i) sql += (i == 0 ? " WHERE " : " AND ") + where[i];
  sql += " ORDER BY seq DESC LIMIT :limit";
  SQLite::Statement s(connection_.db(), sql);
  if (filter.state) s.bind(":state", std::string(to_string(*filter.state)));
  if (filter.feed) s.bind(":feed", *filter.feed);
  if (filter.text) s.bind(":text", *filter.text);
  if (filter.before_seq) s.bind(":before", *filter.before_seq);
  s.bind(":limit", std::max(filter.limit, 0));
  std::vector<JobRow> rows;
  while (s.executeStep()) rows.push_back(read_job_row(s));
  return rows;
}

std::optional<JobDetail> SqliteOperatorQueries::job(std::string_view id) {
  SQLite::Database& db = connection_.db();
  SQLite::Transaction snapshot(db, SQLite::TransactionBehavior::DEFERRED);
  bool by_seq = all_digits(id);
  SQLite::Statement s(db, "SELECT " + std::string(kJobColumns) + " FROM jobs WHERE " +
                              (by_seq ? "seq = ?" : "id = ?"));
  if (by_seq) {
    s.bind(1, static_cast<int64_t>(std::stoll(std::string(id))));
  } else {
    s.bind(1, std::string(id));
  }
  if (!s.executeStep()) return std::nullopt;
  JobDetail detail;
  detail.job = read_job_row(s);
  SQLite::Statement a(db, "SELECT " + std::string(kAttemptColumns) +
                              " FROM attempts WHERE job_seq = ? ORDER BY number");
  a.bind(1, detail.job.seq);
  while (a.executeStep()) detail.attempts.push_back(read_attempt_row(a));
  snapshot.commit();
  return detail;
}

std::vector<PollRow> SqliteOperatorQueries::list_polls(std::optional<std::string> feed, int limit) {
  SQLite::Statement s(connection_.db(), std::string("SELECT ") + kPollColumns + " FROM polls" +
                                            (feed ? " WHERE feed = :feed" : "") +
                                            " ORDER BY id DESC LIMIT :limit");
  if (feed) s.bind(":feed", *feed);
  s.bind(":limit", std::max(limit, 0));
  std::vector<PollRow> rows;
  while (s.executeStep()) rows.push_back(read_poll_row(s));
  return rows;
}

std::vector<StreamConnectionRow> SqliteOperatorQueries::list_stream_connections(
    std::optional<std::string> feed, int limit) {
  SQLite::Statement s(connection_.db(),
                      std::string("SELECT id, feed, started_at, ended_at, from_id, last_id, "
                                  "http_status, events, heartbeats, jobs_enqueued, filtered, "
                                  "render_errors, end_reason FROM stream_connections") +
                          (feed ? " WHERE feed = :feed" : "") + " ORDER BY id DESC LIMIT :limit");
  if (feed) s.bind(":feed", *feed);
  s.bind(":limit", std::max(limit, 0));
  std::vector<StreamConnectionRow> rows;
  while (s.executeStep()) {
    StreamConnectionRow r;
    r.id = s.getColumn(0).getInt64();
    r.feed = s.getColumn(1).getString();
    r.started_at = s.getColumn(2).getInt64();
    r.ended_at = optional_int64(s.getColumn(3));
    r.from_id = s.getColumn(4).getString();
    r.last_id = s.getColumn(5).getString();
    if (auto status = optional_int64(s.getColumn(6))) r.http_status = static_cast<int>(*status);
    r.events = s.getColumn(7).getInt64();
    r.heartbeats = s.getColumn(8).getInt64();
    r.jobs_enqueued = s.getColumn(9).getInt64();
    r.filtered = s.getColumn(10).getInt64();
    r.render_errors = s.getColumn(11).getInt64();
    r.end_reason = s.getColumn(12).getString();
    rows.push_back(std::move(r));
  }
  return rows;
}

std::map<std::string, std::string> SqliteOperatorQueries::stream_cursors() {
  SQLite::Statement s(connection_.db(), "SELECT feed, last_event_id FROM stream_cursors");
  std::map<std::string, std::string> out;
  while (s.executeStep()) out[s.getColumn(0).getString()] = s.getColumn(1).getString();
  return out;
}

std::vector<AttemptMinute> SqliteOperatorQueries::attempts_per_minute(int64_t since) {
  SQLite::Statement s(connection_.db(),
                      "SELECT j.feed, a.started_at / 60000 * 60000 AS minute, "
                      "sum(a.http_status BETWEEN 200 AND 299), "
                      "sum(a.http_status IS NULL OR a.http_status NOT BETWEEN 200 AND 299) "
                      "FROM attempts AS a JOIN jobs AS j ON j.seq = a.job_seq "
                      "WHERE a.started_at >= ? GROUP BY j.feed, minute ORDER BY minute, j.feed");
  s.bind(1, since);
  std::vector<AttemptMinute> rows;
  while (s.executeStep()) {
    rows.push_back({s.getColumn(0).getString(), s.getColumn(1).getInt64(),
                    s.getColumn(2).getInt64(), s.getColumn(3).getInt64()});
  }
  return rows;
}

std::vector<HeartbeatRow> SqliteOperatorQueries::heartbeats() {
  SQLite::Statement s(connection_.db(),
                      "SELECT process, worker, at, stopped_at FROM heartbeats ORDER BY process, "
                      "worker");
  std::vector<HeartbeatRow> rows;
  while (s.executeStep()) {
    HeartbeatRow row{s.getColumn(0).getString(), s.getColumn(1).getString(),
                     s.getColumn(2).getInt64(), std::nullopt};
    if (!s.getColumn(3).isNull()) row.stopped_at = s.getColumn(3).getInt64();
    rows.push_back(std::move(row));
  }
  return rows;
}

int SqliteOperatorQueries::requeue(std::span<const std::string> job_ids, int64_t now) {
  int changed = 0;
  connection_.write("requeueing jobs", [&] {
    const std::vector<int64_t> seqs = update_jobs(
        "state = 'pending', attempts = 0, next_attempt_at = ?1, finished_at = NULL, "
        "updated_at = ?1",
        "state IN ('dead', 'cancelled')", job_ids, now);
    // After all of them: a key's head is chosen among its jobs as they now are.
    SqliteOrderHeads(connection_.db()).jobs_reopened(seqs);
    changed = static_cast<int>(seqs.size());
  });
  return changed;
}

int SqliteOperatorQueries::requeue_dead(std::optional<std::string> feed, int64_t now) {
  int changed = 0;
  connection_.write("requeueing dead jobs", [&] {
    std::string where = " WHERE state = 'dead'" + std::string(feed ? " AND feed = :feed" : "");
    SQLite::Statement count(connection_.db(), "SELECT count(*) FROM jobs" + where);
    if (feed) count.bind(":feed", *feed);
    count.executeStep();
    int expected = count.getColumn(0).getInt();
    count.reset();
    SQLite::Statement s(connection_.db(),
                        "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = :now, "
                        "finished_at = NULL, updated_at = :now" +
                            where + " RETURNING seq");
    s.bind(":now", now);
    if (feed) s.bind(":feed", *feed);
    std::vector<int64_t> seqs;
    while (s.executeStep()) seqs.push_back(s.getColumn(0).getInt64());
    s.reset();
    changed = static_cast<int>(seqs.size());
    expect_changes(changed, expected, "requeueing dead jobs");
    // After all of them: a key's head is chosen among its jobs as they now are.
    SqliteOrderHeads(connection_.db()).jobs_reopened(seqs);
  });
  return changed;
}

int SqliteOperatorQueries::cancel(std::span<const std::string> job_ids, int64_t now) {
  int changed = 0;
  connection_.write("cancelling jobs", [&] {
    const std::vector<int64_t> seqs =
        update_jobs("state = 'cancelled', finished_at = ?1, updated_at = ?1",
                    "(state = 'pending' OR state = 'dead')", job_ids, now);
    SqliteOrderHeads heads(connection_.db());
    for (int64_t seq : seqs) heads.job_changed(seq);  // its key may go on
    changed = static_cast<int>(seqs.size());
  });
  return changed;
}

// One statement for every job named (each once, however often named), in the caller's
// write transaction; ?1 is `now`.
std::vector<int64_t> SqliteOperatorQueries::update_jobs(const std::string& set,
                                                        const std::string& from_states,
                                                        std::span<const std::string> job_ids,
                                                        int64_t now) {
  SQLite::Statement s(connection_.db(), "UPDATE jobs SET " + set +
                                            " WHERE id IN (SELECT value FROM json_each(?2)) "
                                            "AND " +
                                            from_states + " RETURNING seq");
  s.bind(1, now);
  s.bind(2, nlohmann::json(std::vector<std::string>(job_ids.begin(), job_ids.end())).dump());
  std::vector<int64_t> seqs;
  while (s.executeStep()) seqs.push_back(s.getColumn(0).getInt64());
  return seqs;
}

std::vector<BlockedKey> SqliteOperatorQueries::blocked_keys(std::optional<std::string> feed,
                                                            int limit) {
  // The view of schema/sqlite/003_ordered_delivery.sql, so that sqlite3 users see the same.
  SQLite::Statement s(connection_.db(),
                      std::string("SELECT b.feed, b.order_key, b.blocking_seq, b.blocking_id, "
                                  "j.finished_at, b.last_error, b.waiting FROM blocked_keys AS b "
                                  "JOIN jobs AS j ON j.seq = b.blocking_seq") +
                          (feed ? " WHERE b.feed = :feed" : "") +
                          " ORDER BY j.finished_at, b.blocking_seq LIMIT :limit");
  if (feed) s.bind(":feed", *feed);
  s.bind(":limit", std::max(limit, 0));
  std::vector<BlockedKey> rows;
  while (s.executeStep()) {
    BlockedKey& k = rows.emplace_back();
    k.feed = s.getColumn(0).getString();
    k.order_key = s.getColumn(1).getString();
    k.blocking_seq = s.getColumn(2).getInt64();
    k.blocking_id = s.getColumn(3).getString();
    k.dead_since = s.getColumn(4).getInt64();
    k.last_error = s.getColumn(5).getString();
    k.waiting = s.getColumn(6).getInt64();
  }
  return rows;
}

PruneResult SqliteOperatorQueries::prune(int64_t before, int batch) {
  PruneResult total;
  batch = std::max(batch, 1);
  // Small transactions, each releasing the write lock, so the poller and the dispatcher
  // wait at most one batch.
  for (;;) {
    PruneResult step;
    int jobs_in_batch = 0;
    connection_.write("pruning finished jobs", [&] {
      step = {};
      std::vector<std::pair<int64_t, std::string>> victims;
      SQLite::Statement pick(connection_.db(),
                             "SELECT seq, id FROM jobs WHERE finished_at IS NOT NULL AND "
                             "finished_at < ? ORDER BY seq LIMIT ?");
      pick.bind(1, before);
      pick.bind(2, batch);
      while (pick.executeStep()) {
        victims.emplace_back(pick.getColumn(0).getInt64(), pick.getColumn(1).getString());
      }
      pick.reset();
      SQLite::Statement attempts(connection_.db(), "DELETE FROM attempts WHERE job_seq = ?");
      SQLite::Statement job(connection_.db(),
                            "DELETE FROM jobs WHERE seq = ? AND finished_at IS NOT NULL");
      for (const auto& [seq, id] : victims) {
        attempts.reset();
        attempts.bind(1, seq);
        step.attempts += attempts.exec();
        job.reset();
        job.bind(1, seq);
        expect_changes(job.exec(), 1, "pruning job " + id);
        ++step.jobs;
      }
      jobs_in_batch = static_cast<int>(victims.size());
    });
    total.jobs += step.jobs;
    total.attempts += step.attempts;
    if (jobs_in_batch < batch) break;
  }
  total.polls += delete_in_batches(connection_, "pruning old polls",
                                   "DELETE FROM polls WHERE id IN (SELECT id FROM polls WHERE "
                                   "finished_at < ? ORDER BY finished_at LIMIT ?)",
                                   before, batch);
  // Stream connections are a stream feed's polls: pruned by the same age, open ones kept.
  total.polls += delete_in_batches(connection_, "pruning old stream connections",
                                   "DELETE FROM stream_connections WHERE id IN (SELECT id FROM "
                                   "stream_connections WHERE ended_at < ? ORDER BY id LIMIT ?)",
                                   before, batch);
  return total;
}

}  // namespace webhook::store
