// The poller's side of the PostgreSQL store: the cursor per feed, the seen-item hashes of
// the overlap, and commit_poll, which writes a whole poll in one transaction (serialised
// per feed by an advisory lock, so two pollers of one feed cannot both commit a window);
// the stream feeds' cursors, commits and connection history; plus the operator's rewind of a
// cursor. Borrows the connection (which must outlive it).
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
#include "common/store/postgres/postgres_feed_leases.h"

namespace webhook::store {

class PostgresPollWriter {
 public:
  // `faults`: tests only, borrowed, may be null (see fault_points.h). `leases` (borrowed)
  // fences the commits made under a feed lease.
  PostgresPollWriter(PgConnection& connection, PostgresFeedLeases& leases, FaultPoints* faults)
      : connection_(connection), leases_(leases), faults_(faults) {}

  std::optional<int64_t> cursor(std::string_view feed);
  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since);
  // Jobs are created at commit.poll.finished_at and due at once (dead ones finished then).
  std::optional<int64_t> commit_poll(const PollCommit& commit);
  void rewind(std::string_view feed, int64_t to);

  // Stream feeds: the last stream id handled, a batch of events' jobs with it in one
  // transaction (fenced by the expected cursor), and the connection history.
  std::optional<std::string> stream_cursor(std::string_view feed);
  bool commit_stream(const StreamCommit& commit);
  int64_t open_stream_connection(std::string_view feed, int64_t started_at,
                                 std::string_view from_id);
  void close_stream_connection(int64_t id, int64_t ended_at, std::optional<int> http_status,
                               std::string_view reason);
  // The operator's rewind of a stream cursor: false when the feed has none.
  bool rewind_stream(std::string_view feed, std::string_view to, int64_t now);

 private:
  std::optional<int64_t> read_cursor(std::string_view feed);
  // Inside a transaction: waits for, then holds until commit, the feed's cursor lock.
  void lock_feed(std::string_view feed);
  void set_cursor(std::string_view feed, int64_t value);
  // `poll_id`: the poll that made them (none for a stream feed's jobs). With
  // `ordering.coalesce`, first the stored jobs the commit supersedes (CoalescingPlan).
  void insert_jobs(std::span<const NewJob> jobs, const std::string& feed,
                   std::optional<int64_t> poll_id, int64_t now, const JobOrdering& ordering);
  void fault(std::string_view point) {
    if (faults_ != nullptr) faults_->reached(point);
  }

  PgConnection& connection_;
  PostgresFeedLeases& leases_;
  FaultPoints* faults_;
};

}  // namespace webhook::store
