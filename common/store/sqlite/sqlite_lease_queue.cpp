#include "common/store/sqlite/sqlite_lease_queue.h"

#include <poll.h>

#include <algorithm>

#include "common/store/sqlite/sqlite_rows.h"

namespace webhook::store {
namespace {

// Shared by every outcome: the lease is checked (fencing) and cleared, and one attempt is
// charged. ?1 now, ?2 last_status, ?3 last_error, ?4 id, ?5 lease token, ?6 worker. The token
// carries the job's seq (see kClaimSql), so the job is found by its primary key.
constexpr const char* kOutcomeWhere =
    " lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1, last_status = ?2, "
    "last_error = ?3 WHERE seq = (?5 >> 20) AND id = ?4 AND state = 'running' "
    "AND lease_token = ?5 AND lease_owner = ?6";

std::string outcome_sql(const std::string& set) {
  return "UPDATE jobs SET attempts = attempts + 1, attempt_seq = attempt_seq + 1, " + set + "," +
         kOutcomeWhere;
}

// A retry past the job's last attempt is recorded as dead: the queue never runs a job more
// often than max_attempts, whatever the caller asked.
constexpr const char* kRetrySet =
    "state = CASE WHEN attempts + 1 >= max_attempts THEN 'dead' ELSE 'pending' END, "
    "finished_at = CASE WHEN attempts + 1 >= max_attempts THEN ?1 END, next_attempt_at = ?7";

constexpr std::size_t kMaxOrderedTokens = 1 << 16;
// A claim reserves room for at most this many jobs up front (the vector grows past it).
constexpr int kMaxReservedClaim = 1024;

}  // namespace

SqliteLeaseQueue::SqliteLeaseQueue(SqliteConnection& connection,
                                   std::chrono::milliseconds work_probe,
                                   std::chrono::milliseconds watched_probe)
    : connection_(connection),
      work_probe_(work_probe),
      watched_probe_(watched_probe),
      wal_watch_(connection.path()),
      claim_select_(connection.db(), kClaimSelectSql),
      claim_(connection.db(), kClaimSql),
      deliver_(connection.db(), outcome_sql("state = 'delivered', finished_at = ?1")),
      retry_(connection.db(), outcome_sql(kRetrySet)),
      kill_(connection.db(), outcome_sql("state = 'dead', finished_at = ?1")),
      insert_attempt_(connection.db(),
                      "INSERT INTO attempts (job_seq, number, started_at, duration_ms, "
                      "http_status, error, response_head, worker) VALUES (?1, coalesce(?8, "
                      "(SELECT coalesce(max(number), 0) + 1 FROM attempts WHERE job_seq = ?1)), "
                      "?2, ?3, ?4, ?5, ?6, ?7)"),
      select_expired_(connection.db(),
                      "SELECT seq, id, lease_owner, lease_token, updated_at, attempt_seq FROM jobs "
                      "WHERE state = 'running' AND lease_expires_at <= ?"),
      expire_(connection.db(),
              "UPDATE jobs SET attempts = attempts + 1, attempt_seq = attempt_seq + 1, " +
                  std::string(kRetrySet) +
                  ", lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1, "
                  "last_error = ?2 WHERE seq = ?3 AND state = 'running' AND lease_token = ?4"),
      release_(connection.db(),
               "UPDATE jobs INDEXED BY jobs_running_lease SET state = 'pending', "
               "lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1 "
               "WHERE id = ?2 AND state = 'running' AND lease_owner = ?3"),
      next_due_(connection.db(), kNextDueSql),
      data_version_(connection.db(), "PRAGMA data_version"),
      upsert_heartbeat_(connection.db(),
                        "INSERT INTO heartbeats (process, worker, at) VALUES (?, ?, ?) "
                        "ON CONFLICT (process, worker) DO UPDATE SET at = excluded.at, "
                        "stopped_at = NULL"),
      last_heartbeat_(connection.db(), "SELECT max(at) FROM heartbeats WHERE process = ?"),
      order_heads_(connection.db()) {}

std::vector<ClaimedJob> SqliteLeaseQueue::claim(std::string_view worker, int max_jobs,
                                                std::chrono::milliseconds lease, int64_t now) {
  std::vector<ClaimedJob> jobs;
  if (max_jobs <= 0) return jobs;
  // Growing the vector moved every job read so far (their strings and headers) again.
  jobs.reserve(static_cast<std::size_t>(std::min(max_jobs, kMaxReservedClaim)));
  const int64_t expires_at = now + lease.count();
  // Read before the claim: whatever another connection commits later changes it, so
  // wait_for_work notices every commit this claim may not have seen.
  claimed_version_ = data_version();
  // A claim lost to a machine crash only puts its jobs back to pending (delivery is at least
  // once anyway), so it does not wait for the disk: this fsync was most of the time from a
  // job's commit to its request. The next durable commit's fsync covers it.
  const auto claim_due = [&] {
    jobs.clear();
    {
      StatementScope s(claim_select_);
      s->bind(1, now);
      s->bind(2, max_jobs);
      while (s->executeStep()) {
        ClaimedJob& j = jobs.emplace_back();
        const int64_t seq = s->getColumn(0).getInt64();
        j.id = s->getColumn(1).getString();
        j.feed = s->getColumn(2).getString();
        j.method = s->getColumn(3).getString();
        j.url = s->getColumn(4).getString();
        j.headers = parse_headers(s->getColumn(5).getString());
        j.body = s->getColumn(6).getString();
        j.attempts = s->getColumn(7).getInt64();
        j.max_attempts = s->getColumn(8).getInt64();
        j.created_at = s->getColumn(9).getInt64();
        // What kClaimSql sets: a new token for this claim.
        const int64_t counter = (s->getColumn(10).getInt64() + 1) & kLeaseCounterMask;
        j.lease_token = (seq << kLeaseSeqShift) | counter;
        j.lease_expires_at = expires_at;
        j.attempt_number = s->getColumn(11).getInt64() + 1;
        // Jobs released or taken back never come back here; forgetting them all at
        // worst delays one wake-up to the caller's timeout, or costs an outcome a look at
        // its key's head.
        std::unordered_set<int64_t>& tokens =
            s->getColumn(12).getInt() != 0 ? ordered_tokens_ : unordered_tokens_;
        if (tokens.size() >= kMaxOrderedTokens) tokens.clear();
        tokens.insert(j.lease_token);
      }
    }
    if (jobs.empty()) return;
    StatementScope s(claim_);
    s->bind(1, std::string(worker));
    s->bind(2, expires_at);
    s->bind(3, now);
    s->bind(4, max_jobs);
    expect_changes(s->exec(), static_cast<int>(jobs.size()), "claiming jobs");
  };
  connection_.write("claiming jobs", claim_due, SqliteConnection::Durability::kNoSync);
  return jobs;
}

void SqliteLeaseQueue::insert_attempt(int64_t job_seq, int64_t number, int64_t started_at,
                                      int64_t duration_ms, std::optional<int> http_status,
                                      const std::string& error, const std::string& response_head,
                                      const std::string& worker) {
  StatementScope s(insert_attempt_);
  s->bind(1, job_seq);
  s->bind(2, started_at);
  s->bind(3, std::max<int64_t>(duration_ms, 0));
  bind_optional(*s, 4, http_status ? std::optional<int64_t>(*http_status) : std::nullopt);
  // The strings outlive the statement's step: bind them without copies.
  s->bindNoCopy(5, error);
  std::string cut;
  if (response_head.size() > kMaxResponseHead) {
    cut = truncate_utf8(response_head, kMaxResponseHead);
    s->bindNoCopy(6, cut);
  } else {
    s->bindNoCopy(6, response_head);
  }
  s->bindNoCopy(7, worker);
  // The number the claim read from attempt_seq; unknown (0): the statement looks it up.
  if (number > 0) s->bind(8, number);
  int changed = s->exec();
  if (changed != 1)
    expect_changes(changed, 1, "recording an attempt of job " + std::to_string(job_seq));
}

bool SqliteLeaseQueue::apply(const Outcome& o, int64_t now) {
  SQLite::Statement& statement = o.kind == OutcomeKind::kDelivered ? deliver_
                                 : o.kind == OutcomeKind::kRetry   ? retry_
                                                                   : kill_;
  int changed = 0;
  {
    StatementScope s(statement);
    s->bind(1, now);
    bind_optional(*s, 2, o.http_status ? std::optional<int64_t>(*o.http_status) : std::nullopt);
    s->bindNoCopy(3, o.error);
    s->bindNoCopy(4, o.job_id);
    s->bind(5, o.lease_token);
    s->bindNoCopy(6, o.worker);
    if (o.kind == OutcomeKind::kRetry) s->bind(7, o.next_attempt_at);
    // No RETURNING: SQLite would buffer its rows in a temporary table for every outcome.
    changed = s->exec();
  }
  const bool ordered = ordered_tokens_.erase(o.lease_token) != 0;
  if (ordered) claimed_version_ = -1;
  const bool unordered = unordered_tokens_.erase(o.lease_token) != 0;
  if (changed == 0) return false;
  if (changed != 1) expect_changes(changed, 1, "recording the outcome of job " + o.job_id);
  // The job may have ended its key's turn (a retry keeps it: nothing changes then); its
  // successor goes once the batch is applied (record_outcomes).
  if (!unordered) outcome_heads_.push_back(o.lease_token >> kLeaseSeqShift);
  insert_attempt(o.lease_token >> kLeaseSeqShift, o.attempt_number, o.started_at, o.duration_ms,
                 o.http_status, o.error, o.response_head, o.worker);
  return true;
}

RecordResult SqliteLeaseQueue::record_outcomes(std::span<const Outcome> outcomes, int64_t now) {
  RecordResult result;
  if (outcomes.empty()) return result;
  connection_.write("recording outcomes", [&] {
    result = {};
    outcome_heads_.clear();
    for (const Outcome& o : outcomes) {
      if (apply(o, now)) {
        if (++result.applied == 1) connection_.fault_point("record_outcomes:first_applied");
      } else {
        ++result.stale;
      }
    }
    order_heads_.heads_finished(outcome_heads_);
  });
  return result;
}

RecordAndClaim SqliteLeaseQueue::record_and_claim(std::span<const Outcome> outcomes,
                                                  std::string_view worker, int max_jobs,
                                                  std::chrono::milliseconds lease, int64_t now) {
  RecordAndClaim result;
  // The inner writes join this transaction (SqliteConnection::write nests); outcomes make
  // it durable.
  connection_.write(
      "recording outcomes and claiming jobs",
      [&] {
        result.recorded = record_outcomes(outcomes, now);
        result.claimed = claim(worker, max_jobs, lease, now);
      },
      outcomes.empty() ? SqliteConnection::Durability::kNoSync
                       : SqliteConnection::Durability::kDurable);
  return result;
}

int SqliteLeaseQueue::reclaim_expired_leases(int64_t now) {
  int reclaimed = 0;
  connection_.write("taking back expired leases", [&] {
    struct Expired {
      int64_t seq;
      std::string id, owner;
      int64_t token, claimed_at, attempt_seq;
    };
    std::vector<Expired> expired;
    {
      StatementScope s(select_expired_);
      s->bind(1, now);
      while (s->executeStep()) {
        expired.push_back({s->getColumn(0).getInt64(), s->getColumn(1).getString(),
                           s->getColumn(2).getString(), s->getColumn(3).getInt64(),
                           s->getColumn(4).getInt64(), s->getColumn(5).getInt64()});
      }
    }
    for (const Expired& e : expired) {
      {
        StatementScope s(expire_);
        s->bind(1, now);
        s->bind(2, std::string(kLeaseExpiredError));
        s->bind(3, e.seq);
        s->bind(4, e.token);
        s->bind(7, now);  // retry at once
        int changed = s->exec();
        if (changed != 1) expect_changes(changed, 1, "taking back the lease of job " + e.id);
      }
      // The claim set updated_at: the attempt started about then.
      insert_attempt(e.seq, e.attempt_seq + 1, e.claimed_at, now - e.claimed_at, std::nullopt,
                     std::string(kLeaseExpiredError), "", e.owner);
    }
    // Those that are dead now (their attempts used up) end their key's turn.
    std::vector<int64_t> seqs;
    seqs.reserve(expired.size());
    for (const Expired& e : expired) seqs.push_back(e.seq);
    order_heads_.heads_finished(seqs);
    reclaimed = static_cast<int>(expired.size());
    if (reclaimed > 0) connection_.fault_point("reclaim_expired_leases:taken_back");
  });
  return reclaimed;
}

int SqliteLeaseQueue::release(std::string_view worker, std::span<const std::string> job_ids,
                              int64_t now) {
  int released = 0;
  if (job_ids.empty()) return 0;
  connection_.write("releasing jobs", [&] {
    released = 0;
    for (const std::string& id : job_ids) {
      StatementScope s(release_);
      s->bind(1, now);
      s->bind(2, id);
      s->bind(3, std::string(worker));
      int changed = s->exec();
      if (changed > 1) expect_changes(changed, 1, "releasing job " + id);
      released += changed;
    }
  });
  return released;
}

std::optional<int64_t> SqliteLeaseQueue::next_due_at() {
  StatementScope s(next_due_);
  if (!s->executeStep()) return std::nullopt;
  return optional_int64(s->getColumn(0));
}

bool SqliteLeaseQueue::wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool watched = wal_watch_.fd() >= 0;
  const auto probe = watched ? watched_probe_ : work_probe_;
  // A commit writes its frames to the -wal file (the events), then syncs them, and only then
  // publishes them in the -shm index, which is mapped memory and makes no event. A look right
  // after the last write can come too early: after a write, look again every
  // kAfterWriteProbe for kAfterWriteWindow, which covers the sync.
  constexpr std::chrono::milliseconds kAfterWriteProbe{5};
  constexpr std::chrono::milliseconds kAfterWriteWindow{2000};
  auto look_often_until = std::chrono::steady_clock::time_point::min();
  for (;;) {
    if (claimed_version_ < 0 || data_version() != claimed_version_) return true;
    const auto now = std::chrono::steady_clock::now();
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (left.count() <= 0) return false;
    // The watch may still hold events of this connection's own commits: the first wake
    // drains them and looks again. A commit after the drain either shows in that look or
    // makes the watch readable again, so none is missed.
    pollfd watched_fds[2] = {{interrupt_fd, POLLIN, 0}, {wal_watch_.fd(), POLLIN, 0}};
    auto wait = std::min(left, probe);
    if (now < look_often_until) wait = std::min(wait, kAfterWriteProbe);
    if (::poll(watched_fds, 2, static_cast<int>(wait.count())) <= 0) continue;
    if ((watched_fds[0].revents & POLLIN) != 0) return false;
    // Whatever the events were about, the next turns ask SQLite, which is what decides.
    if (watched_fds[1].revents != 0 && wal_watch_.drain()) {
      look_often_until = std::chrono::steady_clock::now() + kAfterWriteWindow;
    }
  }
}

