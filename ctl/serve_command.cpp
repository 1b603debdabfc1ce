// `webhookctl serve`: the delivery console. Opens the store as the other queue commands do
// (safe beside the poller and the dispatcher: reads are snapshots, each repair one short
// write transaction), serves until SIGTERM or SIGINT, then exits 0.
#include <iostream>

#include "common/clock.h"
#include "common/config.h"
#include "common/setting_table.h"
#include "common/shutdown_signal.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"
#include "ctl/console/console_server.h"
#include "ctl/queue_access.h"

namespace webhook::ctl {
namespace {

struct ListenAddress {
  std::string host;
  int port = 0;
};

// "127.0.0.1:9097", "[::1]:9097", "localhost:0". nullopt when malformed.
std::optional<ListenAddress> parse_listen(const std::string& text) {
  std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return std::nullopt;
    host = host.substr(1, host.size() - 2);
  }
  std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  int n = std::stoi(port);
  if (n > 65535) return std::nullopt;
  return ListenAddress{host, n};
}

// Every configured secret, so the console can mask it wherever it appears.
std::vector<std::string> configured_secrets(const Config& config) {
  std::vector<std::string> secrets;
  for (const auto& spec : all_settings()) {
    if (spec.type == SettingType::kSecret && config.is_set(spec.env))
      secrets.push_back(config.string(spec.env));
  }
  for (const auto& feed : config.feeds()) {
    if (feed.secret) secrets.push_back(*feed.secret);
  }
  return secrets;
}

}  // namespace

int serve_command(const Args& args) {
  Arguments a(args, {"database", "config", "listen"}, {});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  std::optional<Config> config;
  try {
    config = load_queue_config(a);
  } catch (const ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }
  std::string listen_text = a.value("listen").value_or(config->string("WEBHOOK_CONSOLE_LISTEN"));
  auto listen = parse_listen(listen_text);
  if (!listen) {
    std::cerr << (a.value("listen") ? "--listen" : "WEBHOOK_CONSOLE_LISTEN")
              << ": expected HOST:PORT (e.g. 127.0.0.1:9097), got '" << listen_text << "'\n";
    return 2;
  }
  std::optional<std::string> token;
  if (config->is_set("WEBHOOK_CONSOLE_TOKEN")) token = config->string("WEBHOOK_CONSOLE_TOKEN");

  ShutdownSignal shutdown;  // before the server's threads start
  auto queue = open_queue(a, *config);
  console::ConsoleStore store(std::move(queue.store),
                              console::SecretMask(configured_secrets(*config)));
  console::ConsoleAuth auth(token);
  SystemClock clock;
  console::ConsoleOptions options;
  options.host = listen->host;
  options.port = listen->port;
  options.heartbeat_max_age_ms = config->duration("WEBHOOK_HEALTH_MAX_HEARTBEAT_AGE").count();
  console::ConsoleServer server(store, auth, clock, options);
  std::string shown_host =
      listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host;
  std::cout << "webhookctl serve: delivery console on http://" << shown_host << ":" << server.port()
            << "/ ("
            << (auth.read_only() ? "read-only: WEBHOOK_CONSOLE_TOKEN is not set"
                                 : "repairs need WEBHOOK_CONSOLE_TOKEN")
            << ")" << std::endl;
  while (!shutdown.wait_for(std::chrono::hours(1))) {
  }
  std::cout << "webhookctl serve: stopping" << std::endl;
  return 0;
}

}  // namespace webhook::ctl
