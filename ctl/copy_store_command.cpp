// webhookctl copy-store: moves the whole queue from the SQLite file the settings name into
// an empty PostgreSQL store, so an operator switches WEBHOOK_DATABASE_URL on without
// replaying or losing anything. The reading and writing belong to the store
// (store::copy_store); this command checks its arguments, refuses while the processes
// still run, and reports what was copied.
#include <algorithm>
#include <iostream>
#include <stdexcept>
#include <string>

#include "common/clock.h"
#include "common/config.h"
#include "common/store/open_store.h"
#include "common/store/store_snapshot.h"
#include "common/store_config.h"
#include "ctl/commands.h"
#include "ctl/queue_access.h"

namespace webhook::ctl {
namespace {

// A heartbeat younger than this means a process still works on the file: the dispatcher
// beats every 10 s, the poller after every round of polls. What it wrote after the copy's
// snapshot would be missing on the server, so the copy waits for it to stop.
constexpr int64_t kRecentHeartbeatMs = 30'000;

// libpq's own words for a malformed URI, under copy-store's option name instead of the
// setting's.
std::string about_to(const std::string& message) {
  const std::string setting = "WEBHOOK_DATABASE_URL: ";
  return message.starts_with(setting) ? message.substr(setting.size()) : message;
}

// The live process the source's heartbeats show, or empty.
std::string running_process(const store::StoreOptions& source, int64_t now) {
  auto store = store::open_store(source);
  for (const store::HeartbeatRow& beat : store->heartbeats()) {
    const int64_t age = now - beat.at;
    if (age < kRecentHeartbeatMs && !beat.stopped_at) {
      return "the " + beat.process + " " + beat.worker + " wrote its heartbeat into " +
             source.path + " " + std::to_string(std::max<int64_t>(age, 0) / 1000) + " s ago";
    }
  }
  return {};
}

}  // namespace

int copy_store_command(const Args& args) {
  Arguments a(args, {"to", "database", "config"}, {});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  const std::optional<std::string> to = a.value("to");
  if (!to) throw UsageError("--to postgresql://… (the empty PostgreSQL store) is required");
  store::StoreOptions target;
  set_database(target, *to);
  if (!store::is_server_store(target)) {
    std::cerr << "webhookctl copy-store: --to: expected a postgresql:// or postgres:// URL, got '"
              << *to << "'\n";
    return 2;
  }
  try {
    store::check_store_options(target);
  } catch (const std::invalid_argument& e) {
    std::cerr << "webhookctl copy-store: --to: " << about_to(e.what()) << "\n";
    return 2;
  }

  std::optional<Config> config;
  try {
    config = load_queue_config(a);
  } catch (const ConfigError& e) {
    for (const auto& problem : e.problems()) std::cerr << problem << "\n";
    return 2;
  }
  store::StoreOptions source = store_options_from_config(*config);
  if (auto database = a.value("database")) set_database(source, *database);
  if (store::is_server_store(source)) {
    std::cerr << "webhookctl copy-store: the source must be a SQLite file, but the settings name "
              << store::describe_store(source)
              << "; run it with the SQLite settings (WEBHOOK_DATABASE_PATH or --database PATH, "
                 "and WEBHOOK_DATABASE_URL unset)\n";
    return 2;
  }
  source.create_if_missing = false;  // a typo must not copy an empty queue

  if (const std::string running = running_process(source, SystemClock().now_ms());
      !running.empty()) {
    std::cerr << "webhookctl copy-store: refused: " << running
              << "; stop the poller and the dispatcher first (what they write after the copy "
                 "would be missing on the server), then run it again (nothing was written)\n";
    return 1;
  }

  store::CopyReport report;
  try {
    report = store::copy_store(source, target);
  } catch (const store::StoreNotEmpty& e) {
    std::cerr << "webhookctl copy-store: refused: " << e.what() << "\n";
    return 1;
  }
  std::cout << "copied " << store::describe_store(source) << " into "
            << store::describe_store(target) << " in one transaction:\n";
  for (const auto& [table, rows] : report.rows) {
    std::cout << "  " << table << ": " << rows << " row(s)\n";
  }
  std::cout << "now set WEBHOOK_DATABASE_URL to the target for the poller, the dispatcher and "
               "webhookctl, and start them\n";
  return 0;
}

}  // namespace webhook::ctl
