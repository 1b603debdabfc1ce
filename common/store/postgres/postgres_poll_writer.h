// The poller's side of the PostgreSQL store: the cursor per feed, the seen-item hashes of
// the overlap, and commit_poll, which writes a whole poll in one transaction (serialised
// per feed by an advisory lock, so two pollers of one feed cannot both commit a window);
// plus the operator's rewind of a cursor. Borrows the connection (which must outlive it).
// One thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/store/fault_points.h"
#include "common/store/job_store.h"
#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

class PostgresPollWriter {
 public:
  // `faults`: tests only, borrowed, may be null (see fault_points.h).
  PostgresPollWriter(PgConnection& connection, FaultPoints* faults)
      : connection_(connection), faults_(faults) {}

  std::optional<int64_t> cursor(std::string_view feed);
  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since);
  // Jobs are created at commit.poll.finished_at and due at once (dead ones finished then).
  std::optional<int64_t> commit_poll(const PollCommit& commit);
  void rewind(std::string_view feed, int64_t to);

 private:
  std::optional<int64_t> read_cursor(std::string_view feed);
  // Inside a transaction: waits for, then holds until commit, the feed's cursor lock.
  void lock_feed(std::string_view feed);
  void set_cursor(std::string_view feed, int64_t value);
  // With PollCommit::coalesce, first the stored jobs the commit supersedes (CoalescingPlan).
  void insert_jobs(const PollCommit& commit, int64_t poll_id, int64_t now);
  // One INSERT of commit.jobs[first, first + rows); superseded[i] (empty: none) stores job i
  // superseded.
  void insert_rows(const PollCommit& commit, std::size_t first, std::size_t rows,
                   const std::vector<bool>& superseded, int64_t poll_id, int64_t now);
  void fault(std::string_view point) {
    if (faults_ != nullptr) faults_->reached(point);
  }

  PgConnection& connection_;
  FaultPoints* faults_;
};

}  // namespace webhook::store
