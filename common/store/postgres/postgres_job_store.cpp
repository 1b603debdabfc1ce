// The PostgreSQL JobStore: the same queue, states and guarantees as the SQLite one
// (common/store/sqlite/), on one libpq connection. Claims lease due jobs with FOR UPDATE
// SKIP LOCKED in one statement, so any number of dispatchers on any number of hosts share
// the work; every state change checks the rows it changed; commits that make jobs due send
// NOTIFY webhook_jobs, which wait_for_work listens for (with a slow poll behind it).
// Reached only through open_store(). One thread at a time.
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_set>

#include "common/store/postgres/pg_connection.h"
#include "common/store/postgres/postgres_store.h"
#include "common/store/row_helpers.h"
#include "schema/migrations.h"

namespace webhook::store {
namespace {

using std::chrono::milliseconds;

constexpr const char* kChannel = "webhook_jobs";
// pg_advisory_xact_lock keys: the schema migration, and one per feed's cursor.
constexpr int64_t kMigrationLock = 0x77656268'6f6f6b31;  // "webhook1"

constexpr const char* kJobColumnsSql =
    "seq, id, feed, poll_id, method, url, headers, body, state, attempts, max_attempts, "
    "next_attempt_at, lease_owner, lease_expires_at, created_at, updated_at, finished_at, "
    "last_status, last_error";
constexpr const char* kAttemptColumnsSql =
    "number, started_at, duration_ms, http_status, error, response_head, worker";
constexpr const char* kPollColumnsSql =
    "id, feed, started_at, finished_at, window_from, window_to, items_found, jobs_enqueued, "
    "duplicates_skipped, render_errors, status, error";

// One statement: lease up to $4 due jobs, oldest first, skipping rows another claimer holds.
constexpr const char* kClaimSql =
    "WITH due AS (SELECT seq FROM jobs WHERE state = 'pending' AND next_attempt_at <= $3 "
    "ORDER BY next_attempt_at, seq LIMIT $4 FOR UPDATE SKIP LOCKED) "
    "UPDATE jobs AS j SET state = 'running', lease_owner = $1, lease_expires_at = $2, "
    "lease_token = (j.seq << 20) | ((j.lease_token + 1) & 1048575), updated_at = $3 "
    "FROM due WHERE j.seq = due.seq "
    "RETURNING j.seq, j.id, j.feed, j.method, j.url, j.headers, j.body, j.attempts, "
    "j.max_attempts, j.created_at, j.lease_token, j.attempt_seq, j.next_attempt_at";

// Shared by every outcome, as on SQLite: fenced by the lease token, one attempt charged.
// $1 now, $2 last_status, $3 last_error, $4 id, $5 token, $6 worker, $7 next_attempt_at.
std::string outcome_sql(const std::string& set) {
  return "WITH changed AS (UPDATE jobs SET attempts = attempts + 1, attempt_seq = attempt_seq + "
         "1, " +
         set +
         ", lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, last_status = $2, "
         "last_error = $3 WHERE seq = ($5::bigint >> 20) AND id = $4 AND state = 'running' "
         "AND lease_token = $5 AND lease_owner = $6 RETURNING seq, attempt_seq) "
         "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, error, "
         "response_head, worker) SELECT seq, attempt_seq, $8::bigint, $9::bigint, $2::integer, "
         "$3::text, $10::text, $6::text FROM changed WHERE $7::bigint IS NULL OR TRUE";
}

constexpr const char* kRetrySet =
    "state = CASE WHEN attempts + 1 >= max_attempts THEN 'dead' ELSE 'pending' END, "
    "finished_at = CASE WHEN attempts + 1 >= max_attempts THEN $1::bigint END, "
    "next_attempt_at = coalesce($7::bigint, next_attempt_at)";

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
  return p;
}

std::optional<int64_t> optional_status(const std::optional<int>& status) {
  return status ? std::optional<int64_t>(*status) : std::nullopt;
}

class PostgresJobStore final : public JobStore {
 public:
  explicit PostgresJobStore(const PostgresOptions& options)
      : connection_(options.url, kChannel),
        faults_(options.faults),
        slow_poll_(options.slow_poll) {}

