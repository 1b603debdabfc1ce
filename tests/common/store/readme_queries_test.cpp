// The sqlite3 queries README.md shows operators (the ```sql blocks of "## Inspecting the
// queue") run with the real sqlite3 program against a populated database, each answering
// with at least one row. Extracted from the README so they cannot drift.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "tests/support/child_process.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> readme_queries() {
  std::ifstream in(WEBHOOK_SOURCE_DIR "/README.md");
  std::string line, block;
  std::vector<std::string> queries;
  bool in_section = false, in_sql = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Inspecting the queue";
    if (!in_section) continue;
    if (!in_sql && line == "```sql") {
      in_sql = true;
      block.clear();
    } else if (in_sql && line == "```") {
      in_sql = false;
      queries.push_back(block);
    } else if (in_sql) {
      block += line + "\n";
    }
  }
  return queries;
}

// A day's worth of queue: delivered jobs, failures, a dead job, a pending job overdue and a
// running job whose dispatcher vanished. Job seq 42 (the README's example) failed.
void populate(const std::string& path, int64_t now) {
  auto store = testing::open_test_store(path);
  const int64_t today = std::max(now - now % 86'400'000, now - 3'600'000);
  testing::enqueue(*store, "default", 45, today);
  auto jobs = store->claim("d1", 45, 30s, today);
  std::vector<Outcome> outcomes;
  for (const auto& j : jobs) {
    bool fails = store->job(j.id)->job.seq % 3 == 0;  // 42 among them
    outcomes.push_back(testing::outcome_for(j, "d1",
                                            fails ? OutcomeKind::kRetry : OutcomeKind::kDelivered,
                                            today, fails ? 503 : 200, now - 600'000));
  }
  store->record_outcomes(outcomes, today + 1500);
  testing::enqueue(*store, "users", 2, now - 900'000);
  store->claim("d2", 1, 60s, now - 900'000);  // its lease ran out 14 minutes ago
}

TEST(ReadmeQueriesTest, EveryOperatorQueryAnswersOnAPopulatedDatabase) {
  auto queries = readme_queries();
  ASSERT_EQ(queries.size(), 5u) << "README.md § Inspecting the queue should show five queries";
  webhook::testing::TempDir dir;
  const std::string db = dir.file("webhook.db");
  populate(db, SystemClock().now_ms());
  for (const auto& query : queries) {
    auto r = webhook::testing::run_command({"/usr/bin/sqlite3", "-readonly", "-bail", db, query});
    EXPECT_EQ(r.exit_code, 0) << query << r.err;
    EXPECT_EQ(r.err, "") << query;
    EXPECT_FALSE(r.out.empty()) << "no rows from:\n" << query;
  }
}

TEST(ReadmeQueriesTest, WhyDidJob42FailShowsItsFailedAttempt) {
  auto queries = readme_queries();
  ASSERT_EQ(queries.size(), 5u);
  webhook::testing::TempDir dir;
  const std::string db = dir.file("webhook.db");
  populate(db, SystemClock().now_ms());
  auto r = webhook::testing::run_command({"/usr/bin/sqlite3", "-readonly", db, queries[1]});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("|503|"), std::string::npos) << r.out;
  auto stuck = webhook::testing::run_command({"/usr/bin/sqlite3", "-readonly", db, queries[2]});
  EXPECT_NE(stuck.out.find("running"), std::string::npos) << stuck.out;
  EXPECT_NE(stuck.out.find("pending"), std::string::npos) << stuck.out;
}

}  // namespace
}  // namespace webhook::store
