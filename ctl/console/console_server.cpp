#include "ctl/console/console_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

#include "ctl/console/console_pages.h"

namespace webhook::ctl::console {

ConsoleServer::ConsoleServer(ConsoleStore& store, const ConsoleAuth& auth, const Clock& clock,
                             const ConsoleOptions& options)
    : context_{store, auth, clock, options.heartbeat_max_age_ms},
      server_(std::make_unique<httplib::Server>()) {
  // As the metrics endpoint: no SO_REUSEPORT, so a port another process holds is an error.
  server_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // A few operators at a time; the store serialises their queries anyway.
  server_->new_task_queue = [] { return new httplib::ThreadPool(4); };
  server_->set_payload_max_length(64 * 1024);

  add_read_routes(*server_, context_);
  add_action_routes(*server_, context_);

  server_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string message = res.status == 404
                              ? "no such page: " + req.path
                              : "request refused (HTTP " + std::to_string(res.status) + ")";
    if (req.path.rfind("/api/", 0) == 0) {
      send_json(res, res.status, {{"error", message}});
    } else {
      send_html(res, res.status, render_message(page_context(context_, req), res.status, message));
    }
  });
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string message = "internal error";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          message = e.what();
        } catch (...) {
        }
        res.status = 500;
        res.set_content("console error: " + message + "\n", "text/plain; charset=utf-8");
      });
  // Before routing, so every answer has them, error pages included.
  server_->set_pre_routing_handler([](const httplib::Request&, httplib::Response& res) {
    add_security_headers(res);
    return httplib::Server::HandlerResponse::Unhandled;
  });

  if (options.port == 0) {
    port_ = server_->bind_to_any_port(options.host);
  } else if (server_->bind_to_port(options.host, options.port)) {
    port_ = options.port;
  }
  if (port_ <= 0) {
    throw std::runtime_error("console: cannot listen on " + options.host + ":" +
                             std::to_string(options.port) +
                             " (address in use, or not an address of this host)");
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only interrupts a running server, so the destructor must not race the start.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
}

ConsoleServer::~ConsoleServer() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace webhook::ctl::console
