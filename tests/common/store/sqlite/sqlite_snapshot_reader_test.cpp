// The SQLite half of copy-store on a real file: it reads every table in batches from one
// snapshot, so a poll committed by another connection halfway through is not half copied.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>

#include "common/store/sqlite/sqlite_snapshot_reader.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

constexpr int64_t kT = 1'700'000'000'000;

TEST(SqliteSnapshotReader, ReadsEveryTableInBatchesFromOneSnapshot) {
  testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("q.db");
  auto writer = testing::open_test_store(options.path);
  testing::enqueue(*writer, "works", 5, kT);

  SqliteSnapshotReader reader(options, 2);
  std::map<std::string, std::size_t> rows;
  SnapshotBatch batch;
  ASSERT_TRUE(reader.next(batch));
  EXPECT_EQ(std::string(batch.table->name), "cursors");
  rows[batch.table->name] += batch.rows.size();
  // Another connection commits a poll with three more jobs while the copy reads.
  testing::enqueue(*writer, "works", 3, kT + 1000);
  while (reader.next(batch)) {
    EXPECT_LE(batch.rows.size(), 2u);
    EXPECT_FALSE(batch.rows.empty());
    const std::string_view columns(batch.table->columns);
    const auto width =
        static_cast<std::size_t>(std::count(columns.begin(), columns.end(), ',')) + 1;
    for (const auto& row : batch.rows) EXPECT_EQ(row.size(), width) << batch.table->name;
    rows[batch.table->name] += batch.rows.size();
  }
  EXPECT_EQ(batch.table, nullptr);
  EXPECT_TRUE(batch.rows.empty());
  EXPECT_EQ(rows, (std::map<std::string, std::size_t>{
                      {"cursors", 1}, {"polls", 1}, {"seen_items", 1}, {"jobs", 5}}))
      << "the snapshot of the first read, without the poll committed after it";
}

TEST(SqliteSnapshotReader, AMissingFileIsAnErrorAndIsNotCreated) {
  testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("missing.db");
  options.create_if_missing = false;
  EXPECT_THROW(SqliteSnapshotReader(options, 10), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(options.path));
}

}  // namespace
}  // namespace webhook::store
