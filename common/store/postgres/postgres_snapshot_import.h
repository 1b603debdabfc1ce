// The PostgreSQL half of copy-store (common/store/store_snapshot.h): writes every row a
// SnapshotReader gives into an empty PostgreSQL store, in one transaction on a connection
// of its own. Private to common/store; stateless.
#pragma once

#include <string>

#include "common/store/store_snapshot.h"

namespace webhook::store {

// Migrates the store at `url`, then in one transaction, holding the queue's tables against
// other writers: refuses (StoreNotEmpty, nothing written) a store with a row in any table
// but heartbeats, writes every row `source` reads with its ids, seq numbers, states, leases
// and fencing tokens, merges the heartbeats (the newer beat of a worker wins), moves the
// identity sequences past the copied ids so later inserts do not collide, and notifies
// waiting dispatchers. Throws std::runtime_error (masked URL) on any failure; nothing is
// written then.
CopyReport import_postgres_snapshot(const std::string& url, SnapshotReader& source);

}  // namespace webhook::store
