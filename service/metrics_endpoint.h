// How a process turns its configuration into metrics: the registry with the configured
// name prefixes, and the /metrics + /healthz server when CONNECTOR_EXPOSE_METRICS is true.
// Called once from main; the returned objects are what main keeps alive.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/metrics_registry.h"
#include "service/metrics_server.h"

namespace webhook::service {

// A registry prefixed by CONNECTOR_METRICS_NAMESPACE and CONNECTOR_METRICS_SUBSYSTEM.
// Throws std::invalid_argument naming the setting when a prefix is not a valid name.
std::unique_ptr<metrics::MetricsRegistry> make_metrics_registry(const Config& config);

// The server on the port named by `port_setting` (CONNECTOR_METRICS_PORT for the poller,
// WEBHOOK_DISPATCHER_METRICS_PORT for the dispatcher), or nullptr when
// CONNECTOR_EXPOSE_METRICS is false, listening on WEBHOOK_METRICS_HOST (0.0.0.0 by default,
// since Prometheus scrapes from another container). Throws std::runtime_error when the port
// is taken.
std::unique_ptr<MetricsServer> start_metrics_endpoint(const Config& config,
                                                      std::string_view port_setting,
                                                      const metrics::MetricsRegistry& registry,
                                                      MetricsServer::HealthProbe probe);

}  // namespace webhook::service
