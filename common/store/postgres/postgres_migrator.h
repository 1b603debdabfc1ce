// Brings a PostgreSQL database's schema up to date (schema/postgres/), under an advisory
// lock so that processes starting together apply each migration once. Stateless.
#pragma once

#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

// Throws std::runtime_error when the database is newer than this binary (left untouched).
void migrate_postgres(PgConnection& connection);

}  // namespace webhook::store
