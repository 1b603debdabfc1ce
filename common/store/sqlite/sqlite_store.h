// The SQLite driver's entry points, private to common/store: open_store() calls them when
// the configuration names a file. Nothing outside common/store includes this header.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/store/fault_points.h"
#include "common/store/job_store.h"

namespace webhook::store {

struct SqliteOptions {
  std::string path;                  // created (mode 0640, and its folder) if missing
  std::string synchronous = "FULL";  // FULL | NORMAL
  std::chrono::milliseconds busy_timeout{5000};
  // false: a missing file is an error instead (webhookctl's read commands). Default true.
  bool create_if_missing = true;
  FaultPoints* faults = nullptr;  // tests only, borrowed (see fault_points.h)
  // How often wait_for_work looks at PRAGMA data_version (another connection committed):
  // work_probe when the database's folder cannot be watched with inotify; watched_probe, a
  // safety net, when a write to the -wal file wakes the wait (see wal_watch.h).
  std::chrono::milliseconds work_probe{20};
  std::chrono::milliseconds watched_probe{1000};
};

// Opens (creating and migrating as needed) the SQLite store. Throws std::runtime_error
// with a clear message, e.g. when the database is newer than this binary.
std::unique_ptr<JobStore> open_sqlite_store(const SqliteOptions& options);

// Process-wide SQLite set-up, before any thread uses SQLite: turns SQLite's memory
// statistics off. Debian's SQLite is built without lookaside memory, so every statement
// mallocs several buffers, and with the statistics on each of those allocations also takes
// a global mutex (about a tenth of a job's cost in the claim -> record cycle).
// Returns false, changing nothing, when SQLite was already in use in this process.
bool configure_sqlite_process();

}  // namespace webhook::store
