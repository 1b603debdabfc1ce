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
  // Whether this process kept its membership since its last update (no lapse): only then is
  // the set that update saw still the one the others may be sharing with it.
  const bool continuous = last_heartbeat_ && now - *last_heartbeat_ < liveness().count();
  if (!continuous) member_since_ = now;
  const int before = share(now);
  current_ = before;  // a growth that fell due is now in force; a lapsed heartbeat is 0
  if (wanted_ && *wanted_ <= current_) wanted_.reset();
  last_heartbeat_ = now;
  if (target <= current_ || live_now == 1) {
    // Shrinking is always safe; so is growing when no one else can be sending.
    current_ = target;
    wanted_.reset();
  } else {
    // Members of the last set that said they stopped (a clean exit, after their last request
    // ended) send nothing any more: the slots they leave are free at once, to a member the
    // others all count already (one past its own newcomer's wait). The rest of the growth (a
    // member that went silent, or this process's own start) waits as above.
    if (continuous && now - member_since_ >= grow_delay().count()) {
      current_ = std::max(current_, std::min(target, without_stopped(rows)));
    }
    if (target <= current_) {
      wanted_.reset();
    } else if (!wanted_ || *wanted_ != target) {
      wanted_ = target;
      wanted_since_ = now;
    }
  }
  const bool changed = current_ != stored || live_now != live_;
  live_ = live_now;
  last_live_ = std::move(live);
  return changed;
}

int ClusterShare::without_stopped(std::span<const store::HeartbeatRow> rows) const {
  std::vector<std::string> staying;
  for (const std::string& member : last_live_) {
    const bool stopped = std::any_of(rows.begin(), rows.end(), [&](const store::HeartbeatRow& r) {
      return r.process == "dispatcher" && r.worker == member && r.stopped_at;
    });
    if (!stopped) staying.push_back(member);
  }
  if (last_live_.empty() || staying.size() == last_live_.size()) return 0;
  return cluster_share(cap_, staying, self_);
}

int ClusterShare::share(int64_t now) const {
  if (!last_heartbeat_ || now - *last_heartbeat_ >= liveness().count()) return 0;
  if (wanted_ && now - wanted_since_ >= grow_delay().count()) return *wanted_;
  return current_;
}

int ClusterShare::limit(int64_t now) const { return std::min(host_concurrency_, share(now)); }

}  // namespace webhook::dispatcher
