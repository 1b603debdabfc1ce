// Moving a whole queue from one store to another (webhookctl copy-store): a SQLite file
// into an empty PostgreSQL store. The source is read from one read transaction (one
// snapshot) in batches of raw column values, table by table, parents first, and written on
// the target in one transaction, ids, seq numbers, states, leases and fencing tokens kept.
// Driver-neutral types and entry point; the drivers' halves are private to common/store.
// Stateless; thread-safe (each call opens its own connections).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/store/open_store.h"

namespace webhook::store {

// One table of the queue as copy-store moves it. Every column is listed, so a copy leaves
// nothing behind; tests compare this list with both schemas, so a migration that adds a
// column or a table must add it here too.
struct SnapshotTable {
  const char* name;
  const char* columns;   // comma-separated, the same names on both dialects
  const char* order_by;  // the primary key: a stable order, parents' keys before children's
  const char* identity;  // the column the server generates (moved past the copy), or null
};

// Parents before children (attempts reference jobs), as a target with foreign keys needs.
std::span<const SnapshotTable> snapshot_tables();

// A table copy-store leaves behind on purpose, and why. Tests check that every table of
// both schemas is either in snapshot_tables() or here.
struct ExcludedTable {
  const char* name;
  const char* reason;
};
std::span<const ExcludedTable> snapshot_excluded_tables();

// A column value as text (integers in decimal, as both databases print them), or NULL.
using SnapshotValue = std::optional<std::string>;

// Some rows of one table, in snapshot_tables() column order.
struct SnapshotBatch {
  const SnapshotTable* table = nullptr;
  std::vector<std::vector<SnapshotValue>> rows;
};

// Reads a store's rows batch by batch from one snapshot. Owns its connection.
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  // Replaces `batch` with the next rows of one table (at most the reader's batch size);
  // false, `batch` empty, once every table was read.
  virtual bool next(SnapshotBatch& batch) = 0;
};

// Thrown when the target already holds a queue; what() names the tables that have rows.
class StoreNotEmpty : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Rows copied per table, in snapshot_tables() order.
struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> rows;
};

// Copies the SQLite store `from` names (an existing file; migrated to this binary's schema
// first, as the processes would) into the PostgreSQL store `to` names (migrated, and it
// must hold no row in any table), in one transaction on `to`: it lands whole or not at
// all. `batch` rows per table are in memory at a time.
// Throws std::invalid_argument when `from` is not a file store or `to` not a server store,
// StoreNotEmpty (nothing written) for a non-empty target, std::runtime_error for anything
// else (nothing written either). Messages never hold the URL's password.
CopyReport copy_store(const StoreOptions& from, const StoreOptions& to, int batch = 2000);

}  // namespace webhook::store
