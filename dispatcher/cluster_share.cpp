#include "dispatcher/cluster_share.h"

#include <algorithm>

namespace webhook::dispatcher {

ClusterShare::ClusterShare(int cap, int host_concurrency, std::string self,
                           std::chrono::milliseconds heartbeat_every)
    : cap_(cap),
      host_concurrency_(host_concurrency),
      self_(std::move(self)),
      heartbeat_every_(heartbeat_every) {}

bool ClusterShare::update(std::span<const store::HeartbeatRow> rows, int64_t now) {
  std::vector<std::string> live = live_dispatchers(rows, now, liveness());
  const int target = cluster_share(cap_, live, self_);
  const bool listed = std::binary_search(live.begin(), live.end(), self_);
  const int live_now = static_cast<int>(live.size()) + (listed ? 0 : 1);

  const int stored = current_;
  const int before = share(now);
  current_ = before;  // a growth that fell due is now in force; a lapsed heartbeat is 0
  if (wanted_ && *wanted_ <= current_) wanted_.reset();
  last_heartbeat_ = now;
  if (target <= current_ || live_now == 1) {
    // Shrinking is always safe; so is growing when no one else can be sending.
    current_ = target;
    wanted_.reset();
  } else if (!wanted_ || *wanted_ != target) {
    wanted_ = target;
    wanted_since_ = now;
  }
  const bool changed = current_ != stored || live_now != live_;
  live_ = live_now;
  return changed;
}

int ClusterShare::share(int64_t now) const {
  if (!last_heartbeat_ || now - *last_heartbeat_ >= liveness().count()) return 0;
  if (wanted_ && now - wanted_since_ >= grow_delay().count()) return *wanted_;
  return current_;
}

int ClusterShare::limit(int64_t now) const { return std::min(host_concurrency_, share(now)); }

}  // namespace webhook::dispatcher
