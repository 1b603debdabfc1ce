// webhookctl copy-store: moves the whole queue from the SQLite file the settings name into
// an empty PostgreSQL store, so an operator switches WEBHOOK_DATABASE_URL on without
// replaying or losing anything. The reading and writing belong to the stores
// (read_snapshot / import_snapshot); this command only connects them and reports.
#include <iostream>
#include <stdexcept>
#include <string>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "common/store_config.h"
#include "ctl/commands.h"
#include "ctl/queue_access.h"

namespace webhook::ctl {
namespace {

// Rows per table per batch read from the source: bounded memory for any queue size.
constexpr int kCopyBatch = 2000;

// Counts what passes from the source to the target, for the report.
class CountingReader final : public store::SnapshotReader {
 public:
  explicit CountingReader(store::SnapshotReader& inner) : inner_(inner) {}
  bool next(store::StoreSnapshot& batch) override {
    if (!inner_.next(batch)) return false;
    cursors += batch.cursors.size();
    polls += batch.polls.size();
    jobs += batch.jobs.size();
    attempts += batch.attempts.size();
    seen += batch.seen.size();
    heartbeats += batch.heartbeats.size();
    return true;
  }
  std::size_t cursors = 0, polls = 0, jobs = 0, attempts = 0, seen = 0, heartbeats = 0;

 private:
  store::SnapshotReader& inner_;
};

}  // namespace

int copy_store_command(const Args& args) {
  Arguments a(args, {"to", "database", "config"}, {});
  if (!a.positional().empty()) throw UsageError("unexpected argument '" + a.positional()[0] + "'");
  const std::optional<std::string> to = a.value("to");
  if (!to) throw UsageError("--to postgresql://… (the empty PostgreSQL store) is required");
  store::StoreOptions target;
  set_database(target, *to);
  if (!store::is_server_store(target)) {
    throw UsageError("--to must be a postgresql:// or postgres:// URL, not '" + *to + "'");
  }
  try {
    store::check_store_options(target);
  } catch (const std::invalid_argument& e) {
    std::cerr << "webhookctl copy-store: --to: " << e.what() << "\n";
    return 2;
  }

  const Config config = load_queue_config(a);
  store::StoreOptions source = store_options_from_config(config);
  if (auto database = a.value("database")) set_database(source, *database);
  if (store::is_server_store(source)) {
    std::cerr << "webhookctl copy-store: the source must be a SQLite file, but the settings name "
              << store::describe_store(source)
              << "; run it with the SQLite settings (WEBHOOK_DATABASE_PATH or --database PATH, "
                 "and WEBHOOK_DATABASE_URL unset)\n";
    return 2;
  }
  source.create_if_missing = false;
  const std::string from = store::describe_store(source);
  const std::string into = store::describe_store(target);

  auto source_store = store::open_store(source);
  auto target_store = store::open_store(target);
  auto reader = source_store->read_snapshot(kCopyBatch);
  CountingReader counted(*reader);
  try {
    target_store->import_snapshot(counted);
  } catch (const store::StoreNotEmpty& e) {
    std::cerr << "webhookctl copy-store: refused: " << e.what() << "\n";
    return 1;
  }
  std::cout << "copied " << from << " into " << into << ": " << counted.jobs << " job(s), "
            << counted.attempts << " attempt(s), " << counted.polls << " poll(s), "
            << counted.cursors << " cursor(s), " << counted.seen << " seen-hash row(s), "
            << counted.heartbeats << " heartbeat(s)\n"
            << "set WEBHOOK_DATABASE_URL to the target for the poller, the dispatcher and "
               "webhookctl, then start them\n";
  return 0;
}

}  // namespace webhook::ctl
