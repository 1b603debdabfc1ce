#include "service/metrics_endpoint.h"

#include <stdexcept>

namespace webhook::service {

std::unique_ptr<metrics::MetricsRegistry> make_metrics_registry(const Config& config) {
  return std::make_unique<metrics::MetricsRegistry>(config.string("CONNECTOR_METRICS_NAMESPACE"),
                                                    config.string("CONNECTOR_METRICS_SUBSYSTEM"));
}

std::unique_ptr<MetricsServer> start_metrics_endpoint(const Config& config,
                                                      std::string_view port_setting,
                                                      const metrics::MetricsRegistry& registry,
                                                      MetricsServer::HealthProbe probe) {
  if (!config.boolean("CONNECTOR_EXPOSE_METRICS")) return nullptr;
  int port = static_cast<int>(config.integer(port_setting));
  try {
    return std::make_unique<MetricsServer>(registry, std::move(probe),
                                           config.string("WEBHOOK_METRICS_HOST"), port);
  } catch (const std::runtime_error& e) {
    // Name the setting to change: the operator did not write "metrics endpoint" anywhere.
    throw std::runtime_error(std::string(e.what()) + "; choose another port with " +
                             std::string(port_setting) + " or stop what uses it");
  }
}

}  // namespace webhook::service