  // --- poller ---
  std::optional<int64_t> cursor(std::string_view feed) override {
    ready();
    PgResult r =
        connection_.exec("reading the cursor", "SELECT last_poll_time FROM cursors WHERE feed = $1",
                         PgParams().add(feed));
    if (r.rows() == 0) return std::nullopt;
    return r.int64(0, 0);
  }

  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since) override {
    ready();
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

  std::optional<int64_t> commit_poll(const PollCommit& commit) override {
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
    ready();
    const int64_t now = p.finished_at;
    std::optional<int64_t> poll_id;
    const std::string what = "committing a poll of feed " + p.feed;
    connection_.write(what, [&] {
      poll_id.reset();
      // Two pollers of one feed queue here: the second sees the first one's cursor.
      lock_feed(p.feed);
      if (read_cursor(p.feed) != commit.expected_cursor) return;
      PgResult inserted = connection_.exec(
          "inserting the poll row",
          "INSERT INTO polls (feed, started_at, finished_at, window_from, window_to, items_found, "
          "jobs_enqueued, duplicates_skipped, render_errors, status, error) VALUES ($1, $2, $3, "
          "$4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
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
              .add(p.error));
      const int64_t id = inserted.int64(0, 0);
      insert_jobs(commit.jobs, p.feed, id, now);
      fault("commit_poll:jobs_written");
      if (!seen_lines.empty()) {
        expect_changes(
            connection_
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
      if (!commit.jobs.empty()) notify();
      fault("commit_poll:before_commit");
      poll_id = id;
    });
    return poll_id;
  }

  // --- dispatcher ---
  std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs, milliseconds lease,
                                int64_t now) override {
    std::vector<ClaimedJob> jobs;
    if (max_jobs <= 0) return jobs;
    ready();
    last_claim_ = std::chrono::steady_clock::now();
    const int64_t expires_at = now + lease.count();
    PgResult r = connection_.exec(
        "claiming jobs", kClaimSql,
        PgParams().add(worker).add(expires_at).add(now).add(static_cast<int64_t>(max_jobs)));
    std::vector<std::pair<std::pair<int64_t, int64_t>, ClaimedJob>> sorted;
    for (int i = 0; i < r.rows(); ++i) {
      ClaimedJob j;
      const int64_t seq = r.int64(i, 0);
      j.id = r.text(i, 1);
      j.feed = r.text(i, 2);
      j.method = r.text(i, 3);
      j.url = r.text(i, 4);
      j.headers = parse_headers(r.text(i, 5));
      j.body = r.text(i, 6);
      j.attempts = r.int64(i, 7);
      j.max_attempts = r.int64(i, 8);
      j.created_at = r.int64(i, 9);
      j.lease_token = r.int64(i, 10);
      j.lease_expires_at = expires_at;
      j.attempt_number = r.int64(i, 11) + 1;
      sorted.push_back({{r.int64(i, 12), seq}, std::move(j)});
    }
    // RETURNING keeps no order: oldest first, as the claim chose them.
    std::sort(sorted.begin(), sorted.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [key, job] : sorted) jobs.push_back(std::move(job));
    return jobs;
  }

  RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now) override {
    RecordResult result;
    if (outcomes.empty()) return result;
    ready();
    connection_.write("recording outcomes", [&] {
      result = {};
      for (const Outcome& o : outcomes) {
        if (apply(o, now)) {
          if (++result.applied == 1) fault("record_outcomes:first_applied");
        } else {
          ++result.stale;
        }
      }
    });
    return result;
  }

  RecordAndClaim record_and_claim(std::span<const Outcome> outcomes, std::string_view worker,
                                  int max_jobs, milliseconds lease, int64_t now) override {
    RecordAndClaim result;
    ready();
    connection_.write("recording outcomes and claiming jobs", [&] {
      result.recorded = record_outcomes(outcomes, now);
      result.claimed = claim(worker, max_jobs, lease, now);
    });
    return result;
  }

  int reclaim_expired_leases(int64_t now) override {
    ready();
    int reclaimed = 0;
    connection_.write("taking back expired leases", [&] {
      // SKIP LOCKED: when several dispatchers take leases back at once, each job once.
      PgResult expired = connection_.exec(
          "reading expired leases",
          "SELECT seq, id, lease_owner, lease_token, updated_at, attempt_seq FROM jobs "
          "WHERE state = 'running' AND lease_expires_at <= $1 FOR UPDATE SKIP LOCKED",
          PgParams().add(now));
      for (int i = 0; i < expired.rows(); ++i) {
        const int64_t seq = expired.int64(i, 0);
        const std::string id = expired.text(i, 1);
        const std::string owner = expired.text(i, 2);
        const int64_t token = expired.int64(i, 3);
        const int64_t claimed_at = expired.int64(i, 4);
        const int64_t number = expired.int64(i, 5) + 1;
        expect_changes(
            connection_
                .exec("taking back the lease of job " + id,
                      "UPDATE jobs SET attempts = attempts + 1, attempt_seq = attempt_seq + 1, " +
                          std::string(kRetrySet) +
                          ", lease_owner = NULL, lease_expires_at = NULL, updated_at = $1, "
                          "last_error = $2 WHERE seq = $3 AND state = 'running' AND lease_token "
                          "= $4 AND $5::bigint IS NULL AND $6::bigint IS NULL",
                      PgParams()
                          .add(now)
                          .add(kLeaseExpiredError)
                          .add(seq)
                          .add(token)
                          .add_null()
                          .add_null()
                          .add(now))
                .changed(),
            1, "taking back the lease of job " + id);
        insert_attempt(seq, number, claimed_at, now - claimed_at, std::nullopt,
                       std::string(kLeaseExpiredError), "", owner);
      }
      reclaimed = expired.rows();
      if (reclaimed > 0) notify();
    });
    return reclaimed;
  }

  int release(std::string_view worker, std::span<const std::string> job_ids, int64_t now) override {
    if (job_ids.empty()) return 0;
    ready();
    int released = 0;
    connection_.write("releasing jobs", [&] {
      released = 0;
      for (const std::string& id : job_ids) {
        int changed = connection_
                          .exec("releasing job " + id,
                                "UPDATE jobs SET state = 'pending', lease_owner = NULL, "
                                "lease_expires_at = NULL, updated_at = $1 WHERE id = $2 AND "
                                "state = 'running' AND lease_owner = $3",
                                PgParams().add(now).add(id).add(worker))
                          .changed();
        if (changed > 1) expect_changes(changed, 1, "releasing job " + id);
        released += changed;
      }
      if (released > 0) notify();
    });
    return released;
  }

  std::optional<int64_t> next_due_at() override {
    ready();
    PgResult r = connection_.exec("reading the next due time",
                                  "SELECT min(next_attempt_at) FROM jobs WHERE state = 'pending'");
    return r.optional_int64(0, 0);
  }

  bool wait_for_work(milliseconds timeout, int interrupt_fd) override {
    ready();
    // The slow poll: a notification lost with a dropped connection costs this much at most.
    const auto since_claim =
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - last_claim_);
    if (!claimed_once_ || since_claim >= slow_poll_) {
      claimed_once_ = true;
      return true;
    }
    const milliseconds until_poll = slow_poll_ - since_claim;
    if (connection_.wait_for_notification(std::min(timeout, until_poll), interrupt_fd)) {
      return true;
    }
    return timeout >= until_poll && std::chrono::steady_clock::now() - last_claim_ >= slow_poll_;
  }

