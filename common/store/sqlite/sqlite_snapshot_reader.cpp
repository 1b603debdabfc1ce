#include "common/store/sqlite/sqlite_snapshot_reader.h"

#include <stdexcept>
#include <string>

#include "common/store/sqlite/migrator.h"

namespace webhook::store {
namespace {

// Migrates before the snapshot begins: the columns read are this binary's.
SqliteConnection& migrated(SqliteConnection& connection) {
  migrate(connection);
  return connection;
}

}  // namespace

SqliteSnapshotReader::SqliteSnapshotReader(const SqliteOptions& options, int batch)
    : connection_(options),
      // DEFERRED: a read transaction, whose snapshot starts at the first SELECT below and
      // holds until the last batch; writers are not blocked (WAL) and do not change it.
      snapshot_(migrated(connection_).db(), SQLite::TransactionBehavior::DEFERRED),
      batch_(batch) {
  if (batch < 1) throw std::invalid_argument("copy batch must be at least 1");
}

bool SqliteSnapshotReader::next(SnapshotBatch& batch) {
  batch.rows.clear();
  const auto tables = snapshot_tables();
  try {
    while (table_ < tables.size()) {
      const SnapshotTable& table = tables[table_];
      if (!rows_) {
        rows_ = std::make_unique<SQLite::Statement>(
            connection_.db(), std::string("SELECT ") + table.columns + " FROM " + table.name +
                                  " ORDER BY " + table.order_by);
      }
      batch.table = &table;
      while (static_cast<int>(batch.rows.size()) < batch_ && rows_->executeStep()) {
        std::vector<SnapshotValue>& row = batch.rows.emplace_back();
        row.reserve(static_cast<std::size_t>(rows_->getColumnCount()));
        for (int c = 0; c < rows_->getColumnCount(); ++c) {
          SQLite::Column column = rows_->getColumn(c);
          if (column.isNull()) {
            row.emplace_back(std::nullopt);
          } else if (column.isInteger()) {
            row.emplace_back(std::to_string(column.getInt64()));
          } else {
            row.emplace_back(column.getString());  // all bytes, as stored
          }
        }
      }
      if (static_cast<int>(batch.rows.size()) < batch_) {  // this table is done
        rows_.reset();
        ++table_;
      }
      if (!batch.rows.empty()) return true;
    }
  } catch (const SQLite::Exception& e) {
    throw std::runtime_error("reading " + std::string(tables[table_].name) + " from " +
                             connection_.path() + " failed: " + e.what());
  }
  batch.table = nullptr;
  return false;
}

}  // namespace webhook::store
