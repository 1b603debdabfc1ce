// The dispatcher's database thread. The loop hands it one StoreRequest at a time (outcomes
// to record, jobs to claim or release, housekeeping that is due) and goes on driving
// requests; the worker runs it (outcomes and the claim in one transaction, so one commit and
// one fsync) and makes fd() readable when the StoreReply is ready. While it works the loop
// gathers the next batch, so commits group themselves under load and the network never
// waits for the disk. When idle, a request may first wait for the store to say new work
// came (JobStore::wait_for_work); interrupt() cuts that wait short. Owns its thread; borrows the
// JobStore, which only this thread touches while the worker exists. submit/take_reply/busy are
// called from the loop's thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/store/job_store.h"
#include "dispatcher/attempt_batch.h"

namespace webhook::dispatcher {

struct StoreRequest {
  int64_t now = 0;
  // To record, and to log first whatever the database does (the worker writes the attempt
  // lines, so formatting them costs the network thread nothing).
  AttemptBatch attempts;
  std::vector<std::string> releases;  // job ids to give back uncharged
  int claim_max = 0;                  // jobs to claim at most (0: none)
  // Set: claim only if the store says work may have come since its last claim, waiting up
  // to this long for it (zero: only look); interrupt() ends the wait. Unset: claim anyway.
  std::optional<std::chrono::milliseconds> wait_for_work;
  bool reclaim = false;  // take back expired leases first
  bool heartbeat = false;
  // With the heartbeat: read every heartbeat row after it (WEBHOOK_CLUSTER_HOST_CONCURRENCY).
  bool read_members = false;
  std::optional<int64_t> prune_before;  // prune finished history older than this
  int prune_batch = 0;
};

struct StoreReply {
  // Each part that did not run (because an earlier one failed) is handed back.
  bool recorded = false;  // outcomes written (with the claim, in one transaction)
  store::RecordResult record_result;
  // The request's attempts, given back: for the listeners once recorded, to try again if not.
  AttemptBatch attempts;
  bool claim_ran = false;
  std::vector<store::ClaimedJob> claimed;
  std::optional<int64_t> next_due;  // read when the claim was not full
  bool released = false;
  int released_count = 0;
  std::vector<std::string> unreleased;  // the ids, when !released
  int reclaimed = 0;
  // Set when the heartbeat was written and read_members asked: every heartbeat row.
  std::optional<std::vector<store::HeartbeatRow>> members;
  store::PruneResult pruned;
  std::string error;  // what failed, if anything
};

class StoreWorker {
 public:
  StoreWorker(store::JobStore& store, std::string worker, std::chrono::milliseconds lease);
  // Waits for the request in hand, if any, then stops the thread.
  ~StoreWorker();
  StoreWorker(const StoreWorker&) = delete;
  StoreWorker& operator=(const StoreWorker&) = delete;

  // True from submit() until take_reply() returned the reply.
  bool busy() const { return busy_; }
  // REQUIRES: !busy().
  void submit(StoreRequest request);
  // The reply, once ready (fd() readable); nullopt while the worker is still at it.
  std::optional<StoreReply> take_reply();
  // Readable while a reply waits to be taken.
  int fd() const { return event_fd_; }
  // Ends the current request's wait for work, if it is waiting (then no claim runs).
  // Loop thread; harmless when there is nothing to interrupt.
  void interrupt();

 private:
  void run();
  StoreReply execute(StoreRequest& request);

  store::JobStore& store_;
  const std::string worker_;
  const std::chrono::milliseconds lease_;
  int event_fd_ = -1;
  int interrupt_fd_ = -1;  // readable from interrupt() until the reply is taken
  bool busy_ = false;      // loop thread only

  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<StoreRequest> request_;  // guarded by mutex_
  std::optional<StoreReply> reply_;      // guarded by mutex_
  bool quit_ = false;                    // guarded by mutex_
  std::thread thread_;                   // last: starts once everything above exists
};

}  // namespace webhook::dispatcher
