#include "common/store/fault_injecting_store.h"

#include <csignal>
#include <stdexcept>

namespace webhook::store {

std::unique_ptr<FaultInjectingStore> FaultInjectingStore::open(StoreOptions options) {
  std::unique_ptr<FaultInjectingStore> store(new FaultInjectingStore());
  options.faults = store.get();
  store->inner_ = open_store(options);
  return store;
}

FaultInjectingStore::Action FaultInjectingStore::fail() {
  return [](std::string_view point) {
    throw std::runtime_error("injected fault at " + std::string(point));
  };
}

FaultInjectingStore::Action FaultInjectingStore::kill() {
  return [](std::string_view) { std::raise(SIGKILL); };
}

void FaultInjectingStore::reached(std::string_view point) {
  auto it = actions_.find(point);
  if (it != actions_.end()) it->second(point);
}

template <typename Body>
auto FaultInjectingStore::around(std::string_view name, Body body)
    -> decltype(body(std::declval<JobStore&>())) {
  reached(std::string(name) + ":before");
  if constexpr (std::is_void_v<decltype(body(*inner_))>) {
    body(*inner_);
    reached(std::string(name) + ":after");
  } else {
    auto result = body(*inner_);
    reached(std::string(name) + ":after");
    return result;
  }
}

std::optional<int64_t> FaultInjectingStore::cursor(std::string_view feed) {
  return around("cursor", [&](JobStore& s) { return s.cursor(feed); });
}
std::unordered_set<std::string> FaultInjectingStore::seen_since(std::string_view feed,
                                                                int64_t since) {
  return around("seen_since", [&](JobStore& s) { return s.seen_since(feed, since); });
}
std::optional<int64_t> FaultInjectingStore::commit_poll(const PollCommit& commit) {
  return around("commit_poll", [&](JobStore& s) { return s.commit_poll(commit); });
}
std::optional<int64_t> FaultInjectingStore::acquire_feed_lease(std::string_view feed,
                                                               std::string_view holder,
                                                               std::chrono::milliseconds duration,
                                                               int64_t now) {
  return around("acquire_feed_lease",
                [&](JobStore& s) { return s.acquire_feed_lease(feed, holder, duration, now); });
}
bool FaultInjectingStore::release_feed_lease(std::string_view feed, std::string_view holder,
                                             int64_t epoch, int64_t now) {
  return around("release_feed_lease",
                [&](JobStore& s) { return s.release_feed_lease(feed, holder, epoch, now); });
}
std::vector<FeedLease> FaultInjectingStore::feed_leases() {
  return around("feed_leases", [&](JobStore& s) { return s.feed_leases(); });
}
std::optional<std::string> FaultInjectingStore::stream_cursor(std::string_view feed) {
  return around("stream_cursor", [&](JobStore& s) { return s.stream_cursor(feed); });
}
bool FaultInjectingStore::commit_stream(const StreamCommit& commit) {
  return around("commit_stream", [&](JobStore& s) { return s.commit_stream(commit); });
}
int64_t FaultInjectingStore::open_stream_connection(std::string_view feed, int64_t started_at,
                                                    std::string_view from_id) {
  return around("open_stream_connection",
                [&](JobStore& s) { return s.open_stream_connection(feed, started_at, from_id); });
}
void FaultInjectingStore::close_stream_connection(int64_t id, int64_t ended_at,
                                                  std::optional<int> http_status,
                                                  std::string_view reason) {
  around("close_stream_connection",
         [&](JobStore& s) { s.close_stream_connection(id, ended_at, http_status, reason); });
}
std::vector<StreamConnectionRow> FaultInjectingStore::list_stream_connections(
    std::optional<std::string> feed, int limit) {
  return around("list_stream_connections",
                [&](JobStore& s) { return s.list_stream_connections(std::move(feed), limit); });
}
std::map<std::string, std::string> FaultInjectingStore::stream_cursors() {
  return around("stream_cursors", [&](JobStore& s) { return s.stream_cursors(); });
}
std::vector<ClaimedJob> FaultInjectingStore::claim(std::string_view worker, int max_jobs,
                                                   std::chrono::milliseconds lease, int64_t now) {
  return around("claim", [&](JobStore& s) { return s.claim(worker, max_jobs, lease, now); });
}
RecordResult FaultInjectingStore::record_outcomes(std::span<const Outcome> outcomes, int64_t now) {
  return around("record_outcomes", [&](JobStore& s) { return s.record_outcomes(outcomes, now); });
}
RecordAndClaim FaultInjectingStore::record_and_claim(std::span<const Outcome> outcomes,
                                                     std::string_view worker, int max_jobs,
                                                     std::chrono::milliseconds lease, int64_t now) {
  return around("record_and_claim", [&](JobStore& s) {
    return s.record_and_claim(outcomes, worker, max_jobs, lease, now);
  });
}
int FaultInjectingStore::reclaim_expired_leases(int64_t now) {
  return around("reclaim_expired_leases",
                [&](JobStore& s) { return s.reclaim_expired_leases(now); });
}
int FaultInjectingStore::release(std::string_view worker, std::span<const std::string> job_ids,
                                 int64_t now) {
  return around("release", [&](JobStore& s) { return s.release(worker, job_ids, now); });
}
std::optional<int64_t> FaultInjectingStore::next_due_at() {
  return around("next_due_at", [&](JobStore& s) { return s.next_due_at(); });
}
bool FaultInjectingStore::wait_for_work(std::chrono::milliseconds timeout, int interrupt_fd) {
  return around("wait_for_work",
                [&](JobStore& s) { return s.wait_for_work(timeout, interrupt_fd); });
}
void FaultInjectingStore::heartbeat(std::string_view process, std::string_view worker,
                                    int64_t now) {
  around("heartbeat", [&](JobStore& s) { s.heartbeat(process, worker, now); });
}
std::optional<int64_t> FaultInjectingStore::last_heartbeat(std::string_view process) {
  return around("last_heartbeat", [&](JobStore& s) { return s.last_heartbeat(process); });
}
std::vector<FeedStatus> FaultInjectingStore::status() {
  return around("status", [&](JobStore& s) { return s.status(); });
}
std::vector<JobRow> FaultInjectingStore::list_jobs(const JobFilter& filter) {
  return around("list_jobs", [&](JobStore& s) { return s.list_jobs(filter); });
}
std::optional<JobDetail> FaultInjectingStore::job(std::string_view id) {
  return around("job", [&](JobStore& s) { return s.job(id); });
}
std::vector<PollRow> FaultInjectingStore::list_polls(std::optional<std::string> feed, int limit) {
  return around("list_polls", [&](JobStore& s) { return s.list_polls(std::move(feed), limit); });
}

std::vector<AttemptMinute> FaultInjectingStore::attempts_per_minute(int64_t since) {
  return around("attempts_per_minute", [&](JobStore& s) { return s.attempts_per_minute(since); });
}

std::vector<HeartbeatRow> FaultInjectingStore::heartbeats() {
  return around("heartbeats", [&](JobStore& s) { return s.heartbeats(); });
}

void FaultInjectingStore::mark_stopped(std::string_view process, std::string_view worker,
                                       int64_t now) {
  around("mark_stopped", [&](JobStore& s) { s.mark_stopped(process, worker, now); });
}
int FaultInjectingStore::requeue(std::span<const std::string> job_ids, int64_t now) {
  return around("requeue", [&](JobStore& s) { return s.requeue(job_ids, now); });
}
int FaultInjectingStore::requeue_dead(std::optional<std::string> feed, int64_t now) {
  return around("requeue_dead", [&](JobStore& s) { return s.requeue_dead(std::move(feed), now); });
}
std::vector<BlockedKey> FaultInjectingStore::blocked_keys(std::optional<std::string> feed,
                                                          int limit) {
  return around("blocked_keys",
                [&](JobStore& s) { return s.blocked_keys(std::move(feed), limit); });
}
int FaultInjectingStore::cancel(std::span<const std::string> job_ids, int64_t now) {
  return around("cancel", [&](JobStore& s) { return s.cancel(job_ids, now); });
}
PruneResult FaultInjectingStore::prune(int64_t before, int batch) {
  return around("prune", [&](JobStore& s) { return s.prune(before, batch); });
}
void FaultInjectingStore::rewind(std::string_view feed, int64_t to) {
  around("rewind", [&](JobStore& s) { s.rewind(feed, to); });
}
bool FaultInjectingStore::rewind_stream(std::string_view feed, std::string_view to, int64_t now) {
  return around("rewind_stream", [&](JobStore& s) { return s.rewind_stream(feed, to, now); });
}

}  // namespace webhook::store
