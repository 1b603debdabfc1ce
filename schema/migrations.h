// The SQL migrations compiled into every binary, generated at build time from
// schema/NNN_name.sql. Migration N brings a database from user_version N-1 to N.
#pragma once

#include <string_view>
#include <vector>

namespace webhook::schema {

struct Migration {
  int version;            // the user_version after applying it
  std::string_view name;  // file name, for messages
  std::string_view sql;
};

// All migrations in order; versions are 1, 2, 3, ...
const std::vector<Migration>& migrations();

}  // namespace webhook::schema
