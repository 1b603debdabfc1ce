// The dispatcher's metrics when CONNECTOR_EXPOSE_METRICS is true: the registry, the listener
// the dispatch loop reports to, the thread keeping the queue gauges current, and the
// /metrics + /healthz server on WEBHOOK_DISPATCHER_METRICS_PORT, each on threads of their
// own so that nothing they do waits on the loop or makes it wait. Owns all of them; the
// loop and the clock are borrowed and must outlive it.
#pragma once

#include <memory>

#include "common/clock.h"
#include "common/config.h"
#include "common/metrics_registry.h"
#include "common/process_metrics.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "dispatcher/dispatch_loop.h"
#include "dispatcher/metrics_listener.h"
#include "dispatcher/queue_gauge_updater.h"
#include "service/metrics_server.h"

namespace webhook::dispatcher {

class MetricsService {
 public:
  // Registers the metrics, attaches the listener to `loop` and starts serving; nullptr when
  // CONNECTOR_EXPOSE_METRICS is false. /healthz applies `webhookctl health --process
  // dispatcher`'s rule (WEBHOOK_HEALTH_*) to `database`. Throws std::runtime_error when the
  // port is taken, std::invalid_argument for an invalid metric name prefix.
  static std::unique_ptr<MetricsService> start(const Config& config,
                                               const store::StoreOptions& database,
                                               const Clock& clock, DispatchLoop& loop);

  int port() const { return server_->port(); }

 private:
  MetricsService() = default;

  // Declared in construction order; the server goes first on destruction, then the threads
  // and listener using the metrics, then the registry.
  std::unique_ptr<metrics::MetricsRegistry> registry_;
  std::unique_ptr<metrics::DispatcherMetrics> metrics_;
  std::unique_ptr<MetricsListener> listener_;
  std::unique_ptr<QueueGaugeUpdater> queue_;
  std::unique_ptr<service::MetricsServer> server_;
};

}  // namespace webhook::dispatcher
