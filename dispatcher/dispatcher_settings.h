// Everything the dispatch loop needs to know, read once from the Config: limits, timeouts,
// TLS, cadences and each feed's retry and signing settings. A plain value, copied into the
// loop; tests build one directly instead of going through the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "dispatcher/retry_policy.h"

namespace webhook::dispatcher {

using std::chrono::milliseconds;

// How jobs of one feed are retried and signed.
struct FeedDelivery {
  RetrySettings retry;
  std::optional<std::string> secret;       // whsec_...; never logged
  std::vector<std::string> allowed_hosts;  // WEBHOOK_ALLOWED_HOSTS; empty: any host
  // WEBHOOK_AUTH_TYPE=TOKEN: `auth_header: auth_token` is added to every request when it is
  // sent, so the token is never in a job; never logged.
  std::string auth_header;
  std::optional<std::string> auth_token;
};

struct DispatcherSettings {
  std::string worker;        // this dispatcher's name in leases and attempts
  int concurrency = 16;      // WEBHOOK_CONCURRENCY: requests in flight
  int host_concurrency = 8;  // WEBHOOK_HOST_CONCURRENCY: per host
  // WEBHOOK_CLUSTER_HOST_CONCURRENCY: per host, all live dispatchers together (ClusterShare);
  // unset: no cluster-wide cap.
  std::optional<int> cluster_host_concurrency;
  milliseconds timeout{30000};          // WEBHOOK_TIMEOUT: one request, queueing included
  milliseconds connect_timeout{10000};  // WEBHOOK_CONNECT_TIMEOUT
  bool ssl_verify = true;               // WEBHOOK_SSL_VERIFY
  std::string ca_file;                  // WEBHOOK_CA_FILE; empty: the system store
  bool cross_origin_redirects = false;  // WEBHOOK_CROSS_ORIGIN_REDIRECTS
  milliseconds shutdown_grace{10000};   // WEBHOOK_SHUTDOWN_GRACE
  int64_t retention_days = 30;          // WEBHOOK_HISTORY_RETENTION_DAYS
  bool once = false;                    // --once: deliver what is due, then return

  // Jobs are matched to feeds by name; a job whose feed is no longer configured uses
  // `fallback` (the shared WEBHOOK_* values).
  std::map<std::string, FeedDelivery, std::less<>> feeds;
  FeedDelivery fallback;

  // Cadences of the loop's housekeeping.
  milliseconds reclaim_every{5000};  // expired leases taken back
  // WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL: liveness row for health checks and the cluster cap
  milliseconds heartbeat_every{10000};
  milliseconds prune_every{std::chrono::minutes(20)};
  int prune_batch = 500;
  milliseconds lease_margin{5000};  // beyond the longest a request can take

  const FeedDelivery& feed(std::string_view name) const;

  // A claimed job's lease: longer than the longest its request can take, including the
  // wait for a connection when more jobs than WEBHOOK_HOST_CONCURRENCY go to one host.
  milliseconds lease() const;
};

// Reads the dispatcher's settings. `worker` names this process in leases and attempts.
DispatcherSettings dispatcher_settings_from_config(const Config& config, std::string worker);

// One line per secret that is not "whsec_" + base64, naming the feed but never the secret.
std::vector<std::string> secret_problems(const DispatcherSettings& settings);

// hostname:pid:random, unique among dispatchers sharing a database.
std::string make_worker_name();

}  // namespace webhook::dispatcher
