#include "common/store/open_store.h"

#include "common/store/sqlite/sqlite_store.h"

namespace webhook::store {

std::unique_ptr<JobStore> open_store(const StoreOptions& options) {
  SqliteOptions sqlite;
  sqlite.path = options.path;
  sqlite.synchronous = options.durability;
  sqlite.create_if_missing = options.create_if_missing;
  sqlite.faults = options.faults;
  return open_sqlite_store(sqlite);
}

std::string describe_store(const StoreOptions& options) { return "SQLite file " + options.path; }

bool configure_store_process() { return configure_sqlite_process(); }

}  // namespace webhook::store
