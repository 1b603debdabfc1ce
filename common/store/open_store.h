// Opening the job store the configuration names, whichever database it is: the one factory
// the programs and tests use. StoreOptions is driver-neutral (a location and a durability
// choice); the drivers in common/store/sqlite/ and common/store/postgres/ are reached only
// from open_store.cpp. Stateless; thread-safe.
#pragma once

#include <memory>
#include <string>

#include "common/store/job_store.h"

namespace webhook::store {

class FaultPoints;

struct StoreOptions {
  // A PostgreSQL connection URI (postgresql://user@host:5432/db?sslmode=…, as libpq reads
  // it; the PG* environment variables fill in what it leaves out). Set: the server store,
  // and `path` is not read. Empty: the file store at `path`.
  std::string url;
  std::string path;  // the file store: created (mode 0640, and its folder) if missing
  // The file store's commit durability: FULL waits for the disk at every commit, NORMAL
  // only at checkpoints (WEBHOOK_DATABASE_SYNCHRONOUS). The server store keeps the
  // server's own durability settings.
  std::string durability = "FULL";
  // false: a missing file store is an error (webhookctl's read commands). Default true.
  bool create_if_missing = true;
  // Tests only (FaultInjectingStore sets it): called at named points inside the drivers'
  // transactions, the same names on every driver. Borrowed; default none.
  FaultPoints* faults = nullptr;
};

// Opens (creating and migrating as needed) the store `options` names. Throws
// std::runtime_error with a clear message (never the password), e.g. when the database is
// newer than this binary, and std::invalid_argument when `options.url` is malformed.
std::unique_ptr<JobStore> open_store(const StoreOptions& options);

// What `options` names, for log lines and messages: "SQLite file data/webhook.db" or
// "PostgreSQL postgresql://webhook@db:5432/webhook" (any password masked).
std::string describe_store(const StoreOptions& options);

// Throws std::invalid_argument, one line naming the setting (never the password), when
// `options` cannot name a store: a malformed WEBHOOK_DATABASE_URL. Programs call it at
// start, so a bad URL is exit 2 like any bad setting, while an unreachable server is not.
void check_store_options(const StoreOptions& options);

// True when `options` names the server store.
inline bool is_server_store(const StoreOptions& options) { return !options.url.empty(); }

// Process-wide set-up the drivers need before any thread opens a store: main() calls it
// first. Returns false, changing nothing, when a driver was already in use.
bool configure_store_process();

}  // namespace webhook::store
