// The delivery console's HTTP server (`webhookctl serve`): the pages and /api routes on one
// address, served on its own threads from construction until destruction. The store, the
// auth and the clock must outlive it; they are thread-safe.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "common/clock.h"
#include "ctl/console/console_auth.h"
#include "ctl/console/console_http.h"
#include "ctl/console/console_store.h"

namespace httplib {
class Server;
}

namespace webhook::ctl::console {

struct ConsoleOptions {
  std::string host = "127.0.0.1";
  int port = 9097;                       // 0: any free port
  int64_t heartbeat_max_age_ms = 60000;  // a process silent longer shows as "silent"
};

class ConsoleServer {
 public:
  // Listens at once. Throws std::runtime_error naming the address when it cannot.
  ConsoleServer(ConsoleStore& store, const ConsoleAuth& auth, const Clock& clock,
                const ConsoleOptions& options);
  ~ConsoleServer();
  ConsoleServer(const ConsoleServer&) = delete;
  ConsoleServer& operator=(const ConsoleServer&) = delete;

  int port() const { return port_; }

 private:
  ConsoleContext context_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace webhook::ctl::console
