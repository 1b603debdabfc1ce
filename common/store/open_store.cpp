#include "common/store/open_store.h"

#include "common/store/postgres/pg_connection.h"
#include "common/store/postgres/postgres_store.h"
#include "common/store/sqlite/sqlite_store.h"

namespace webhook::store {

std::unique_ptr<JobStore> open_store(const StoreOptions& options) {
  if (is_server_store(options)) {
    PostgresOptions postgres;
    postgres.url = options.url;
    postgres.faults = options.faults;
    return open_postgres_store(postgres);
  }
  SqliteOptions sqlite;
  sqlite.path = options.path;
  sqlite.synchronous = options.durability;
  sqlite.create_if_missing = options.create_if_missing;
  sqlite.faults = options.faults;
  return open_sqlite_store(sqlite);
}

void check_store_options(const StoreOptions& options) {
  if (is_server_store(options)) check_database_url(options.url);
}

std::string describe_store(const StoreOptions& options) {
  if (is_server_store(options)) return "PostgreSQL " + mask_database_url(options.url);
  return "SQLite file " + options.path;
}

bool configure_store_process() { return configure_sqlite_process(); }

}  // namespace webhook::store
