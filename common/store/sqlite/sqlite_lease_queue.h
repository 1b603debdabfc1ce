// The dispatcher's side of the SQLite store: claiming due jobs under a lease with a fencing
// token, recording outcomes in batches, taking back expired leases, releasing jobs at
// shutdown, and the heartbeats. Borrows the connection (which must outlive it) and keeps its
// statements prepared. One thread at a time.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <SQLiteCpp/Statement.h>

#include "common/store/job_store.h"
#include "common/store/row_helpers.h"
#include "common/store/sqlite/sqlite_connection.h"
#include "common/store/sqlite/sqlite_order_heads.h"
#include "common/store/sqlite/wal_watch.h"

namespace webhook::store {

// The claim, inside one write transaction: read the due jobs oldest first, then lease the
// same rows (nobody else can write in between) with one UPDATE. Both read only the index of
// claimable jobs (jobs_claimable_due: pending, and not waiting behind an earlier job of their
// order key), never the delivered history nor the jobs waiting behind their keys. (One
// UPDATE … RETURNING did both, but SQLite buffers RETURNING rows, which made it cost a third
// more per job.) `order_waits` is kept by SqliteOrderHeads and the schema's triggers
// (schema/sqlite/006_order_heads.sql): a job with an order key goes only once no earlier job
// of its feed and key is pending or running, nor dead under `block` when it was itself
// enqueued under `block`. The queries spell the index's predicate exactly, so that SQLite
// uses it. Public so that a test can check their query plans.
#define WEBHOOK_CLAIMABLE "state = 'pending' AND order_waits = 0"
inline constexpr const char* kClaimSelectSql =
    "SELECT seq, id, feed, method, url, headers, body, attempts, max_attempts, created_at, "
    "lease_token, attempt_seq, order_key IS NOT NULL FROM jobs WHERE " WEBHOOK_CLAIMABLE
    " AND next_attempt_at <= ?1 ORDER BY next_attempt_at, seq LIMIT ?2";
// The earliest due time of a job the claim could take: a job waiting for an earlier one of
// its key is not due, however old (the dispatcher would wake for it in vain).
inline constexpr const char* kNextDueSql =
    "SELECT next_attempt_at FROM jobs WHERE " WEBHOOK_CLAIMABLE " ORDER BY next_attempt_at LIMIT 1";
inline constexpr const char* kClaimSql =
    "UPDATE jobs SET state = 'running', lease_owner = ?1, lease_expires_at = ?2, "
    "lease_token = (seq << 20) | ((lease_token + 1) & 1048575), updated_at = ?3 "
    "WHERE seq IN (SELECT seq FROM jobs WHERE " WEBHOOK_CLAIMABLE
    " AND next_attempt_at <= ?3 ORDER BY next_attempt_at, seq LIMIT ?4)";
#undef WEBHOOK_CLAIMABLE

// The lease token's layout, the response head's size and the lease-expired error are
// shared with the other drivers (common/store/row_helpers.h).

class SqliteLeaseQueue {
 public:
  // How often wait_for_work looks at PRAGMA data_version: `work_probe` when the database's
  // folder cannot be watched, `watched_probe` (a safety net) when a write to the -wal file
  // wakes the wait.
  SqliteLeaseQueue(SqliteConnection& connection, std::chrono::milliseconds work_probe,
                   std::chrono::milliseconds watched_probe);

  std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs,
                                std::chrono::milliseconds lease, int64_t now);
  RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now);
  RecordAndClaim record_and_claim(std::span<const Outcome> outcomes, std::string_view worker,
                                  int max_jobs, std::chrono::milliseconds lease, int64_t now);
  int reclaim_expired_leases(int64_t now);
  int release(std::string_view worker, std::span<const std::string> job_ids, int64_t now);
  std::optional<int64_t> next_due_at();
  // Another connection committed since the last claim (PRAGMA data_version changed): the
  // poller's commits reach the dispatcher this way, looked at when the -wal file is written
  // (WalWatch) and every watched_probe, or every work_probe without a watch. Also true at
  // once after this connection recorded the outcome of an ordered job outside a claim.
  bool wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd);
  void heartbeat(std::string_view process, std::string_view worker, int64_t now);
  std::optional<int64_t> last_heartbeat(std::string_view process);
  void mark_stopped(std::string_view process, std::string_view worker, int64_t now);

 private:
  // Applies one outcome; false when it is stale (job not running under that token).
  bool apply(const Outcome& outcome, int64_t now);
  // `number` 0: looked up in attempts.
  void insert_attempt(int64_t job_seq, int64_t number, int64_t started_at, int64_t duration_ms,
                      std::optional<int> http_status, const std::string& error,
                      const std::string& response_head, const std::string& worker);

  int64_t data_version();

  SqliteConnection& connection_;
  const std::chrono::milliseconds work_probe_;
  const std::chrono::milliseconds watched_probe_;
  WalWatch wal_watch_;
  int64_t claimed_version_ = -1;  // data_version at the last claim; -1: none yet
  // Lease tokens of claimed jobs with an order key: recording one's outcome may let the next
  // job of its key go, which no other connection's commit announces.
  std::unordered_set<int64_t> ordered_tokens_;
  // Lease tokens of claimed jobs without an order key: their outcomes need no look at their
  // key's head. A token in neither set (claimed elsewhere, or forgotten) gets the look.
  std::unordered_set<int64_t> unordered_tokens_;
  SQLite::Statement claim_select_;
  SQLite::Statement claim_;
  SQLite::Statement deliver_;
  SQLite::Statement retry_;
  SQLite::Statement kill_;
  SQLite::Statement insert_attempt_;
  SQLite::Statement select_expired_;
  SQLite::Statement expire_;
  SQLite::Statement release_;
  SQLite::Statement next_due_;
  SQLite::Statement data_version_;
  SQLite::Statement upsert_heartbeat_;
  SQLite::Statement last_heartbeat_;
  SqliteOrderHeads order_heads_;
  // The ordered (or maybe ordered) jobs the outcomes being recorded applied to.
  std::vector<int64_t> outcome_heads_;
};

}  // namespace webhook::store
