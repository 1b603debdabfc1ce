#include "dispatcher/metrics_service.h"

#include "common/health_check.h"
#include "common/logging.h"
#include "service/metrics_endpoint.h"
#include "service/store_health_probe.h"

namespace webhook::dispatcher {

std::unique_ptr<MetricsService> MetricsService::start(const Config& config,
                                                      const store::StoreOptions& database,
                                                      const Clock& clock, DispatchLoop& loop) {
  if (!config.boolean("CONNECTOR_EXPOSE_METRICS")) return nullptr;
  std::unique_ptr<MetricsService> service(new MetricsService());
  service->registry_ = service::make_metrics_registry(config);
  metrics::register_build_info(*service->registry_, "dispatcher");
  service->metrics_ = std::make_unique<metrics::DispatcherMetrics>(*service->registry_);

  const DispatcherHealthRule rule = dispatcher_health_rule(config);
  service::StoreHealthProbe probe(
      database,
      [rule](store::JobStore& store, int64_t now) {
        return check_dispatcher_health(store, rule, now);
      },
      clock);
  // The server first: a port already taken must stop the start before anything runs.
  service->server_ = service::start_metrics_endpoint(config, "WEBHOOK_DISPATCHER_METRICS_PORT",
                                                     *service->registry_, probe);
  service->queue_ = std::make_unique<QueueGaugeUpdater>(database, *service->metrics_, clock);
  service->listener_ = std::make_unique<MetricsListener>(*service->metrics_, loop);
  loop.add_listener(service->listener_.get());
  log_event(spdlog::level::info, "serving /metrics and /healthz",
            {{"address", config.string("WEBHOOK_METRICS_HOST")}, {"port", service->port()}});
  return service;
}

}  // namespace webhook::dispatcher
