// The dispatcher's event loop: claim due jobs up to the free concurrency, run their requests
// on one curl multi handle, record outcomes in batched transactions, and sleep until the
// next job is due, the store reports new work, a request progresses or a stop is requested.
// It also reclaims expired leases, writes heartbeats and prunes old history. The database
// work runs on a StoreWorker thread (one request at a time: record the finished outcomes and
// claim the next jobs in one transaction) while this thread drives the network, so requests
// never wait for a commit. It owns its HttpClient and StoreWorker; the JobStore (used only
// by the worker's thread while the loop exists), Clock and StopSource are borrowed and must
// outlive it. run() and the listeners run on the caller's thread; tests drive it in-process.
// With WEBHOOK_CLUSTER_HOST_CONCURRENCY it also keeps this process within its share of the
// cap (ClusterShare, fed by the heartbeats the worker reads; HostSlots counts per host).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "dispatcher/attempt_batch.h"
#include "dispatcher/claim_pacer.h"
#include "dispatcher/cluster_share.h"
#include "dispatcher/dispatcher_settings.h"
#include "dispatcher/host_slots.h"
#include "dispatcher/http_client.h"
#include "dispatcher/stop_source.h"
#include "dispatcher/store_worker.h"
#include "dispatcher/webhook_signer.h"

namespace webhook::dispatcher {

// What the loop did, for the stop log line and, later, metrics.
struct LoopCounters {
  int64_t turns = 0;
  int64_t claims = 0;          // claim transactions
  int64_t claimed = 0;         // jobs they returned
  int64_t commits = 0;         // record_outcomes transactions
  int64_t outcomes = 0;        // attempts recorded
  int64_t stale_outcomes = 0;  // dropped because the lease was lost
  int64_t delivered = 0;
  int64_t retried = 0;
  int64_t dead = 0;
};

// Hooks for what rides on the loop without being part of it: the service manager's watchdog
// and metrics. Called on the loop's thread; they must be quick, the loop waits for them.
class DispatchListener {
 public:
  virtual ~DispatchListener() = default;
  // Once per loop turn, with the time; may return an earlier wake-up than the loop's own.
  virtual std::optional<int64_t> on_turn(int64_t /*now*/) { return std::nullopt; }
  // Once per attempt of a job of `feed`, after the transaction recording it committed.
  // An outcome dropped as stale (the lease was lost) is reported too: the call was made.
  virtual void on_attempt(const store::Outcome& /*outcome*/, std::string_view /*feed*/) {}
  // When running jobs whose lease expired were taken back, with how many.
  virtual void on_leases_reclaimed(int /*jobs*/) {}
  // Once, when the first stop request is seen.
  virtual void on_stopping() {}
};

enum class LoopExit {
  kFinished,  // stopped cleanly (or --once found nothing more due): exit 0
  kForced,    // a second stop request: left at once, leases will bring the jobs back
};

class DispatchLoop {
 public:
  // `random` gives uniform numbers in [0, 1) for backoff jitter (default: a seeded PRNG).
  // Throws std::invalid_argument when a feed's secret is not valid base64.
  DispatchLoop(store::JobStore& store, const Clock& clock, DispatcherSettings settings,
               const StopSource& stop, std::function<double()> random = nullptr);
  ~DispatchLoop();
  DispatchLoop(const DispatchLoop&) = delete;
  DispatchLoop& operator=(const DispatchLoop&) = delete;

  // Runs until stopped (or, with settings.once, until nothing is due and nothing runs).
  LoopExit run();

  const LoopCounters& counters() const { return counters_; }
  // Requests in progress now.
  std::size_t in_flight() const { return client_.in_flight(); }

  // This process's part of WEBHOOK_CLUSTER_HOST_CONCURRENCY; null when the cap is unset.
  const ClusterShare* cluster_share() const { return cluster_ ? &*cluster_ : nullptr; }

