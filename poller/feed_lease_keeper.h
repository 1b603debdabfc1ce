// Keeps this poller's feed leases (README "Standby pollers"): on a thread of its own, with
// its own store connection, it tries every third of WEBHOOK_POLLER_LEASE to take each
// feed's lease or renew the ones it holds, and says which feeds this process may poll,
// under which epoch. A lease row runs for two thirds of the setting, so that a standby
// (trying every third) takes a feed over within the setting after its holder's last
// renewal, whenever it died.
// A lease counts as held only until a local deadline measured from when its last renewal
// was SENT, minus a margin: that deadline comes before the store's expiry whatever the
// latency, so a holder cut off from the database (or frozen, or slow) knows it lost the
// feed without hearing from the store, and stops before a standby may take over. The
// commits carry the epoch (PollCommit::lease_epoch) and the store refuses a stale one,
// which covers the moments this local view cannot see.
// Thread-safe: held() and lost() are called by the feed threads, the rest by the owner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"

namespace webhook::poller {

// What a feed's lease did, for metrics: held or not, and whether this was a new tenure
// after an earlier one (a takeover).
struct FeedLeaseChange {
  std::string feed;
  bool held = false;
  bool takeover = false;
  int64_t epoch = 0;
};

class FeedLeaseKeeper {
 public:
  using Observer = std::function<void(const FeedLeaseChange&)>;

  // `store` is this keeper's own connection. `lease` is WEBHOOK_POLLER_LEASE; `holder`
  // names this process in the lease rows (host:pid). The clock is borrowed (SQLite's
  // expiries are its times) and must outlive the keeper. Does not start the thread.
  FeedLeaseKeeper(std::vector<std::string> feeds, std::unique_ptr<store::JobStore> store,
                  std::chrono::milliseconds lease, std::string holder, const Clock& clock);
  ~FeedLeaseKeeper();  // stop()s
  FeedLeaseKeeper(const FeedLeaseKeeper&) = delete;
  FeedLeaseKeeper& operator=(const FeedLeaseKeeper&) = delete;

  // Called on the keeper's thread at every change; set before start().
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  void start();
  // Ends the thread and releases every lease still held, so a standby takes over at once
  // (a store that fails then only delays the takeover until the leases expire).
  void stop();

  // Waits until every feed has had its first try (taken, or found held by another poller,
  // or the store failed), at most `timeout`: true when they all have. For --once, which polls
  // only the feeds it holds.
  bool wait_tried(std::chrono::milliseconds timeout);

  // The epoch this process holds `feed` under, if its local deadline has not passed.
  std::optional<int64_t> held(const std::string& feed) const;
  // A feed thread learnt from the store (LeaseLostError) that `epoch` no longer holds:
  // forget it now, and try the feed again at once.
  void lost(const std::string& feed, int64_t epoch);

  const std::string& holder() const { return holder_; }
  std::chrono::milliseconds lease() const { return lease_; }

  // host:pid of this process, as holders are named.
  static std::string process_holder();

 private:
  using Steady = std::chrono::steady_clock;
  struct State {
    std::optional<int64_t> epoch;
    Steady::time_point deadline{};  // held until then
    Steady::time_point next_try{};
    bool tried = false;  // the first try is over
  };

  void run();
  void renew(const std::string& feed);
  void change(const std::string& feed, State& state, std::optional<int64_t> epoch,
              std::string_view why);

  const std::vector<std::string> feeds_;
  std::unique_ptr<store::JobStore> store_;
  const std::chrono::milliseconds lease_;
  const std::chrono::milliseconds term_;    // how long a lease row runs: 2/3 of lease_
  const std::chrono::milliseconds margin_;  // the local deadline's head start on the row's
  const std::string holder_;
  const Clock& clock_;
  Observer observer_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable tried_;        // a feed's first try ended
  std::map<std::string, State> states_;  // guarded by mutex_
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace webhook::poller
