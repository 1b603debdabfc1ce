// configure_sqlite_process(): SQLite's memory statistics (a global mutex around each of its
// allocations) are off in a process that calls it before using SQLite, and untouched after.
#include <sqlite3.h>

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/store/job_store.h"
#include "common/store/sqlite/sqlite_store.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

TEST(ConfigureSqliteProcessTest, TurnsMemoryStatisticsOffWhenCalledFirst) {
  // "threadsafe" runs the statement in a fresh process, where SQLite is not yet in use.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        bool off = false;
        {
          const bool applied = configure_sqlite_process();
          webhook::testing::TempDir dir;
          auto store = webhook::testing::open_test_store(dir.file("q.db"));
          store->cursor("default");
          // With the statistics off SQLite counts nothing.
          off = applied && sqlite3_memory_used() == 0;
        }
        std::exit(off ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ConfigureSqliteProcessTest, ChangesNothingOnceSqliteIsInUse) {
  webhook::testing::TempDir dir;
  auto store = webhook::testing::open_test_store(dir.file("q.db"));
  EXPECT_FALSE(configure_sqlite_process());
  EXPECT_GT(sqlite3_memory_used(), 0);
}

}  // namespace
}  // namespace webhook::store
