// What `webhookctl status` shows of the dispatchers sharing the store: each one's last
// heartbeat, whether it is live (by the fleet's own rule, common/cluster_membership.h) and,
// when WEBHOOK_CLUSTER_HOST_CONCURRENCY is set, the share of it a live one works under once
// every member has seen the same set. A dispatcher is live, stopped (it said so on a clean
// exit) or gone (its heartbeat ran out: killed, frozen, cut off). Plain functions of the
// rows; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <span>

#include <nlohmann/json.hpp>

#include "common/config.h"
#include "common/store/job_store.h"

namespace webhook::ctl {

struct FleetRule {
  std::chrono::milliseconds heartbeat_every{10000};  // WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL
  std::optional<int> cluster_cap;                    // WEBHOOK_CLUSTER_HOST_CONCURRENCY
};

FleetRule fleet_rule_from_config(const Config& config);

// Every dispatcher row, live ones first (by name), then the others newest first:
// [{"worker", "last_heartbeat", "live", "stopped_at", "share"}]; stopped_at (epoch ms) when it
// said it stopped (a clean exit), else null; share null when gone or without a cap.
nlohmann::ordered_json dispatchers_json(std::span<const store::HeartbeatRow> rows, int64_t now,
                                        const FleetRule& rule);

// The same as a table: the live ones and those gone within the last day (older ones are
// counted in one line), or one line when no dispatcher ever ran.
void print_dispatchers(std::ostream& out, std::span<const store::HeartbeatRow> rows, int64_t now,
                       const FleetRule& rule);

}  // namespace webhook::ctl
