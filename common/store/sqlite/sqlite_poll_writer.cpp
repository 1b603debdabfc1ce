#include "common/store/sqlite/sqlite_poll_writer.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_set>
#include <vector>

#include "common/store/coalescing_plan.h"
#include "common/store/sqlite/sqlite_rows.h"

namespace webhook::store {
namespace {

// An INSERT of `rows` jobs, kJobColumnCount parameters each.
std::string insert_jobs_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO jobs (id, feed, poll_id, method, url, headers, body, state, max_attempts, "
      "next_attempt_at, created_at, updated_at, finished_at, last_error, order_key, "
      "dead_blocks_key) VALUES ";
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r == 0 ? "(" : ", (";
    for (int c = 0; c < SqlitePollWriter::kJobColumnCount; ++c) sql += c == 0 ? "?" : ", ?";
    sql += ")";
  }
  return sql;
}

}  // namespace

SqlitePollWriter::SqlitePollWriter(SqliteConnection& connection, SqliteFeedLeases& leases)
    : connection_(connection),
      leases_(leases),
      select_cursor_(connection.db(), "SELECT last_poll_time FROM cursors WHERE feed = ?"),
      upsert_cursor_(connection.db(),
                     "INSERT INTO cursors (feed, last_poll_time) VALUES (?, ?) "
                     "ON CONFLICT (feed) DO UPDATE SET last_poll_time = excluded.last_poll_time"),
      select_seen_(connection.db(),
                   "SELECT hashes FROM seen_items WHERE feed = ? AND seen_at >= ?"),
      insert_seen_(connection.db(),
                   "INSERT INTO seen_items (feed, seen_at, hashes) VALUES (?, ?, ?)"),
      forget_seen_(connection.db(), "DELETE FROM seen_items WHERE feed = ? AND seen_at < ?"),
      insert_poll_(connection.db(),
                   "INSERT INTO polls (feed, started_at, finished_at, window_from, window_to, "
                   "items_found, jobs_enqueued, duplicates_skipped, render_errors, status, error, "
                   "filtered) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      insert_job_(connection.db(), insert_jobs_sql(1)),
      insert_jobs_(connection.db(), insert_jobs_sql(kJobsPerInsert)),
      order_heads_(connection.db()) {}

std::optional<int64_t> SqlitePollWriter::read_cursor(std::string_view feed) {
  StatementScope s(select_cursor_);
  s->bind(1, std::string(feed));
  if (!s->executeStep()) return std::nullopt;
  return s->getColumn(0).getInt64();
}

std::optional<int64_t> SqlitePollWriter::cursor(std::string_view feed) { return read_cursor(feed); }

std::unordered_set<std::string> SqlitePollWriter::seen_since(std::string_view feed, int64_t since) {
  std::unordered_set<std::string> hashes;
  StatementScope s(select_seen_);
  s->bind(1, std::string(feed));
  s->bind(2, since);
  while (s->executeStep()) {
    SQLite::Column column = s->getColumn(0);
    std::string_view text(column.getText(), static_cast<std::size_t>(column.getBytes()));
    while (!text.empty()) {
      std::size_t end = text.find('\n');
      if (end == std::string_view::npos) end = text.size();
      if (end > 0) hashes.emplace(text.substr(0, end));
      text.remove_prefix(std::min(end + 1, text.size()));
    }
  }
  return hashes;
}

void SqlitePollWriter::bind_job(SQLite::Statement& s, int first, const NewJob& job,
                                const std::string& feed, std::optional<int64_t> poll_id,
                                int64_t now, bool dead_blocks_key, bool superseded,
                                std::string& headers_text) {
  // The strings outlive the statement's step: bind them without copies.
  s.bindNoCopy(first + 0, job.id);
  s.bindNoCopy(first + 1, feed);
  bind_optional(s, first + 2, poll_id);
  s.bindNoCopy(first + 3, job.method);
  s.bindNoCopy(first + 4, job.url);
  if (job.headers.empty()) {
    s.bindNoCopy(first + 5, "{}");
  } else {
    headers_text = job.headers.dump();
    s.bindNoCopy(first + 5, headers_text);
  }
  s.bindNoCopy(first + 6, job.body);
  const bool finished = job.dead || superseded;
  s.bindNoCopy(first + 7, job.dead ? "dead" : superseded ? "superseded" : "pending");
  s.bind(first + 8, job.max_attempts);
  s.bind(first + 9, now);
  s.bind(first + 10, now);
  s.bind(first + 11, now);
  bind_optional(s, first + 12, finished ? std::optional<int64_t>(now) : std::nullopt);
  s.bindNoCopy(first + 13, job.last_error);
  if (job.order_key) {
    s.bindNoCopy(first + 14, *job.order_key);
  } else {
    s.bind(first + 14);  // NULL: unordered
  }
  s.bind(first + 15, job.order_key && dead_blocks_key ? 1 : 0);
}

void SqlitePollWriter::insert_jobs(std::span<const NewJob> all, const std::string& feed,
                                   std::optional<int64_t> poll_id, int64_t now,
                                   const JobOrdering& ordering) {
  const CoalescingPlan plan = plan_coalescing(all, ordering.coalesce);
  supersede(feed, plan.keys, now);
  // kJobsPerInsert rows per statement while that many are left, then one at a time: a
  // statement's fixed cost (reset, bindings, program start and end) was a fifth of an
  // enqueue.
  std::span<const NewJob> jobs = all;
  std::size_t index = 0;  // of jobs.front() in all
  std::vector<std::string> headers_text(kJobsPerInsert);
  while (!jobs.empty()) {
    const bool many = jobs.size() >= kJobsPerInsert;
    const std::size_t rows = many ? kJobsPerInsert : 1;
    StatementScope s(many ? insert_jobs_ : insert_job_);
    for (std::size_t i = 0; i < rows; ++i) {
      const bool superseded = !plan.superseded.empty() && plan.superseded[index + i];
      bind_job(*s, static_cast<int>(i * kJobColumnCount) + 1, jobs[i], feed, poll_id, now,
               ordering.dead_blocks_key, superseded, headers_text[i]);
    }
    int changed = s->exec();
    if (changed != static_cast<int>(rows)) {
      expect_changes(changed, static_cast<int>(rows), "inserting job " + jobs.front().id);
    }
    jobs = jobs.subspan(rows);
    index += rows;
  }
}

void SqlitePollWriter::supersede(const std::string& feed, const std::vector<std::string>& keys,
                                 int64_t now) {
  for (const std::string& key : keys) order_heads_.supersede_untried(feed, key, now);
}

void SqlitePollWriter::check_unique_ids(std::span<const NewJob> jobs, const std::string& what) {
  std::unordered_set<std::string_view> ids;
  ids.reserve(jobs.size());
  for (const NewJob& job : jobs) {
    if (!ids.insert(job.id).second) throw std::runtime_error(what + " repeats job id " + job.id);
  }
}

void SqlitePollWriter::set_cursor(std::string_view feed, int64_t value) {
  StatementScope s(upsert_cursor_);
  s->bind(1, std::string(feed));
  s->bind(2, value);
  expect_changes(s->exec(), 1, "setting the cursor of feed " + std::string(feed));
}

std::optional<int64_t> SqlitePollWriter::commit_poll(const PollCommit& commit) {
  const PollRecord& p = commit.poll;
  // The id is the receivers' idempotency key; the schema does not index it (see
  // schema/sqlite/001_init.sql), so a poll that repeats one is refused here, before anything is
  // written.
  check_unique_ids(commit.jobs, "poll of feed " + p.feed);
  // The hashes go in as one row, one per line.
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
  connection_.write("committing a poll of feed " + p.feed, [&] {
    poll_id.reset();
    // A poller that lost its feed's lease writes nothing: its successor polls the feed.
    if (commit.lease_epoch) leases_.check_held(p.feed, *commit.lease_epoch, now);
    // An operator may have rewound the cursor while the poll ran: its result is moot.
    if (read_cursor(p.feed) != commit.expected_cursor) return;
    {
      StatementScope s(insert_poll_);
      s->bind(1, p.feed);
      s->bind(2, p.started_at);
      s->bind(3, p.finished_at);
      s->bind(4, p.window_from);
      s->bind(5, p.window_to);
      s->bind(6, p.items_found);
      s->bind(7, p.jobs_enqueued);
      s->bind(8, p.duplicates_skipped);
      s->bind(9, p.render_errors);
      s->bind(10, p.ok ? "ok" : "failed");
      s->bind(11, p.error);
      s->bind(12, p.filtered);
      expect_changes(s->exec(), 1, "inserting the poll row");
    }
    int64_t id = connection_.db().getLastInsertRowid();
    insert_jobs(commit.jobs, p.feed, id, now, commit.ordering());
    connection_.fault_point("commit_poll:jobs_written");
    if (!seen_lines.empty()) {
      StatementScope s(insert_seen_);
      s->bindNoCopy(1, p.feed);
      s->bind(2, now);
      s->bindNoCopy(3, seen_lines);
      expect_changes(s->exec(), 1, "recording the poll's item hashes");
    }
    if (commit.forget_seen_before > 0) {
      StatementScope s(forget_seen_);
      s->bind(1, p.feed);
      s->bind(2, commit.forget_seen_before);
      s->exec();
    }
    if (commit.new_cursor) set_cursor(p.feed, *commit.new_cursor);
    connection_.fault_point("commit_poll:before_commit");
    poll_id = id;
  });
  return poll_id;
}

void SqlitePollWriter::rewind(std::string_view feed, int64_t to) {
  connection_.write("rewinding feed " + std::string(feed), [&] {
    set_cursor(feed, to);
    SQLite::Statement forget(connection_.db(),
                             "DELETE FROM seen_items WHERE feed = ? AND seen_at >= ?");
    forget.bind(1, std::string(feed));
    forget.bind(2, to);
    forget.exec();
  });
}

}  // namespace webhook::store