int64_t SqliteLeaseQueue::data_version() {
  StatementScope s(data_version_);
  s->executeStep();
  return s->getColumn(0).getInt64();
}

void SqliteLeaseQueue::heartbeat(std::string_view process, std::string_view worker, int64_t now) {
  connection_.write("recording a heartbeat", [&] {
    StatementScope s(upsert_heartbeat_);
    s->bind(1, std::string(process));
    s->bind(2, std::string(worker));
    s->bind(3, now);
    expect_changes(s->exec(), 1, "recording a heartbeat");
  });
}

void SqliteLeaseQueue::mark_stopped(std::string_view process, std::string_view worker,
                                    int64_t now) {
  connection_.write("recording that the " + std::string(process) + " stopped", [&] {
    SQLite::Statement s(connection_.db(),
                        "UPDATE heartbeats SET stopped_at = max(?, at) WHERE process = ? AND "
                        "worker = ?");
    s.bind(1, now);
    s.bind(2, std::string(process));
    s.bind(3, std::string(worker));
    s.exec();
  });
}

std::optional<int64_t> SqliteLeaseQueue::last_heartbeat(std::string_view process) {
  StatementScope s(last_heartbeat_);
  s->bind(1, std::string(process));
  if (!s->executeStep()) return std::nullopt;
  return optional_int64(s->getColumn(0));
}

}  // namespace webhook::store
