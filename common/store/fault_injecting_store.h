// A JobStore that forwards every call to a real store and lets a test fail or kill the
// process at a named point: inside a driver's transaction (the FaultPoints names, see
// fault_points.h) or around any call ("claim:before", "commit_poll:after", …; the method
// name then ":before" or ":after"). leveldb's EnvWrapper is the model: the drivers know
// nothing of tests but one borrowed FaultPoints pointer. For tests; owns the inner store;
// one thread at a time, like any JobStore.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/store/fault_points.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"

namespace webhook::store {

class FaultInjectingStore final : public JobStore, private FaultPoints {
 public:
  using Action = std::function<void(std::string_view point)>;

  // Opens the store `options` names (options.faults is replaced by this wrapper).
  static std::unique_ptr<FaultInjectingStore> open(StoreOptions options);

  // Runs `action` every time `point` is reached, until clear().
  void at(std::string point, Action action) { actions_[std::move(point)] = std::move(action); }
  void clear() { actions_.clear(); }

  // Ready-made actions: throw std::runtime_error("injected fault at <point>"), or end the
  // process at once with SIGKILL (no destructor, no rollback, no flush: a crash).
  static Action fail();
  static Action kill();

  JobStore& inner() { return *inner_; }

  std::optional<int64_t> cursor(std::string_view feed) override;
  std::unordered_set<std::string> seen_since(std::string_view feed, int64_t since) override;
  std::optional<int64_t> commit_poll(const PollCommit& commit) override;
  std::optional<std::string> stream_cursor(std::string_view feed) override;
  bool commit_stream(const StreamCommit& commit) override;
  int64_t open_stream_connection(std::string_view feed, int64_t started_at,
                                 std::string_view from_id) override;
  void close_stream_connection(int64_t id, int64_t ended_at, std::optional<int> http_status,
                               std::string_view reason) override;
  std::vector<StreamConnectionRow> list_stream_connections(std::optional<std::string> feed,
                                                           int limit) override;
  std::map<std::string, std::string> stream_cursors() override;
  std::optional<int64_t> acquire_feed_lease(std::string_view feed, std::string_view holder,
                                            std::chrono::milliseconds duration,
                                            int64_t now) override;
  bool release_feed_lease(std::string_view feed, std::string_view holder, int64_t epoch,
                          int64_t now) override;
  std::vector<FeedLease> feed_leases() override;
  std::vector<ClaimedJob> claim(std::string_view worker, int max_jobs,
                                std::chrono::milliseconds lease, int64_t now) override;
  RecordResult record_outcomes(std::span<const Outcome> outcomes, int64_t now) override;
  RecordAndClaim record_and_claim(std::span<const Outcome> outcomes, std::string_view worker,
                                  int max_jobs, std::chrono::milliseconds lease,
                                  int64_t now) override;
  int reclaim_expired_leases(int64_t now) override;
  int release(std::string_view worker, std::span<const std::string> job_ids, int64_t now) override;
  std::optional<int64_t> next_due_at() override;
  bool wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd) override;
  void heartbeat(std::string_view process, std::string_view worker, int64_t now) override;
  std::optional<int64_t> last_heartbeat(std::string_view process) override;
  std::vector<FeedStatus> status() override;
  std::vector<JobRow> list_jobs(const JobFilter& filter) override;
  std::optional<JobDetail> job(std::string_view id) override;
  std::vector<PollRow> list_polls(std::optional<std::string> feed, int limit) override;
  std::vector<AttemptMinute> attempts_per_minute(int64_t since) override;
  std::vector<HeartbeatRow> heartbeats() override;
  void mark_stopped(std::string_view process, std::string_view worker, int64_t now) override;
  int requeue(std::span<const std::string> job_ids, int64_t now) override;
  int requeue_dead(std::optional<std::string> feed, int64_t now) override;
  int cancel(std::span<const std::string> job_ids, int64_t now) override;
  std::vector<BlockedKey> blocked_keys(std::optional<std::string> feed, int limit) override;
  PruneResult prune(int64_t before, int batch) override;
  void rewind(std::string_view feed, int64_t to) override;
  bool rewind_stream(std::string_view feed, std::string_view to, int64_t now) override;

 private:
  FaultInjectingStore() = default;
  void reached(std::string_view point) override;
  // Calls `body` on the inner store between `name`:before and `name`:after.
  template <typename Body>
  auto around(std::string_view name, Body body) -> decltype(body(std::declval<JobStore&>()));

  std::map<std::string, Action, std::less<>> actions_;
  std::unique_ptr<JobStore> inner_;
};

}  // namespace webhook::store
