// Whether webhook-poller and webhook-dispatcher are making progress, judged from what they
// leave in the job store: the poll log and the dispatcher's heartbeat and due jobs. The same
// rules serve `webhookctl health` (container HEALTHCHECK, scripts) and each process's
// /healthz. Pure functions over a JobStore the caller owns; thread-safe as that store is.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/store/job_store.h"

namespace webhook {

struct HealthReport {
  bool healthy = true;
  std::vector<std::string> problems;  // why not, one line each; empty when healthy
  std::vector<std::string> details;   // what was checked, for a human reading the output
};

struct PollerHealthRule {
  std::string feed;
  std::chrono::milliseconds polling_interval{60000};
  // A stream feed has connections, not polls: healthy while its newest connection is open
  // and the poller's heartbeat is younger than `stream_allowance`, or while it ended less
  // than that long ago (it is reconnecting).
  bool stream = false;
  std::chrono::milliseconds stream_allowance{180000};
};

// Healthy when every polling feed had a successful poll within `intervals` polling
// intervals, and every stream feed is connected (see PollerHealthRule). OpenCTI being down
// turns it unhealthy after that long.
HealthReport check_poller_health(store::JobStore& store, const std::vector<PollerHealthRule>& feeds,
                                 int64_t now_ms, int intervals = 3);

// Adds to `report`'s details, for each feed lease in `store`, whether the poller named
// `holder` (host:pid) is the feed's active poller or stands by, and who holds it: a standby
// is healthy (its feeds are polled by their holder) and says so. Changes nothing else.
void describe_feed_leases(store::JobStore& store, const std::string& holder, int64_t now_ms,
                          HealthReport& report);

struct DispatcherHealthRule {
  // The dispatcher's heartbeat row must be younger than this.
  std::chrono::milliseconds max_heartbeat_age{60000};
  // A pending job may wait this long past its due time (dispatcher stuck or saturated, e.g.
  // by a receiver that hangs until the timeout).
  std::chrono::milliseconds max_due_delay{300000};
  // No pending job may be older than this since it was created (the receiver failing long
  // enough that deliveries back up through retries). Zero disables the rule.
  std::chrono::milliseconds max_pending_age{std::chrono::minutes(15)};
};

HealthReport check_dispatcher_health(store::JobStore& store, const DispatcherHealthRule& rule,
                                     int64_t now_ms);

// The rules as the configuration sets them, so that /healthz and `webhookctl health` judge
// alike: every feed with its polling interval; the WEBHOOK_HEALTH_* thresholds.
std::vector<PollerHealthRule> poller_health_rules(const Config& config);
DispatcherHealthRule dispatcher_health_rule(const Config& config);

// "2m 5s ago"-style text for durations in messages.
std::string describe_age(int64_t milliseconds);

}  // namespace webhook