  // `listener` is borrowed and must outlive the loop.
  void add_listener(DispatchListener* listener) { listeners_.push_back(listener); }

 private:
  // What the loop must remember of the request in the worker's hands (the reply carries
  // the rest, its attempts included).
  struct InHand {
    int claim_max = 0;
    bool waits = false;  // the request waits for work before claiming
    int64_t submitted_at = 0;
  };
  // The claim the next request makes.
  struct ClaimPlan {
    int max = 0;  // jobs at most; 0: no claim
    // Set: claim only once the store says work came, waiting up to this long for it.
    std::optional<std::chrono::milliseconds> wait_for_work;
  };

  void turn(int64_t now);
  void collect_finished();
  void apply_reply(StoreReply reply, int64_t now);
  void start_ready(int64_t now);
  // start_ready under WEBHOOK_CLUSTER_HOST_CONCURRENCY: a job whose host is at this
  // process's share waits (later jobs to other hosts go first), and with a share of 0 every
  // claimed job goes back at once.
  void start_ready_capped(int64_t now);
  void start_transfer(store::ClaimedJob job);
  void apply_members(const std::vector<store::HeartbeatRow>& rows, int64_t now);
  void submit(int64_t now);
  bool claim_has_room() const;
  ClaimPlan plan_claim(int64_t now) const;
  // Jobs WEBHOOK_CLUSTER_HOST_CONCURRENCY lets a claim take now (no limit when unset).
  int cluster_claimable(int64_t now) const;
  // How long an idle claim may wait for work: until the loop has something else to do.
  std::chrono::milliseconds idle_wait(int64_t now) const;
  bool nothing_left(int64_t now) const;
  void notify_listeners(int64_t now);
  std::chrono::milliseconds wait_time(int64_t now) const;
  std::chrono::milliseconds own_wait_time(int64_t now) const;
  void begin_shutdown(int64_t now);
  void abort_in_flight();
  // Both queue the outcome and its log line (the job is moved into the line).
  void add_outcome(Transfer& transfer, const TransferResult& result, int64_t now);
  void add_unsendable(store::ClaimedJob job, const std::string& error, int64_t now);
  const WebhookSigner* signer_for(const std::string& feed) const;

  const Clock& clock_;
  DispatcherSettings settings_;
  const StopSource& stop_;
  std::function<double()> random_;
  HttpClient client_;
  std::map<std::string, std::unique_ptr<WebhookSigner>, std::less<>> signers_;
  std::unique_ptr<WebhookSigner> fallback_signer_;

  AttemptBatch attempts_;              // finished attempts not yet handed to the worker
  std::vector<std::string> releases_;  // jobs to give back uncharged (shutdown)
  InHand in_hand_;                     // what the worker's current request carries
  struct ReadyJob {
    store::ClaimedJob job;
    int64_t claimed_at = 0;
  };
  std::deque<ReadyJob> ready_;  // claimed, waiting for a free slot, oldest first
  ClaimPacer pacer_;
  std::optional<ClusterShare> cluster_;  // set with WEBHOOK_CLUSTER_HOST_CONCURRENCY
  HostSlots host_slots_;                 // counted only when cluster_ is set
  bool may_have_due_ = true;             // the last claim was full, or jobs came back
  std::optional<int64_t> next_due_;      // earliest pending job's time, as last read
  int64_t next_reclaim_ = 0;
  int64_t next_heartbeat_ = 0;
  int64_t next_prune_ = 0;
  int64_t store_retry_at_ = 0;  // after a database error, wait before touching it again
  bool stopping_ = false;
  int64_t grace_deadline_ = 0;
  bool done_ = false;
  LoopCounters counters_;
  std::vector<DispatchListener*> listeners_;
  std::optional<int64_t> listener_wake_;  // the earliest wake-up the listeners asked for
  // Declared last, so destroyed first: it finishes the request in hand and stops its thread.
  StoreWorker store_worker_;
};

}  // namespace webhook::dispatcher
