// Schedules the polls of every feed in one thread: "poll what is due, then sleep until the
// next deadline". A feed polls again one interval after the start of its previous poll; a
// failed poll is retried with exponential backoff (1 s, 2 s, 4 s, ... capped at the
// interval). A stop request ends the sleep at once and abandons a request in flight, so a
// poll is either committed whole or not at all. Each feed keeps its own schedule and
// cursor. With a FeedLeaseKeeper, a feed is polled only while this process holds its lease
// (standing by otherwise, looking again every kStandbyLook); a poll whose lease is lost
// meanwhile is abandoned, or refused by the store at commit, and a feed taken over is
// polled at once from the stored cursor. Not thread-safe; run() owns the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "poller/feed_lease_keeper.h"
#include "poller/feed_poller.h"
#include "poller/stop_token.h"

namespace webhook::poller {

// Hooks for what rides on the loop without being part of it: metrics, and the connector's
// registration and pings with OpenCTI (later). Called on the loop's thread.
class PollListener {
 public:
  virtual ~PollListener() = default;
  virtual void on_poll(const FeedPoller& /*feed*/, const PollResult& /*result*/) {}
  // Once per loop turn, with the time; may return an earlier wake-up than the next poll.
  virtual std::optional<int64_t> on_turn(int64_t /*now*/) { return std::nullopt; }
};

class PollLoop {
 public:
  // `store` is used for heartbeats and may be null; so may `leases` (every feed is then
  // polled, unfenced). Everything borrowed must outlive the loop.
  PollLoop(std::vector<std::unique_ptr<FeedPoller>> feeds, const Clock& clock, StopToken& stop,
           store::JobStore* store = nullptr, FeedLeaseKeeper* leases = nullptr);

  // How often a standing-by feed looks whether the keeper took its lease.
  static constexpr std::chrono::milliseconds kStandbyLook{100};

  void add_listener(PollListener* listener) { listeners_.push_back(listener); }

  // Polls every feed that is due now; returns the epoch-ms time of the next deadline.
  int64_t run_due();

  // Until a stop is requested.
  void run();

  // The worker name of this loop's heartbeat rows (process "poller").
  const std::string& heartbeat_worker() const { return worker_; }

  // --once: polls every feed once; true when every poll succeeded. With a FeedLeaseKeeper
  // (started, and waited for: wait_tried), only the feeds whose lease it took: the others are
  // not polled (one log line naming the holder) and make it false.
  bool run_once();

  // The delay before retrying after `failures` consecutive failed polls.
  static std::chrono::milliseconds backoff(int failures, std::chrono::milliseconds interval);

 private:
  struct Schedule {
    std::unique_ptr<FeedPoller> poller;
    int64_t next_due = 0;
    int failures = 0;
    std::optional<int64_t> epoch;  // the lease tenure it polls under; none: standing by
  };
  // With leases: whether `schedule` may poll now (its tenure updated); false: standing by.
  bool active(Schedule& schedule, int64_t now);
  PollResult poll(Schedule& schedule);
  // --once could not take `feed`'s lease: one line saying who holds it. REQUIRES: leases_.
  void say_not_polled(const std::string& feed);

  std::vector<Schedule> feeds_;
  const Clock& clock_;
  StopToken& stop_;
  store::JobStore* store_;
  FeedLeaseKeeper* leases_;
  std::vector<PollListener*> listeners_;
  std::string worker_;
  std::optional<int64_t> last_beat_;
};

}  // namespace webhook::poller
