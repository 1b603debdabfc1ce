// Brings a job-store database to the schema this binary was built with, applying the
// embedded migrations (schema/sqlite/NNN_name.sql) in order under PRAGMA user_version, all in one
// BEGIN IMMEDIATE transaction so that processes starting together apply them exactly once.
// Stateless; callers pass the connection they own.
#pragma once

#include <span>

#include "common/store/sqlite/sqlite_connection.h"
#include "schema/migrations.h"

namespace webhook::store {

// Applies the migrations `connection`'s database lacks and returns the schema version it has
// afterwards. Throws std::runtime_error when the database is newer than `migrations` (the
// binary is older than the data; it must not touch it) or a migration fails (nothing of it
// is kept).
int migrate(SqliteConnection& connection, std::span<const schema::Migration> migrations);

// The same with the migrations compiled into this binary.
int migrate(SqliteConnection& connection);

}  // namespace webhook::store
