#include "common/store/sqlite/migrator.h"

#include <SQLiteCpp/Column.h>
#include <SQLiteCpp/Statement.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace webhook::store {
namespace {

int user_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

void refuse_if_newer(int found, int known, const std::string& path) {
  if (found > known) {
    throw std::runtime_error("database " + path + " has schema version " + std::to_string(found) +
                             " but this binary knows only up to " + std::to_string(known) +
                             "; it was written by a newer opencti-webhook. Upgrade this "
                             "program (or restore an older backup); the database was left "
                             "untouched");
  }
}

}  // namespace

int migrate(SqliteConnection& connection, std::span<const schema::Migration> migrations) {
  const int latest = migrations.empty() ? 0 : migrations.back().version;
  SQLite::Database& db = connection.db();
  // Fast path without the write lock: already current (the usual start).
  int before = 0;
  connection.read("reading the schema version", [&] { before = user_version(db); });
  refuse_if_newer(before, latest, connection.path());
  if (before == latest) return latest;

  int after = before;
  connection.write("migrating the database schema", [&] {
    // Read again under the lock: another process may have migrated meanwhile.
    int current = user_version(db);
    refuse_if_newer(current, latest, connection.path());
    refuse_if_foreign(db, current, connection.path());
    for (const schema::Migration& m : migrations) {
      if (m.version <= current) continue;
      try {
        db.exec(std::string(m.sql));
      } catch (const SQLite::Exception& e) {
        if (is_busy(e)) throw;
        throw std::runtime_error("migration " + std::string(m.name) + " failed: " + e.what());
      }
      db.exec("PRAGMA user_version = " + std::to_string(m.version));
    }
    after = user_version(db);
  });
  return after;
}

int migrate(SqliteConnection& connection) {
  return migrate(connection, schema::sqlite_migrations());
}

}  // namespace webhook::store
