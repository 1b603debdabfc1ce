// The order lock of schema/postgres/006_order_heads.sql, taken by the store's code before a
// transaction row-locks jobs whose key's head it will then move. The triggers take it
// themselves, but only at the end of their statement, holding its rows: a dispatcher moving
// a key's head to job N while an operator cancels N (or a poller supersedes it, or a requeue
// marks it waiting) would each hold what the other waits for. Taken first, one of them waits
// for the other's commit instead. The dispatchers' statements that move heads themselves
// (schema/postgres/008_outcomes_move_heads.sql) take it nowhere else: for them it is the
// lock, and their snapshot must be taken after it is granted. Stateless.
#pragma once

#include "common/store/postgres/pg_connection.h"

namespace webhook::store {

// Inside a write transaction; held until it ends. Exclusive: enqueueing ordered jobs,
// coalescing, requeue, cancel, and a dispatcher freeing the heads of keys a job of which it
// ended out of turn (after its outcomes' commit, never in their transaction). Shared:
// dispatchers' outcomes of ordered jobs and leases taken back, in a statement after this one.
inline void lock_order_heads(PgConnection& connection, bool exclusive) {
  connection.exec_prepared(
      "taking the order lock", exclusive ? "order_lock_exclusive" : "order_lock_shared",
      exclusive ? "SELECT webhook_order_lock(true)" : "SELECT webhook_order_lock(false)",
      PgParams());
}

}  // namespace webhook::store
