// This dispatcher's part of WEBHOOK_CLUSTER_HOST_CONCURRENCY: the most requests it may have
// in flight to one receiver host so that all live dispatchers together stay within the cap.
// A plain value fed on the loop's thread, one thread.
//
// Who is live: every dispatcher whose heartbeat row is younger than liveness() (three
// heartbeat intervals, so one late or lost heartbeat does not drop a member), itself always
// included. The shares are a pure function of that set (common/cluster_membership.h): rank the
// names, each gets cap / n and the first cap % n one more, so they sum to the cap and every member
// that sees the same set computes the same split without talking to the others. With fewer slots
// than dispatchers the last ones in rank get 0: they claim nothing and stand by (they still
// take back expired leases), so no job is held by a process that may not send it.
//
// Membership changes. A share shrinks at once; it grows only after the larger value has been
// wanted for grow_delay() (liveness + one interval), except for a dispatcher that sees no
// other live one, and except for the slots of members that said they left: a dispatcher that
// stops cleanly (SIGTERM) marks its heartbeat row stopped once its last request ended, and
// the share it leaves is taken at the others' next heartbeat by each member that has been
// one without a lapse for grow_delay() (so every other member counts it; a newcomer still
// waits its own wait, below, or the leaver's slots could go to it and to a member that has
// not seen it yet). Why that is enough: the others compute their shares at each of their
// heartbeats, so within one liveness bound of a newcomer's first heartbeat each of them has
// either seen it and shrunk, or failed to heartbeat for a whole liveness bound, and a member
// whose last successful heartbeat is that old stops starting requests (limit() is 0) until
// its heartbeat succeeds again. So the sum of the limits the members start requests under
// never exceeds the cap, provided the hosts' clocks agree to well within one heartbeat
// interval. The transient that remains: requests a member started under its old, larger
// share are not cut; they finish (WEBHOOK_TIMEOUT at most) while it starts no new ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cluster_membership.h"
#include "common/store/job_store.h"

namespace webhook::dispatcher {

class ClusterShare {
 public:
  // `cap`: WEBHOOK_CLUSTER_HOST_CONCURRENCY; `host_concurrency`: WEBHOOK_HOST_CONCURRENCY,
  // the per-process ceiling; `heartbeat_every`: the interval every dispatcher heartbeats at.
  ClusterShare(int cap, int host_concurrency, std::string self,
               std::chrono::milliseconds heartbeat_every);

  // This process's heartbeat was written at `now`; `rows` are every heartbeat row read just
  // after it. True when the share or the live count changed (worth a log line).
  bool update(std::span<const store::HeartbeatRow> rows, int64_t now);

  // Requests this process may have in flight to one host now: min(WEBHOOK_HOST_CONCURRENCY,
  // share); 0 before the first heartbeat and once the last successful one is older than
  // liveness(). May grow between updates (a pending growth falls due).
  int limit(int64_t now) const;
  // The share in force now (limit() before the per-process ceiling), and the live members
  // the last update saw.
  int share(int64_t now) const;
  int live() const { return live_; }
  // A larger share waiting for grow_delay(), if any.
  std::optional<int> wanted() const { return wanted_; }
  int cap() const { return cap_; }

  std::chrono::milliseconds liveness() const { return dispatcher_liveness(heartbeat_every_); }
  std::chrono::milliseconds grow_delay() const { return liveness() + heartbeat_every_; }

 private:
  int cap_;
  int host_concurrency_;
  std::string self_;
  std::chrono::milliseconds heartbeat_every_;
  std::optional<int64_t> last_heartbeat_;  // last successful one
  int live_ = 0;
  int current_ = 0;  // the share in force
  // A larger share wanted since `since`; in force once grow_delay() has passed.
  std::optional<int> wanted_;
  int64_t wanted_since_ = 0;
  std::vector<std::string> last_live_;  // the live set the last update saw
  int64_t member_since_ = 0;            // the first update since the last lapse

  // This process's share among last_live_ less the members `rows` mark stopped; 0 when
  // none of them stopped.
  int without_stopped(std::span<const store::HeartbeatRow> rows) const;
};

}  // namespace webhook::dispatcher
