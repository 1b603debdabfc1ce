// The HTTP endpoint a Prometheus server scrapes: GET /metrics renders a MetricsRegistry in
// the text exposition format, GET /healthz answers 200 or 503 from a health probe. The
// server runs on its own threads from construction until destruction; the registry and
// the probe must outlive it and be thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "common/health_check.h"
#include "common/metrics_registry.h"

namespace httplib {
class Server;
}

namespace webhook::service {

class MetricsServer {
 public:
  // Called for each /healthz request, on a server thread. An exception counts as unhealthy.
  using HealthProbe = std::function<HealthReport()>;

  // Listens on `host`:`port` (port 0: any free port). Production binds 0.0.0.0, since
  // Prometheus scrapes from another container; tests bind 127.0.0.1. Throws
  // std::runtime_error naming the address when it cannot listen.
  MetricsServer(const metrics::MetricsRegistry& registry, HealthProbe probe, std::string host,
                int port);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The port actually bound.
  int port() const { return port_; }

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace webhook::service
