// Reads a SQLite store's whole content in batches for webhookctl copy-store: one read
// transaction (one snapshot) held from the first batch to the last, each table walked in
// key order (keyset pages, so a big queue never sits in memory at once). Borrows the
// connection; one thread at a time.
#pragma once

#include <SQLiteCpp/Transaction.h>

#include <cstdint>
#include <optional>

#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_connection.h"

namespace webhook::store {

class SqliteSnapshotReader final : public SnapshotReader {
 public:
  SqliteSnapshotReader(SqliteConnection& connection, int batch);
  bool next(StoreSnapshot& batch) override;

 private:
  // Parents before children, as import_snapshot on a server with foreign keys needs.
  enum class Phase { kSmallTables, kPolls, kSeen, kJobs, kAttempts, kDone };
  void read_small_tables(StoreSnapshot& batch);
  bool read_polls(StoreSnapshot& batch);
  bool read_seen(StoreSnapshot& batch);
  bool read_jobs(StoreSnapshot& batch);
  bool read_attempts(StoreSnapshot& batch);

  SqliteConnection& connection_;
  SQLite::Transaction snapshot_;
  const int batch_;
  Phase phase_ = Phase::kSmallTables;
  int64_t after_ = 0;         // the last key read in the current phase
  int64_t after_number_ = 0;  // attempts: the last number within job `after_`
};

}  // namespace webhook::store