  void heartbeat(std::string_view process, std::string_view worker, int64_t now) override {
    ready();
    expect_changes(connection_
                       .exec("recording a heartbeat",
                             "INSERT INTO heartbeats (process, worker, at) VALUES ($1, $2, $3) "
                             "ON CONFLICT (process, worker) DO UPDATE SET at = excluded.at",
                             PgParams().add(process).add(worker).add(now))
                       .changed(),
                   1, "recording a heartbeat");
  }

  std::optional<int64_t> last_heartbeat(std::string_view process) override {
    ready();
    PgResult r =
        connection_.exec("reading heartbeats", "SELECT max(at) FROM heartbeats WHERE process = $1",
                         PgParams().add(process));
    return r.optional_int64(0, 0);
  }

  // --- operator ---
  std::vector<FeedStatus> status() override {
    ready();
    std::map<std::string, FeedStatus> feeds;
    auto feed = [&](const std::string& name) -> FeedStatus& {
      FeedStatus& f = feeds[name];
      if (f.feed.empty()) {
        f.feed = name;
        for (JobState s : {JobState::kPending, JobState::kRunning, JobState::kDelivered,
                           JobState::kDead, JobState::kCancelled}) {
          f.counts[s] = 0;
        }
      }
      return f;
    };
    connection_.read_snapshot("reading the status", [&] {
      feeds.clear();
      PgResult cursors =
          connection_.exec("reading cursors", "SELECT feed, last_poll_time FROM cursors");
      for (int i = 0; i < cursors.rows(); ++i)
        feed(cursors.text(i, 0)).cursor = cursors.int64(i, 1);
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

  std::vector<JobRow> list_jobs(const JobFilter& filter) override {
    ready();
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

  std::optional<JobDetail> job(std::string_view id) override {
    ready();
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

  std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit) override {
    ready();
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

  std::vector<AttemptMinute> attempts_per_minute(int64_t since) override {
    ready();
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

  std::vector<HeartbeatRow> heartbeats() override {
    ready();
    PgResult r = connection_.exec("reading heartbeats",
                                  "SELECT process, worker, at FROM heartbeats "
                                  "ORDER BY process, worker",
                                  PgParams());
    std::vector<HeartbeatRow> rows;
    for (int i = 0; i < r.rows(); ++i) rows.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
    return rows;
  }

  int requeue(std::span<const std::string> job_ids, int64_t now) override {
    ready();
    int changed = 0;
    std::set<std::string> unique(job_ids.begin(), job_ids.end());
    connection_.write("requeueing jobs", [&] {
      changed = 0;
      for (const std::string& id : unique) {
        int n = connection_
                    .exec("requeueing job " + id,
                          "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = $1, "
                          "finished_at = NULL, updated_at = $1 WHERE id = $2 AND state IN "
                          "('dead', 'cancelled')",
                          PgParams().add(now).add(id))
                    .changed();
        if (n > 1) expect_changes(n, 1, "requeueing job " + id);
        changed += n;
      }
      if (changed > 0) notify();
    });
    return changed;
  }

  int requeue_dead(std::optional<std::string> feed, int64_t now) override {
    ready();
    int changed = 0;
    connection_.write("requeueing dead jobs", [&] {
      PgParams params;
      params.add(now);
      std::string where = " WHERE state = 'dead'";
      if (feed) {
        params.add(*feed);
        where += " AND feed = $2";
      }
      // Locked first, so the UPDATE below must change exactly these rows.
      PgResult locked = connection_.exec(
          "counting dead jobs", "SELECT seq FROM jobs" + where + " AND $1::bigint > 0 FOR UPDATE",
          params);
      changed = connection_
                    .exec("requeueing dead jobs",
                          "UPDATE jobs SET state = 'pending', attempts = 0, next_attempt_at = $1, "
                          "finished_at = NULL, updated_at = $1" +
                              where,
                          params)
                    .changed();
      expect_changes(changed, locked.rows(), "requeueing dead jobs");
      if (changed > 0) notify();
    });
    return changed;
  }

  int cancel(std::span<const std::string> job_ids, int64_t now) override {
    ready();
    int changed = 0;
    std::set<std::string> unique(job_ids.begin(), job_ids.end());
    connection_.write("cancelling jobs", [&] {
      changed = 0;
      for (const std::string& id : unique) {
        int n = connection_
                    .exec("cancelling job " + id,
                          "UPDATE jobs SET state = 'cancelled', finished_at = $1, updated_at = $1 "
                          "WHERE id = $2 AND state = 'pending'",
                          PgParams().add(now).add(id))
                    .changed();
        if (n > 1) expect_changes(n, 1, "cancelling job " + id);
        changed += n;
      }
    });
    return changed;
  }

  std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit) override {
    ready();
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
    PgResult r = connection_.exec("listing blocked keys", sql, params);
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

  PruneResult prune(int64_t before, int batch) override {
    ready();
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
    for (;;) {
      int deleted = 0;
      connection_.write("pruning old polls", [&] {
        deleted = connection_
                      .exec("pruning old polls",
                            "DELETE FROM polls WHERE id IN (SELECT id FROM polls WHERE "
                            "finished_at < $1 ORDER BY finished_at LIMIT $2)",
                            PgParams().add(before).add(static_cast<int64_t>(batch)))
                      .changed();
      });
      total.polls += deleted;
      if (deleted < batch) break;
    }
    return total;
  }

  void rewind(std::string_view feed, int64_t to) override {
    ready();
    connection_.write("rewinding feed " + std::string(feed), [&] {
      lock_feed(feed);
      set_cursor(feed, to);
      connection_.exec("forgetting item hashes",
                       "DELETE FROM seen_items WHERE feed = $1 AND seen_at >= $2",
                       PgParams().add(feed).add(to));
    });
  }

 private:
  // Connects (lazily, see open_postgres_store) and brings the schema up to date once.
  void ready() {
    if (migrated_) return;
    migrate();
    migrated_ = true;
  }

  void migrate() {
    const auto& migrations = schema::postgres_migrations();
    const int latest = migrations.empty() ? 0 : migrations.back().version;
    connection_.write("migrating the database schema", [&] {
      // Processes starting together queue here; the first applies, the others find it done.
      connection_.exec("locking the schema", "SELECT pg_advisory_xact_lock($1)",
                       PgParams().add(kMigrationLock));
      connection_.exec("reading the schema version",
                       "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
      PgResult r = connection_.exec("reading the schema version",
                                    "SELECT coalesce(max(version), 0) FROM schema_version");
      const int64_t current = r.int64(0, 0);
      if (current > latest) {
        throw std::runtime_error(
            "database " + connection_.display() + " has schema version " + std::to_string(current) +
            " but this binary knows only up to " + std::to_string(latest) +
            "; it was written by a newer opencti-webhook. Upgrade this program (or restore an "
            "older backup); the database was left untouched");
      }
      for (const schema::Migration& m : migrations) {
        if (m.version <= current) continue;
        connection_.exec_script("migration " + std::string(m.name), std::string(m.sql));
        connection_.exec_script("recording the schema version",
                                "DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                                    std::to_string(m.version) + ")");
      }
    });
  }

  void fault(std::string_view point) {
    if (faults_ != nullptr) faults_->reached(point);
  }

  void notify() { connection_.exec("signalling new jobs", std::string("NOTIFY ") + kChannel); }

  void lock_feed(std::string_view feed) {
    connection_.exec("locking the feed's cursor",
                     "SELECT pg_advisory_xact_lock(hashtextextended('webhook cursor ' || $1, 0))",
                     PgParams().add(feed));
  }

  std::optional<int64_t> read_cursor(std::string_view feed) {
    PgResult r =
        connection_.exec("reading the cursor", "SELECT last_poll_time FROM cursors WHERE feed = $1",
                         PgParams().add(feed));
    if (r.rows() == 0) return std::nullopt;
    return r.int64(0, 0);
  }

  void set_cursor(std::string_view feed, int64_t value) {
    expect_changes(
        connection_
            .exec("setting the cursor",
                  "INSERT INTO cursors (feed, last_poll_time) VALUES ($1, $2) ON "
                  "CONFLICT (feed) DO UPDATE SET last_poll_time = excluded.last_poll_time",
                  PgParams().add(feed).add(value))
            .changed(),
        1, "setting the cursor of feed " + std::string(feed));
  }

  void insert_jobs(std::span<const NewJob> jobs, const std::string& feed, int64_t poll_id,
                   int64_t now) {
    constexpr std::size_t kRowsPerInsert = 500;  // 14 parameters each, well under 65535
    while (!jobs.empty()) {
      const std::size_t rows = std::min(jobs.size(), kRowsPerInsert);
      std::string sql =
          "INSERT INTO jobs (id, feed, poll_id, method, url, headers, body, state, max_attempts, "
          "next_attempt_at, created_at, updated_at, finished_at, last_error) VALUES ";
      PgParams params;
      for (std::size_t r = 0; r < rows; ++r) {
        const NewJob& job = jobs[r];
        sql += r == 0 ? "(" : ", (";
        for (int c = 0; c < 14; ++c) {
          sql += (c == 0 ? "$" : ", $") + std::to_string(r * 14 + static_cast<std::size_t>(c) + 1);
        }
        sql += ")";
        params.add(job.id)
            .add(feed)
            .add(poll_id)
            .add(job.method)
            .add(job.url)
            .add(job.headers.empty() ? std::string("{}") : job.headers.dump())
            .add(job.body)
            .add(job.dead ? "dead" : "pending")
            .add(job.max_attempts)
            .add(now)
            .add(now)
            .add(now)
            .add(job.dead ? std::optional<int64_t>(now) : std::nullopt)
            .add(job.last_error);
      }
      expect_changes(connection_.exec("inserting job " + jobs.front().id, sql, params).changed(),
                     static_cast<int>(rows), "inserting job " + jobs.front().id);
      jobs = jobs.subspan(rows);
    }
  }

  bool apply(const Outcome& o, int64_t now) {
    static const std::string deliver = outcome_sql("state = 'delivered', finished_at = $1");
    static const std::string retry = outcome_sql(kRetrySet);
    static const std::string kill = outcome_sql("state = 'dead', finished_at = $1");
    const std::string& sql = o.kind == OutcomeKind::kDelivered ? deliver
                             : o.kind == OutcomeKind::kRetry   ? retry
                                                               : kill;
    const std::string head = o.response_head.size() > kMaxResponseHead
                                 ? truncate_utf8(o.response_head, kMaxResponseHead)
                                 : o.response_head;
    PgParams params;
    params.add(now)
        .add(optional_status(o.http_status))
        .add(o.error)
        .add(o.job_id)
        .add(o.lease_token)
        .add(o.worker);
    if (o.kind == OutcomeKind::kRetry) {
      params.add(o.next_attempt_at);
    } else {
      params.add_null();
    }
    params.add(o.started_at).add(std::max<int64_t>(o.duration_ms, 0)).add(head);
    const int changed =
        connection_.exec("recording the outcome of job " + o.job_id, sql, params).changed();
    if (changed == 0) return false;
    if (changed != 1) expect_changes(changed, 1, "recording the outcome of job " + o.job_id);
    return true;
  }

  void insert_attempt(int64_t job_seq, int64_t number, int64_t started_at, int64_t duration_ms,
                      std::optional<int> http_status, const std::string& error,
                      const std::string& response_head, const std::string& worker) {
    expect_changes(
        connection_
            .exec("recording an attempt of job " + std::to_string(job_seq),
                  "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, "
                  "error, response_head, worker) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                  PgParams()
                      .add(job_seq)
                      .add(number)
                      .add(started_at)
                      .add(std::max<int64_t>(duration_ms, 0))
                      .add(optional_status(http_status))
                      .add(error)
                      .add(response_head)
                      .add(worker))
            .changed(),
        1, "recording an attempt of job " + std::to_string(job_seq));
  }

  PgConnection connection_;
  FaultPoints* faults_;
  const milliseconds slow_poll_;
  bool migrated_ = false;
  bool claimed_once_ = false;
  std::chrono::steady_clock::time_point last_claim_{};
};

}  // namespace

std::unique_ptr<JobStore> open_postgres_store(const PostgresOptions& options) {
  return std::make_unique<PostgresJobStore>(options);
}

}  // namespace webhook::store
