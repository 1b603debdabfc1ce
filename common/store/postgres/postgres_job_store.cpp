// The PostgreSQL JobStore: the same queue, states and guarantees as the SQLite one
// (common/store/sqlite/), on one libpq connection shared by the three parts of the queue
// (poller, dispatcher, operator). Every state change checks the rows it changed; commits
// that make jobs due send NOTIFY webhook_jobs, which wait_for_work listens for. Connects and
// migrates at first use. Reached only through open_store(). One thread at a time.
#include <memory>

#include "common/store/postgres/pg_connection.h"
#include "common/store/postgres/postgres_channel.h"
#include "common/store/postgres/postgres_feed_leases.h"
#include "common/store/postgres/postgres_lease_queue.h"
#include "common/store/postgres/postgres_migrator.h"
#include "common/store/postgres/postgres_operator_queries.h"
#include "common/store/postgres/postgres_poll_writer.h"
#include "common/store/postgres/postgres_store.h"

namespace webhook::store {
namespace {

using std::chrono::milliseconds;

class PostgresJobStore final : public JobStore {
 public:
  explicit PostgresJobStore(const PostgresOptions& options)
      : connection_(options.url, kJobsChannel),
        leases_(connection_),
        polls_(connection_, leases_, options.faults),
        queue_(connection_, options.faults, options.slow_poll),
        operator_(connection_) {}

  // --- poller ---
  std::optional<int64_t> cursor(std::string_view feed) override {
    ready();
    return polls_.cursor(feed);
  }
  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since) override {
    ready();
    return polls_.seen_since(feed, since);
  }
  std::optional<int64_t> commit_poll(const PollCommit& commit) override {
    ready();
    return polls_.commit_poll(commit);
  }

  // --- poller, stream feeds ---
  std::optional<std::string> stream_cursor(std::string_view feed) override {
    ready();
    return polls_.stream_cursor(feed);
  }
  bool commit_stream(const StreamCommit& commit) override {
    ready();
    return polls_.commit_stream(commit);
  }
  int64_t open_stream_connection(std::string_view feed, int64_t started_at,
                                 std::string_view from_id) override {
    ready();
    return polls_.open_stream_connection(feed, started_at, from_id);
  }
  void close_stream_connection(int64_t id, int64_t ended_at, std::optional<int> http_status,
                               std::string_view reason) override {
    ready();
    polls_.close_stream_connection(id, ended_at, http_status, reason);
  }

  // --- poller, feed leases ---
  std::optional<int64_t> acquire_feed_lease(std::string_view feed, std::string_view holder,
                                            milliseconds duration, int64_t /*now*/) override {
    ready();
    return leases_.acquire(feed, holder, duration);
  }
  bool release_feed_lease(std::string_view feed, std::string_view holder, int64_t epoch,
                          int64_t /*now*/) override {
    ready();
    return leases_.release(feed, holder, epoch);
  }
  std::vector<FeedLease> feed_leases() override {
    ready();
    return leases_.list();
  }

  // --- dispatcher ---
  std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs, milliseconds lease,
                                int64_t now) override {
    if (max_jobs <= 0) return {};
    ready();
    return queue_.claim(worker, max_jobs, lease, now);
  }
  RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now) override {
    if (outcomes.empty()) return {};
    ready();
    return queue_.record_outcomes(outcomes, now);
  }
  RecordAndClaim record_and_claim(std::span<const Outcome> outcomes, std::string_view worker,
                                  int max_jobs, milliseconds lease, int64_t now) override {
    ready();
    return queue_.record_and_claim(outcomes, worker, max_jobs, lease, now);
  }
  int reclaim_expired_leases(int64_t now) override {
    ready();
    return queue_.reclaim_expired_leases(now);
  }
  int release(std::string_view worker, std::span<const std::string> job_ids, int64_t now) override {
    if (job_ids.empty()) return 0;
    ready();
    return queue_.release(worker, job_ids, now);
  }
  std::optional<int64_t> next_due_at() override {
    ready();
    return queue_.next_due_at();
  }
  bool wait_for_work(milliseconds timeout, int interrupt_fd) override {
    ready();
    return queue_.wait_for_work(timeout, interrupt_fd);
  }
  void heartbeat(std::string_view process, std::string_view worker, int64_t now) override {
    ready();
    queue_.heartbeat(process, worker, now);
  }
  std::optional<int64_t> last_heartbeat(std::string_view process) override {
    ready();
    return queue_.last_heartbeat(process);
  }
  void mark_stopped(std::string_view process, std::string_view worker, int64_t now) override {
    ready();
    queue_.mark_stopped(process, worker, now);
  }

  // --- operator ---
  std::vector<FeedStatus> status() override {
    ready();
    return operator_.status();
  }
  std::vector<JobRow> list_jobs(const JobFilter& filter) override {
    ready();
    return operator_.list_jobs(filter);
  }
  std::optional<JobDetail> job(std::string_view id) override {
    ready();
    return operator_.job(id);
  }
  std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit) override {
    ready();
    return operator_.list_polls(std::move(feed), limit);
  }
  std::vector<StreamConnectionRow> list_stream_connections(std::optional<std::string> feed,
                                                           int limit) override {
    ready();
    return operator_.list_stream_connections(std::move(feed), limit);
  }
  std::map<std::string, std::string> stream_cursors() override {
    ready();
    return operator_.stream_cursors();
  }
  std::vector<AttemptMinute> attempts_per_minute(int64_t since) override {
    ready();
    return operator_.attempts_per_minute(since);
  }
  std::vector<HeartbeatRow> heartbeats() override {
    ready();
    return operator_.heartbeats();
  }
  int requeue(std::span<const std::string> job_ids, int64_t now) override {
    ready();
    return operator_.requeue(job_ids, now);
  }
  int requeue_dead(std::optional<std::string> feed, int64_t now) override {
    ready();
    return operator_.requeue_dead(std::move(feed), now);
  }
  int cancel(std::span<const std::string> job_ids, int64_t now) override {
    ready();
    return operator_.cancel(job_ids, now);
  }
  std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit) override {
    ready();
    return operator_.blocked_keys(std::move(feed), limit);
  }
  PruneResult prune(int64_t before, int batch) override {
    ready();
    return operator_.prune(before, batch);
  }
  void rewind(std::string_view feed, int64_t to) override {
    ready();
    polls_.rewind(feed, to);
  }
  bool rewind_stream(std::string_view feed, std::string_view to, int64_t now) override {
    ready();
    return polls_.rewind_stream(feed, to, now);
  }

 private:
  // Connects (lazily, see open_postgres_store) and brings the schema up to date once.
  void ready() {
    if (migrated_) return;
    migrate_postgres(connection_);
    migrated_ = true;
  }

  PgConnection connection_;
  PostgresFeedLeases leases_;
  PostgresPollWriter polls_;
  PostgresLeaseQueue queue_;
  PostgresOperatorQueries operator_;
  bool migrated_ = false;
};

}  // namespace

std::unique_ptr<JobStore> open_postgres_store(const PostgresOptions& options) {
  return std::make_unique<PostgresJobStore>(options);
}

}  // namespace webhook::store
