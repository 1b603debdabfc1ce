// Moves the order keys' heads on SQLite (jobs.order_waits and jobs.order_next,
// schema/sqlite/006_order_heads.sql and 007_order_successors.sql) after the store's code
// changed a job's state: the dispatcher's outcomes, leases taken back, an operator's requeue
// or cancel; and supersedes a key's untried jobs for coalescing. (Enqueues and deletes are
// the schema's triggers' work; an UPDATE trigger would cost every outcome, ordered or not, a
// trigger frame.) Borrows the database, which must outlive it; statements prepared once. One
// thread at a time, inside the write transaction that changed the jobs.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <span>
#include <string>

namespace webhook::store {

class SqliteOrderHeads {
 public:
  explicit SqliteOrderHeads(SQLite::Database& db);

  // Jobs `seqs` were running and have just been given an outcome or taken back (any of them
  // may be unordered, or back to pending for a retry: nothing changes for those). Each that
  // finished in its key's turn lets its successor go (order_next), unless a dead job under
  // `block` holds it; a successor that finished meanwhile or is gone makes it walk the key's
  // jobs after it instead. One statement for them all: two seeks by seq per ordered job.
  void heads_finished(std::span<const int64_t> seqs);
  // The key's jobs changed otherwise (coalescing, a cancel, a dead job under `block` leaving
  // `dead`): its earliest unfinished job goes unless a dead job under `block` holds it. Walks
  // the key's jobs back from the newest to the latest one finished in its turn.
  void key_changed(const std::string& feed, const std::string& key);
  // WEBHOOK_COALESCE: the key's pending jobs that were never tried become superseded (at
  // `now`), then the key's head is chosen again.
  void supersede_untried(const std::string& feed, const std::string& key, int64_t now);
  // The same as key_changed for job `seq`'s key, if it has one.
  void job_changed(int64_t seq);
  // Jobs `seqs` are back from a final state (requeue): each may be ahead of its key's head,
  // even a running one, so from its key's earliest requeued job on every job waits (a
  // finished one is no longer finished in its turn), the unfinished jobs' successors are set
  // again, then the earliest goes. Walks the keys' jobs (operators requeue; dispatchers never
  // do).
  void jobs_reopened(std::span<const int64_t> seqs);

 private:
  SQLite::Statement free_successors_;
  SQLite::Statement free_head_of_key_;
  SQLite::Statement supersede_untried_;
  SQLite::Statement key_of_job_;
  SQLite::Statement earliest_reopened_;
  SQLite::Statement wait_from_;
  SQLite::Statement relink_;
};

}  // namespace webhook::store
