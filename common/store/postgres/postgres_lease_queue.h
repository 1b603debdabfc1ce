// The dispatcher's side of the PostgreSQL store: claiming due jobs under a lease with a
// fencing token (FOR UPDATE SKIP LOCKED, so any number of dispatchers on any number of
// hosts share the work), recording outcomes, taking back expired leases, releasing jobs at
// shutdown, waiting for work (LISTEN, with a slow poll behind it) and the heartbeats.
// Borrows the connection (which must outlive it). One thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/store/fault_points.h"
#include "common/store/job_store.h"
#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

class PostgresLeaseQueue {
 public:
  // `faults`: tests only, borrowed, may be null. `slow_poll`: see PostgresOptions.
  PostgresLeaseQueue(PgConnection& connection, FaultPoints* faults,
                     std::chrono::milliseconds slow_poll)
      : connection_(connection), faults_(faults), slow_poll_(slow_poll) {}

  std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs,
                                std::chrono::milliseconds lease, int64_t now);
  RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now);
  RecordAndClaim record_and_claim(std::span<const Outcome> outcomes, std::string_view worker,
                                  int max_jobs, std::chrono::milliseconds lease, int64_t now);
  int reclaim_expired_leases(int64_t now);
  int release(std::string_view worker, std::span<const std::string> job_ids, int64_t now);
  std::optional<int64_t> next_due_at();
  bool wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd);
  void heartbeat(std::string_view process, std::string_view worker, int64_t now);
  std::optional<int64_t> last_heartbeat(std::string_view process);
  void mark_stopped(std::string_view process, std::string_view worker, int64_t now);

 private:
  // record_outcomes inside the caller's transaction (record_and_claim's, or its own).
  RecordResult write_outcomes(std::span<const Outcome> outcomes, int64_t now);
  // The outcomes kRecordSql or kReclaimSql applied; notes the keys of the jobs they finished
  // out of turn in out_of_turn_.
  int applied_noting_out_of_turn(const PgResult& result);
  // After the commit of the outcomes that noted them (never inside that transaction, which
  // holds the order lock shared), frees the noted keys' heads in a transaction of its own.
  // Logs a failure and keeps them noted for the next call.
  void free_heads_out_of_turn();

  void fault(std::string_view point) {
    if (faults_ != nullptr) faults_->reached(point);
  }

  PgConnection& connection_;
  FaultPoints* faults_;
  const std::chrono::milliseconds slow_poll_;
  bool claimed_once_ = false;
  // Lease tokens of the jobs claimed here, each with whether it has an order key: a batch of
  // outcomes of ordered jobs (or of unknown ones) takes the order lock first. And whether
  // the outcome of one was recorded since the last claim: it may let the next job of its key
  // go, which no notification announces, so wait_for_work does not wait.
  std::unordered_map<int64_t, bool> claimed_tokens_;
  bool ordered_outcome_ = false;
  // (feed, order key) of the keys a job of which ended out of turn here (see
  // WEBHOOK_MOVE_HEADS in the .cpp file), whose heads are not freed yet. Almost always empty:
  // only a requeue ahead of a running job lets a job end out of turn.
  std::set<std::pair<std::string, std::string>> out_of_turn_;
  std::chrono::steady_clock::time_point last_claim_{};
};

}  // namespace webhook::store
