// The SQLite JobStore: one connection, migrated at open, and the three parts of the queue
// (poller, dispatcher, operator) that share it. Reached only through open_store().
#include <sqlite3.h>

#include <memory>

#include "common/store/sqlite/migrator.h"
#include "common/store/sqlite/sqlite_connection.h"
#include "common/store/sqlite/sqlite_feed_leases.h"
#include "common/store/sqlite/sqlite_lease_queue.h"
#include "common/store/sqlite/sqlite_operator_queries.h"
#include "common/store/sqlite/sqlite_poll_writer.h"
#include "common/store/sqlite/sqlite_store.h"
#include "common/store/sqlite/sqlite_stream_writer.h"

namespace webhook::store {
namespace {

// Migrates before the parts prepare their statements (which need the tables).
SqliteConnection& migrated(SqliteConnection& connection) {
  migrate(connection);
  return connection;
}

class SqliteJobStore final : public JobStore {
 public:
  explicit SqliteJobStore(const SqliteOptions& options)
      : connection_(options),
        leases_(migrated(connection_)),
        polls_(connection_, leases_),
        streams_(connection_, polls_, leases_),
        queue_(connection_, options.work_probe, options.watched_probe),
        operator_(connection_) {}

  std::optional<int64_t> cursor(std::string_view feed) override { return polls_.cursor(feed); }
  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since) override {
    return polls_.seen_since(feed, since);
  }
  std::optional<int64_t> commit_poll(const PollCommit& commit) override {
    return polls_.commit_poll(commit);
  }

  std::optional<std::string> stream_cursor(std::string_view feed) override {
    return streams_.stream_cursor(feed);
  }
  bool commit_stream(const StreamCommit& commit) override { return streams_.commit_stream(commit); }
  int64_t open_stream_connection(std::string_view feed, int64_t started_at,
                                 std::string_view from_id) override {
    return streams_.open_connection(feed, started_at, from_id);
  }
  void close_stream_connection(int64_t id, int64_t ended_at, std::optional<int> http_status,
                               std::string_view reason) override {
    streams_.close_connection(id, ended_at, http_status, reason);
  }
  std::vector<StreamConnectionRow> list_stream_connections(std::optional<std::string> feed,
                                                           int limit) override {
    return operator_.list_stream_connections(std::move(feed), limit);
  }
  std::map<std::string, std::string> stream_cursors() override {
    return operator_.stream_cursors();
  }

  std::optional<int64_t> acquire_feed_lease(std::string_view feed, std::string_view holder,
                                            std::chrono::milliseconds duration,
                                            int64_t now) override {
    return leases_.acquire(feed, holder, duration, now);
  }
  bool release_feed_lease(std::string_view feed, std::string_view holder, int64_t epoch,
                          int64_t now) override {
    return leases_.release(feed, holder, epoch, now);
  }
  std::vector<FeedLease> feed_leases() override { return leases_.list(); }

  std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs,
                                std::chrono::milliseconds lease, int64_t now) override {
    return queue_.claim(worker, max_jobs, lease, now);
  }
  RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now) override {
    return queue_.record_outcomes(outcomes, now);
  }
  RecordAndClaim record_and_claim(std::span<const Outcome> outcomes, std::string_view worker,
                                  int max_jobs, std::chrono::milliseconds lease,
                                  int64_t now) override {
    return queue_.record_and_claim(outcomes, worker, max_jobs, lease, now);
  }
  int reclaim_expired_leases(int64_t now) override { return queue_.reclaim_expired_leases(now); }
  int release(std::string_view worker, std::span<const std::string> job_ids, int64_t now) override {
    return queue_.release(worker, job_ids, now);
  }
  std::optional<int64_t> next_due_at() override { return queue_.next_due_at(); }
  bool wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd) override {
    return queue_.wait_for_work(timeout, interrupt_fd);
  }
  void heartbeat(std::string_view process, std::string_view worker, int64_t now) override {
    queue_.heartbeat(process, worker, now);
  }
  std::optional<int64_t> last_heartbeat(std::string_view process) override {
    return queue_.last_heartbeat(process);
  }
  void mark_stopped(std::string_view process, std::string_view worker, int64_t now) override {
    queue_.mark_stopped(process, worker, now);
  }

  std::vector<FeedStatus> status() override { return operator_.status(); }
  std::vector<JobRow> list_jobs(const JobFilter& filter) override {
    return operator_.list_jobs(filter);
  }
  std::optional<JobDetail> job(std::string_view id) override { return operator_.job(id); }
  std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit) override {
    return operator_.list_polls(std::move(feed), limit);
  }
  std::vector<AttemptMinute> attempts_per_minute(int64_t since) override {
    return operator_.attempts_per_minute(since);
  }
  std::vector<HeartbeatRow> heartbeats() override { return operator_.heartbeats(); }
  int requeue(std::span<const std::string> job_ids, int64_t now) override {
    return operator_.requeue(job_ids, now);
  }
  int requeue_dead(std::optional<std::string> feed, int64_t now) override {
    return operator_.requeue_dead(std::move(feed), now);
  }
  std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit) override {
    return operator_.blocked_keys(std::move(feed), limit);
  }
  int cancel(std::span<const std::string> job_ids, int64_t now) override {
    return operator_.cancel(job_ids, now);
  }
  PruneResult prune(int64_t before, int batch) override { return operator_.prune(before, batch); }
  void rewind(std::string_view feed, int64_t to) override { polls_.rewind(feed, to); }
  bool rewind_stream(std::string_view feed, std::string_view to, int64_t now) override {
    return streams_.rewind(feed, to, now);
  }

 private:
  SqliteConnection connection_;
  SqliteFeedLeases leases_;
  SqlitePollWriter polls_;
  SqliteStreamWriter streams_;
  SqliteLeaseQueue queue_;
  SqliteOperatorQueries operator_;
};

}  // namespace

std::unique_ptr<JobStore> open_sqlite_store(const SqliteOptions& options) {
  return std::make_unique<SqliteJobStore>(options);
}

bool configure_sqlite_process() {
  // SQLite takes this only before it initialises (SQLITE_MISUSE afterwards).
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
}

}  // namespace webhook::store
