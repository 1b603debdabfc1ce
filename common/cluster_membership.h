// Which dispatchers are live, by their heartbeat rows, and how WEBHOOK_CLUSTER_HOST_CONCURRENCY
// is split between them: the one definition the dispatchers (dispatcher/cluster_share.h) and
// `webhookctl status` share, so that what the operator is shown is what the fleet computes.
// Pure functions; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/job_store.h"

namespace webhook {

// A dispatcher is live while its heartbeat row is younger than three heartbeat intervals
// (WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL): one late or lost heartbeat does not drop it.
inline std::chrono::milliseconds dispatcher_liveness(std::chrono::milliseconds heartbeat_every) {
  return heartbeat_every * 3;
}

// The workers of the "dispatcher" rows younger than `liveness` at `now` and not marked
// stopped (a clean exit), sorted.
std::vector<std::string> live_dispatchers(std::span<const store::HeartbeatRow> rows, int64_t now,
                                          std::chrono::milliseconds liveness);

// The share of `self` among `live` (names; order and duplicates do not matter; `self` is
// counted even if absent) of a cluster cap `cap` >= 1: the names ranked, each gets cap / n and
// the first cap % n one more, so the shares sum to the cap.
int cluster_share(int cap, std::span<const std::string> live, std::string_view self);

}  // namespace webhook
