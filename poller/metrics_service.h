// The poller's metrics when CONNECTOR_EXPOSE_METRICS is true: the registry, the listener
// every feed's poll loop reports to, and the /metrics + /healthz server on
// CONNECTOR_METRICS_PORT, on threads of its own so that a scrape never waits on a poll or
// makes one wait. Owns all of them; the clock is borrowed and must outlive it.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics_registry.h"
#include "common/process_metrics.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "poller/metrics_listener.h"
#include "service/metrics_server.h"

namespace webhook::poller {

class MetricsService {
 public:
  // Registers the metrics and starts serving; nullptr when CONNECTOR_EXPOSE_METRICS is
  // false. `store` gives the feeds' cursors at start (the cursor lag of a feed OpenCTI does
  // not answer for); /healthz applies `webhookctl health --process poller`'s rule to
  // `database`. Throws std::runtime_error when the port is taken, std::invalid_argument for
  // an invalid metric name prefix. `holder` names this process in the feed leases: /healthz
  // says which feeds it polls and which it stands by for.
  static std::unique_ptr<MetricsService> start(const Config& config,
                                               const store::StoreOptions& database,
                                               store::JobStore& store, const Clock& clock,
                                               const std::string& holder = {});

  // To add to every poll loop (and to observe the feed leases).
  MetricsListener& listener() { return *listener_; }
  int port() const { return server_->port(); }

 private:
  MetricsService() = default;

  // Declared in construction order; the server goes first on destruction.
  std::unique_ptr<metrics::MetricsRegistry> registry_;
  std::unique_ptr<metrics::PollerMetrics> metrics_;
  std::unique_ptr<MetricsListener> listener_;
  std::unique_ptr<service::MetricsServer> server_;
};

}  // namespace webhook::poller
