// Moves the order keys' heads on SQLite (jobs.order_waits, schema/sqlite/006_order_heads.sql)
// after the store's code changed a job's state: the dispatcher's outcome, a lease taken back,
// an operator's requeue or cancel, coalescing. (Enqueues and deletes are the schema's
// triggers' work; an UPDATE trigger would cost every outcome, ordered or not, a trigger
// frame.) Borrows the database, which must outlive it; statements prepared once. One thread
// at a time, inside the write transaction that changed the job.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <string>

namespace webhook::store {

class SqliteOrderHeads {
 public:
  explicit SqliteOrderHeads(SQLite::Database& db);

  // Job `seq` reached a final state, or left `dead` (cancelled), or was retried: its key's
  // earliest unfinished job goes unless a dead job under `block` holds it. Nothing changes for
  // an unordered job or a head that is still unfinished. A seek in jobs_order_open and one in
  // jobs_order_blocking.
  void job_changed(int64_t seq);
  // The same for a key, after its jobs changed (coalescing).
  void key_changed(const std::string& feed, const std::string& key);
  // Job `seq` is back from a final state (requeue): it may be ahead of its key's head, even a
  // running one, so every unfinished job of the key waits, then the earliest goes. Walks the
  // key's unfinished jobs (operators requeue; dispatchers never do).
  void job_reopened(int64_t seq);

 private:
  SQLite::Statement free_head_of_job_;
  SQLite::Statement free_head_of_key_;
  SQLite::Statement wait_all_of_job_;
};

}  // namespace webhook::store
