// `webhookctl health --process poller|dispatcher`: the container HEALTHCHECK and the
// operator's question "is it working?", answered from the shared database with the same
// rules as each process's /healthz (common/health_check.h).
#include <charconv>
#include <cmath>
#include <filesystem>
#include <iostream>

#include "common/clock.h"
#include "common/config.h"
#include "common/health_check.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "common/store_config.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"

namespace webhook::ctl {
namespace {

std::chrono::milliseconds seconds_option(const Arguments& a, const std::string& name,
                                         std::chrono::milliseconds fallback, bool allow_zero) {
  std::optional<std::string> text = a.value(name);
  if (!text) return fallback;
  double seconds = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
  if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(seconds) ||
      seconds < 0 || (seconds == 0 && !allow_zero)) {
    throw UsageError("--" + name + ": expected " +
                     std::string(allow_zero ? "a number of seconds >= 0" : "seconds > 0") +
                     ", got '" + *text + "'");
  }
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

void print(const HealthReport& report, const std::string& process) {
  if (report.healthy) {
    std::cout << process << " healthy\n";
  } else {
    std::cerr << process << " unhealthy\n";
    for (const auto& line : report.problems) std::cerr << "  " << line << "\n";
  }
  for (const auto& line : report.details) std::cout << "  " << line << "\n";
}

}  // namespace

int health_command(const Args& args) {
  Arguments a(args,
              {"process", "config", "database", "intervals", "max-heartbeat-age", "max-due-delay",
               "max-pending-age"},
              {});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  std::optional<std::string> process = a.value("process");
  if (!process) throw UsageError("--process is required (poller or dispatcher)");
  if (*process != "poller" && *process != "dispatcher") {
    throw UsageError("--process: expected poller or dispatcher, got '" + *process + "'");
  }
  int intervals = 3;
  if (auto text = a.value("intervals")) {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), intervals);
    if (ec != std::errc() || end != text->data() + text->size() || intervals < 1) {
      throw UsageError("--intervals: expected a whole number >= 1, got '" + *text + "'");
    }
  }
  // The health of a process is judged with that process's own configuration: its feeds and
  // polling intervals, its database.
  std::optional<std::string> file = a.value("config");
  bool explicit_file = file.has_value();
  if (!file) file = "config.yml";
  unsigned programs = kCtl | (*process == "poller" ? kPoller : kDispatcher);
  std::optional<Config> config;
  try {
    config = Config::load(programs, process_environment(), file, explicit_file);
  } catch (const ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }

  // The WEBHOOK_HEALTH_* settings give the thresholds, as they do for /healthz; the options
  // override them for one check.
  DispatcherHealthRule rule = dispatcher_health_rule(*config);
  rule.max_heartbeat_age = seconds_option(a, "max-heartbeat-age", rule.max_heartbeat_age, false);
  rule.max_due_delay = seconds_option(a, "max-due-delay", rule.max_due_delay, false);
  rule.max_pending_age = seconds_option(a, "max-pending-age", rule.max_pending_age, true);

  // --database (a file or a URL) as in the queue commands, for a host where it moved.
  store::StoreOptions options = store_options_from_config(*config);
  if (auto database = a.value("database")) set_database(options, *database);
  try {
    store::check_store_options(options);  // a URL libpq cannot read is a bad setting: exit 2
  } catch (const std::invalid_argument& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (!store::is_server_store(options) && !std::filesystem::exists(options.path)) {
    // Opening would create an empty database; a health check must not.
    std::cerr << *process << " unhealthy\n  database " << options.path
              << " does not exist (has the process started, with the same "
                 "WEBHOOK_DATABASE_PATH?)\n";
    return 1;
  }
  options.create_if_missing = false;
  auto store = store::open_store(options);
  int64_t now = SystemClock().now_ms();

  HealthReport report;
  if (*process == "poller") {
    report = check_poller_health(*store, poller_health_rules(*config), now, intervals);
  } else {
    report = check_dispatcher_health(*store, rule, now);
  }
  print(report, *process);
  return report.healthy ? 0 : 1;
}

}  // namespace webhook::ctl
