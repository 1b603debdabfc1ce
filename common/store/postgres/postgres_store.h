// The PostgreSQL driver's entry point, private to common/store: open_store() calls it when
// the configuration names a server (WEBHOOK_DATABASE_URL). Nothing outside common/store
// includes this header.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/store/fault_points.h"
#include "common/store/job_store.h"

namespace webhook::store {

struct PostgresOptions {
  std::string url;                // a libpq connection URI; PG* variables fill in the rest
  FaultPoints* faults = nullptr;  // tests only, borrowed (see fault_points.h)
  // A claim runs at least this often while idle even without a notification, so a NOTIFY
  // lost with a dropped connection delays work by this much at most.
  std::chrono::milliseconds slow_poll{2000};
};

// Checks the URL (std::invalid_argument when malformed) and returns the store. It connects,
// and migrates, at first use: a server not up yet makes calls fail (and be retried by their
// callers, with the connection's backoff) instead of the process exiting.
std::unique_ptr<JobStore> open_postgres_store(const PostgresOptions& options);

}  // namespace webhook::store
