// The dispatcher's side of the PostgreSQL store: claiming due jobs under a lease with a
// fencing token (FOR UPDATE SKIP LOCKED, so any number of dispatchers on any number of
// hosts share the work), recording outcomes, taking back expired leases, releasing jobs at
// shutdown, waiting for work (LISTEN, with a slow poll behind it) and the heartbeats.
// Borrows the connection (which must outlive it). One thread at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
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
  std::chrono::steady_clock::time_point last_claim_{};
};

}  // namespace webhook::store
