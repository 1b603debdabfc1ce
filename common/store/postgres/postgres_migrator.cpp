#include "common/store/postgres/postgres_migrator.h"

#include <cstdint>
#include <stdexcept>
#include <string>

#include "schema/migrations.h"

namespace webhook::store {
namespace {

// pg_advisory_xact_lock key of the schema migration (the feeds' cursors use hashed keys).
constexpr int64_t kMigrationLock = 0x77656268'6f6f6b31;  // "webhook1"

}  // namespace

void migrate_postgres(PgConnection& connection) {
  const auto& migrations = schema::postgres_migrations();
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  connection.write("migrating the database schema", [&] {
    // Processes starting together queue here; the first applies, the others find it done.
    connection.exec("locking the schema", "SELECT pg_advisory_xact_lock($1)",
                    PgParams().add(kMigrationLock));
    connection.exec("reading the schema version",
                    "CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
    PgResult r = connection.exec("reading the schema version",
                                 "SELECT coalesce(max(version), 0) FROM schema_version");
    const int64_t current = r.int64(0, 0);
    if (current > latest) {
      throw std::runtime_error(
          "database " + connection.display() + " has schema version " + std::to_string(current) +
          " but this binary knows only up to " + std::to_string(latest) +
          "; it was written by a newer opencti-webhook. Upgrade this program (or restore an "
          "older backup); the database was left untouched");
    }
    for (const schema::Migration& m : migrations) {
      if (m.version <= current) continue;
      connection.exec_script("migration " + std::string(m.name), std::string(m.sql));
      connection.exec_script("recording the schema version",
                             "DELETE FROM schema_version; INSERT INTO schema_version VALUES (" +
                                 std::to_string(m.version) + ")");
    }
  });
}
}  // namespace webhook::store
