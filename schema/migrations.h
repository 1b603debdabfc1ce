// The SQL migrations compiled into every binary, one list per dialect, generated at build
// time from schema/sqlite/NNN_name.sql and schema/postgres/NNN_name.sql. Migration N brings
// a database from schema version N-1 to N; both dialects describe the same tables, columns,
// states, constraints and views, so migration N means the same schema on either store.
#pragma once

#include <string_view>
#include <vector>

namespace webhook::schema {

struct Migration {
  int version;            // the schema version after applying it
  std::string_view name;  // dialect/file name, for messages
  std::string_view sql;
};

// All migrations in order; versions start at 1 and increase (a number taken by work not yet
// merged may be missing).
const std::vector<Migration>& sqlite_migrations();
const std::vector<Migration>& postgres_migrations();

}  // namespace webhook::schema
