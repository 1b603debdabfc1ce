// The SQLite half of copy-store (common/store/store_snapshot.h): opens an existing file,
// migrates it to this binary's schema, and reads every table of snapshot_tables() in key
// order from one read transaction held from the first batch to the last, so the copy is one
// consistent snapshot even if a process wrote meanwhile. Each table is walked by one open
// statement, `batch` rows at a time, so a big queue never sits in memory at once.
// Owns its connection; one thread at a time.
#pragma once

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include <cstddef>
#include <memory>

#include "common/store/sqlite/sqlite_connection.h"
#include "common/store/store_snapshot.h"

namespace webhook::store {

class SqliteSnapshotReader final : public SnapshotReader {
 public:
  // REQUIRES: batch >= 1. Throws std::runtime_error (naming the file) when it is missing,
  // not ours, or newer than this binary.
  SqliteSnapshotReader(const SqliteOptions& options, int batch);
  bool next(SnapshotBatch& batch) override;

 private:
  SqliteConnection connection_;
  SQLite::Transaction snapshot_;
  const int batch_;
  std::size_t table_ = 0;                    // the table being read
  std::unique_ptr<SQLite::Statement> rows_;  // its SELECT, stepped across batches
};

}  // namespace webhook::store
