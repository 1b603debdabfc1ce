// Writing a whole queue read from another store (webhookctl copy-store) into an empty
// PostgreSQL store, for PostgresJobStore::import_snapshot. Private to the driver; stateless.
#pragma once

#include "common/store/job_store.h"
#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

// In one transaction on `connection`, holding the queue's tables against other writers:
// refuses (StoreNotEmpty, nothing written) a store with any job, poll or cursor, writes
// every row `source` reads with its ids, seq numbers and states, and moves the identity
// sequences past the copied ids so later inserts do not collide.
void import_postgres_snapshot(PgConnection& connection, SnapshotReader& source);

}  // namespace webhook::store
