#include "service/metrics_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace webhook::service {

MetricsServer::MetricsServer(const metrics::MetricsRegistry& registry, HealthProbe probe,
                             std::string host, int port)
    : server_(std::make_unique<httplib::Server>()) {
  // A scrape is small; two threads keep a slow probe from blocking /metrics.
  // httplib's default also sets SO_REUSEPORT, which would let a second process silently
  // share the port; a metrics port taken by someone else must be an error at start.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server_->new_task_queue = [] { return new httplib::ThreadPool(2); };

  server_->Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry.render(), std::string(metrics::MetricsRegistry::kContentType));
  });

  server_->Get("/healthz",
               [probe = std::move(probe)](const httplib::Request&, httplib::Response& res) {
                 HealthReport report;
                 try {
                   report = probe();
                 } catch (const std::exception& e) {
                   report.healthy = false;
                   report.problems = {std::string("health check failed: ") + e.what()};
                 }
                 std::string body = report.healthy ? "ok\n" : "unhealthy\n";
                 for (const auto& line : report.problems) body += line + "\n";
                 for (const auto& line : report.details) body += line + "\n";
                 res.status = report.healthy ? 200 : 503;
                 res.set_content(body, "text/plain; charset=utf-8");
               });

  if (port == 0) {
    port_ = server_->bind_to_any_port(host);
  } else if (server_->bind_to_port(host, port)) {
    port_ = port;
  }
  if (port_ <= 0) {
    throw std::runtime_error("metrics endpoint: cannot listen on " + host + ":" +
                             std::to_string(port) +
                             " (address in use, or not an address of this host)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only interrupts a server that is already running, so the destructor must not
  // race the thread's start: wait until it is accepting.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

MetricsServer::~MetricsServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace webhook::service
