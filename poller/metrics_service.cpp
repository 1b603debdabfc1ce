#include "poller/metrics_service.h"

#include "common/health_check.h"
#include "common/logging.h"
#include "service/metrics_endpoint.h"
#include "service/store_health_probe.h"

namespace webhook::poller {

std::unique_ptr<MetricsService> MetricsService::start(const Config& config,
                                                      const store::StoreOptions& database,
                                                      store::JobStore& store, const Clock& clock,
                                                      const std::string& holder) {
  if (!config.boolean("CONNECTOR_EXPOSE_METRICS")) return nullptr;
  std::unique_ptr<MetricsService> service(new MetricsService());
  service->registry_ = service::make_metrics_registry(config);
  metrics::register_build_info(*service->registry_, "poller");
  service->metrics_ = std::make_unique<metrics::PollerMetrics>(*service->registry_);

  std::map<std::string, std::optional<int64_t>> cursors;
  try {
    for (const auto& feed : config.feeds()) cursors[feed.name] = store.cursor(feed.name);
  } catch (const std::exception& e) {
    // A database server not up yet is waited for, not a reason to stop: the lag shows
    // from the first poll that reaches it.
    cursors.clear();
    log_event(spdlog::level::warn, "cannot read the cursors for the metrics yet",
              {{"error", e.what()}});
  }
  service->listener_ =
      std::make_unique<MetricsListener>(*service->metrics_, clock, std::move(cursors));
  service->listener_->on_turn(clock.now_ms());  // a lag from the first scrape on
  for (const auto& feed : config.feeds()) {
    // Standing by until the first lease: 0, and no takeover yet, from the first scrape on.
    service->metrics_->feed_lease_held.with({feed.name}).set(0);
    service->metrics_->feed_lease_takeovers.with({feed.name});
  }

  std::vector<PollerHealthRule> rules = poller_health_rules(config);
  service::StoreHealthProbe probe(
      database,
      [rules, holder](store::JobStore& s, int64_t now) {
        // The feeds' health is the store's (a standby's feeds are polled by their holder);
        // what this process does for each is said beside it.
        HealthReport report = check_poller_health(s, rules, now);
        describe_feed_leases(s, holder, now, report);
        return report;
      },
      clock);
  service->server_ =
      service::start_metrics_endpoint(config, "CONNECTOR_METRICS_PORT", *service->registry_, probe);
  log_event(spdlog::level::info, "serving /metrics and /healthz",
            {{"address", config.string("WEBHOOK_METRICS_HOST")}, {"port", service->port()}});
  return service;
}

}  // namespace webhook::poller
