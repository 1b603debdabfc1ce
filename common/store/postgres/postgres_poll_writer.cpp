#include "common/store/postgres/postgres_poll_writer.h"

#include <algorithm>
#include <stdexcept>

#include "common/store/coalescing_plan.h"
#include "common/store/postgres/postgres_channel.h"
#include "common/store/postgres/postgres_order_lock.h"
#include "common/store/row_helpers.h"

namespace webhook::store {

std::optional<int64_t> PostgresPollWriter::cursor(std::string_view feed) {
  PgResult r =
      connection_.exec("reading the cursor", "SELECT last_poll_time FROM cursors WHERE feed = $1",
                       PgParams().add(feed));
  if (r.rows() == 0) return std::nullopt;
  return r.int64(0, 0);
}

std::unordered_set<std::string> PostgresPollWriter::seen_since(std::string_view feed,
                                                               int64_t since) {
  PgResult r = connection_.exec("reading seen items",
                                "SELECT hashes FROM seen_items WHERE feed = $1 AND seen_at >= $2",
                                PgParams().add(feed).add(since));
  std::unordered_set<std::string> hashes;
  for (int i = 0; i < r.rows(); ++i) {
    std::string text = r.text(i, 0);
    std::string_view rest(text);
    while (!rest.empty()) {
      std::size_t end = rest.find('\n');
      if (end == std::string_view::npos) end = rest.size();
      if (end > 0) hashes.emplace(rest.substr(0, end));
      rest.remove_prefix(std::min(end + 1, rest.size()));
    }
  }
  return hashes;
}

std::optional<int64_t> PostgresPollWriter::commit_poll(const PollCommit& commit) {
  const PollRecord& p = commit.poll;
  std::unordered_set<std::string_view> ids;
  for (const NewJob& job : commit.jobs) {
    if (!ids.insert(job.id).second) {
      throw std::runtime_error("poll of feed " + p.feed + " repeats job id " + job.id);
    }
  }
  std::string seen_lines;
  for (const std::string& hash : commit.seen_hashes) {
    if (hash.empty() || hash.find('\n') != std::string::npos) {
      throw std::invalid_argument("poll of feed " + p.feed + ": an item hash must be one line");
    }
    if (!seen_lines.empty()) seen_lines += '\n';
    seen_lines += hash;
  }
  const int64_t now = p.finished_at;
  std::optional<int64_t> poll_id;
  const std::string what = "committing a poll of feed " + p.feed;
  connection_.write(what, [&] {
    poll_id.reset();
    // Two pollers of one feed queue here: the second sees the first one's cursor.
    lock_feed(p.feed);
    // A poller that lost its feed's lease writes nothing: its successor polls the feed.
    if (commit.lease_epoch) leases_.check_held(p.feed, *commit.lease_epoch, false);
    if (read_cursor(p.feed) != commit.expected_cursor) return;
    PgResult inserted = connection_.exec(
        "inserting the poll row",
        "INSERT INTO polls (feed, started_at, finished_at, window_from, window_to, items_found, "
        "jobs_enqueued, duplicates_skipped, render_errors, status, error, filtered) VALUES ($1, "
        "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        PgParams()
            .add(p.feed)
            .add(p.started_at)
            .add(p.finished_at)
            .add(p.window_from)
            .add(p.window_to)
            .add(p.items_found)
            .add(p.jobs_enqueued)
            .add(p.duplicates_skipped)
            .add(p.render_errors)
            .add(p.ok ? "ok" : "failed")
            .add(p.error)
            .add(p.filtered));
    const int64_t id = inserted.int64(0, 0);
    insert_jobs(commit.jobs, p.feed, id, now, commit.ordering());
    fault("commit_poll:jobs_written");
    if (!seen_lines.empty()) {
      expect_changes(connection_
                         .exec("recording the poll's item hashes",
                               "INSERT INTO seen_items (feed, seen_at, hashes) VALUES ($1, $2, $3)",
                               PgParams().add(p.feed).add(now).add(seen_lines))
                         .changed(),
                     1, "recording the poll's item hashes");
    }
    if (commit.forget_seen_before > 0) {
      connection_.exec("forgetting old item hashes",
                       "DELETE FROM seen_items WHERE feed = $1 AND seen_at < $2",
                       PgParams().add(p.feed).add(commit.forget_seen_before));
    }
    if (commit.new_cursor) set_cursor(p.feed, *commit.new_cursor);
    if (!commit.jobs.empty()) notify_new_jobs(connection_);
    fault("commit_poll:before_commit");
    // Again, locked: a takeover that came meanwhile wins; one that comes now waits.
    if (commit.lease_epoch) leases_.check_held(p.feed, *commit.lease_epoch, true);
    poll_id = id;
  });
  return poll_id;
}

std::optional<std::string> PostgresPollWriter::stream_cursor(std::string_view feed) {
  PgResult r = connection_.exec("reading the stream cursor",
                                "SELECT last_event_id FROM stream_cursors WHERE feed = $1",
                                PgParams().add(feed));
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

bool PostgresPollWriter::commit_stream(const StreamCommit& c) {
  check_stream_id(c.new_cursor, "stream commit of feed " + c.feed, "cursor");
  std::unordered_set<std::string_view> ids;
  for (const NewJob& job : c.jobs) {
    if (!ids.insert(job.id).second) {
      throw std::runtime_error("stream batch of feed " + c.feed + " repeats job id " + job.id);
    }
  }
  bool written = false;
  connection_.write("committing stream events of feed " + c.feed, [&] {
    written = false;
    // Two pollers of one feed queue here: the second sees the first one's cursor.
    lock_feed(c.feed);
    if (c.lease_epoch) leases_.check_held(c.feed, *c.lease_epoch, false);
    if (stream_cursor(c.feed) != c.expected_cursor) return;
    insert_jobs(c.jobs, c.feed, std::nullopt, c.now, c.ordering);
    fault("commit_stream:jobs_written");
    expect_changes(
        connection_
            .exec("setting the stream cursor",
                  "INSERT INTO stream_cursors (feed, last_event_id, updated_at) VALUES ($1, $2, "
                  "$3) ON CONFLICT (feed) DO UPDATE SET last_event_id = excluded.last_event_id, "
                  "updated_at = excluded.updated_at",
                  PgParams().add(c.feed).add(c.new_cursor).add(c.now))
            .changed(),
        1, "setting the stream cursor of feed " + c.feed);
    if (c.connection_id != 0) {
      connection_.exec(
          "counting a stream connection's events",
          "UPDATE stream_connections SET last_id = $1, events = events + $2, heartbeats = "
          "heartbeats + $3, jobs_enqueued = jobs_enqueued + $4, filtered = filtered + $5, "
          "render_errors = render_errors + $6 WHERE id = $7",
          PgParams()
              .add(c.new_cursor)
              .add(c.events)
              .add(c.heartbeats)
              .add(static_cast<int64_t>(c.jobs.size()) - c.render_errors)
              .add(c.filtered)
              .add(c.render_errors)
              .add(c.connection_id));
    }
    if (!c.jobs.empty()) notify_new_jobs(connection_);
    fault("commit_stream:before_commit");
    if (c.lease_epoch) leases_.check_held(c.feed, *c.lease_epoch, true);
    written = true;
  });
  return written;
}

int64_t PostgresPollWriter::open_stream_connection(std::string_view feed, int64_t started_at,
                                                   std::string_view from_id) {
  int64_t id = 0;
  connection_.write("recording a stream connection", [&] {
    id = connection_
             .exec("recording a stream connection",
                   "INSERT INTO stream_connections (feed, started_at, from_id) VALUES ($1, $2, "
                   "$3) RETURNING id",
                   PgParams().add(feed).add(started_at).add(from_id))
             .int64(0, 0);
  });
  return id;
}

void PostgresPollWriter::close_stream_connection(int64_t id, int64_t ended_at,
                                                 std::optional<int> http_status,
                                                 std::string_view reason) {
  std::optional<int64_t> status;
  if (http_status) status = *http_status;
  connection_.write("recording the end of a stream connection", [&] {
    connection_.exec("recording the end of a stream connection",
                     "UPDATE stream_connections SET ended_at = greatest($1, started_at), "
                     "http_status = $2, end_reason = $3 WHERE id = $4",
                     PgParams().add(ended_at).add(status).add(reason).add(id));
  });
}

void PostgresPollWriter::rewind(std::string_view feed, int64_t to) {
  connection_.write("rewinding feed " + std::string(feed), [&] {
    lock_feed(feed);
    set_cursor(feed, to);
    connection_.exec("forgetting item hashes",
                     "DELETE FROM seen_items WHERE feed = $1 AND seen_at >= $2",
                     PgParams().add(feed).add(to));
  });
}

bool PostgresPollWriter::rewind_stream(std::string_view feed, std::string_view to, int64_t now) {
  check_stream_id(to, "rewinding stream feed " + std::string(feed), "stream id");
  bool moved = false;
  connection_.write("rewinding stream feed " + std::string(feed), [&] {
    // Under the feed's lock, as commit_stream: a batch being committed is either before the
    // rewind (and rewound) or after it (and refused by its expected cursor).
    lock_feed(feed);
    // An UPDATE, not the upsert: a feed that never streamed is not made up here.
    moved =
        connection_
            .exec("rewinding the stream cursor",
                  "UPDATE stream_cursors SET last_event_id = $1, updated_at = $2 WHERE feed = $3",
                  PgParams().add(to).add(now).add(feed))
            .changed() == 1;
  });
  return moved;
}

std::optional<int64_t> PostgresPollWriter::read_cursor(std::string_view feed) {
  PgResult r =
      connection_.exec("reading the cursor", "SELECT last_poll_time FROM cursors WHERE feed = $1",
                       PgParams().add(feed));
  if (r.rows() == 0) return std::nullopt;
  return r.int64(0, 0);
}

void PostgresPollWriter::lock_feed(std::string_view feed) {
  connection_.exec("locking the feed's cursor",
                   "SELECT pg_advisory_xact_lock(hashtextextended('webhook cursor ' || $1, 0))",
                   PgParams().add(feed));
}

void PostgresPollWriter::set_cursor(std::string_view feed, int64_t value) {
  expect_changes(connection_
                     .exec("setting the cursor",
                           "INSERT INTO cursors (feed, last_poll_time) VALUES ($1, $2) ON "
                           "CONFLICT (feed) DO UPDATE SET last_poll_time = excluded.last_poll_time",
                           PgParams().add(feed).add(value))
                     .changed(),
                 1, "setting the cursor of feed " + std::string(feed));
}

void PostgresPollWriter::insert_jobs(std::span<const NewJob> jobs, const std::string& feed,
                                     std::optional<int64_t> poll_id, int64_t now,
                                     const JobOrdering& ordering) {
  const CoalescingPlan plan = plan_coalescing(jobs, ordering.coalesce);
  // Before the supersede below row-locks jobs (see postgres_order_lock.h); unordered
  // commits never take it.
  if (std::any_of(jobs.begin(), jobs.end(), [](const NewJob& j) { return j.order_key; })) {
    lock_order_heads(connection_, true);
  }
  // Untried pending jobs only: a claim in flight holds its row lock, and this waits for it,
  // then sees the job running and leaves it.
  for (const std::string& key : plan.keys) {
    connection_.exec("superseding the earlier jobs of an order key",
                     "UPDATE jobs SET state = 'superseded', finished_at = $3, updated_at = $3 "
                     "WHERE feed = $1 AND order_key = $2 AND order_key IS NOT NULL AND "
                     "finished_at IS NULL AND state = 'pending' AND attempt_seq = 0",
                     PgParams().add(feed).add(key).add(now));
  }
  constexpr std::size_t kRowsPerInsert = 500;  // 16 parameters each, well under 65535
  for (std::size_t first = 0; first < jobs.size(); first += kRowsPerInsert) {
    const std::size_t rows = std::min(jobs.size() - first, kRowsPerInsert);
    std::string sql =
        "INSERT INTO jobs (id, feed, poll_id, method, url, headers, body, state, max_attempts, "
        "next_attempt_at, created_at, updated_at, finished_at, last_error, order_key, "
        "dead_blocks_key) VALUES ";
    PgParams params;
    for (std::size_t r = 0; r < rows; ++r) {
      const NewJob& job = jobs[first + r];
      const bool replaced = !plan.superseded.empty() && plan.superseded[first + r];
      const bool finished = job.dead || replaced;
      sql += r == 0 ? "(" : ", (";
      for (int c = 0; c < 16; ++c) {
        sql += (c == 0 ? "$" : ", $") + std::to_string(r * 16 + static_cast<std::size_t>(c) + 1);
      }
      sql += ")";
      params.add(job.id)
          .add(feed)
          .add(poll_id)
          .add(job.method)
          .add(job.url)
          .add(job.headers.empty() ? std::string("{}") : job.headers.dump())
          .add(job.body)
          .add(job.dead   ? "dead"
               : replaced ? "superseded"
                          : "pending")
          .add(job.max_attempts)
          .add(now)
          .add(now)
          .add(now)
          .add(finished ? std::optional<int64_t>(now) : std::nullopt)
          .add(job.last_error);
      if (job.order_key) {
        params.add(*job.order_key);
      } else {
        params.add_null();
      }
      params.add(static_cast<int64_t>(job.order_key && ordering.dead_blocks_key ? 1 : 0));
    }
    const std::string what = "inserting job " + jobs[first].id;
    expect_changes(connection_.exec(what, sql, params).changed(), static_cast<int>(rows), what);
  }
}

}  // namespace webhook::store
