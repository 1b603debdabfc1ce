// The queries README.md shows operators (the ```sql blocks of "## Inspecting the queue"):
// the five sqlite3 ones run with the real sqlite3 program against a populated file, and their
// psql twins with the real psql client against the same data on a throwaway PostgreSQL
// cluster, each answering with at least one row and both giving the same answers.
// Extracted from the README so they cannot drift.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "tests/support/child_process.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::Driver;
using webhook::testing::TestDatabase;

// The client of Debian's postgresql-15, beside the initdb and pg_ctl PostgresCluster runs.
constexpr const char* kPsql = "/usr/lib/postgresql/15/bin/psql";

// The ```sql blocks of one "### " subsection of "## Inspecting the queue".
std::vector<std::string> readme_queries(const std::string& subsection) {
  std::ifstream in(WEBHOOK_SOURCE_DIR "/README.md");
  std::string line, block;
  std::vector<std::string> queries;
  bool in_section = false, in_subsection = false, in_sql = false;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## Inspecting the queue";
    if (line.rfind("### ", 0) == 0) in_subsection = line == "### " + subsection;
    if (!in_section || !in_subsection) continue;
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

std::vector<std::string> sqlite_queries() { return readme_queries("Five questions, in `sqlite3`"); }
std::vector<std::string> psql_queries() { return readme_queries("Five questions, in `psql`"); }

// A day's worth of queue: delivered jobs, failures, a dead job, a pending job overdue and a
// running job whose dispatcher vanished. Job seq 42 (the README's example) failed.
void populate(JobStore& store, int64_t now) {
  const int64_t today = std::max(now - now % 86'400'000, now - 3'600'000);
  testing::enqueue(store, "default", 45, today);
  auto jobs = store.claim("d1", 45, 30s, today);
  std::vector<Outcome> outcomes;
  for (const auto& j : jobs) {
    bool fails = store.job(j.id)->job.seq % 3 == 0;  // 42 among them
    outcomes.push_back(testing::outcome_for(j, "d1",
                                            fails ? OutcomeKind::kRetry : OutcomeKind::kDelivered,
                                            today, fails ? 503 : 200, now - 600'000));
  }
  store.record_outcomes(outcomes, today + 1500);
  testing::enqueue(store, "users", 2, now - 900'000);
  store.claim("d2", 1, 60s, now - 900'000);  // its lease ran out 14 minutes ago
}

// The same queue in a SQLite file and on a PostgreSQL database.
struct PopulatedStores {
  TestDatabase file{Driver::kSqlite};
  TestDatabase server{Driver::kPostgres};
  explicit PopulatedStores(int64_t now) {
    populate(*file.open(), now);
    populate(*server.open(), now);
  }
};

webhook::testing::CommandResult run_sqlite3(const TestDatabase& db, const std::string& query) {
  return webhook::testing::run_command(
      {"/usr/bin/sqlite3", "-readonly", "-bail", db.options().path, query});
}

// Unaligned rows without headers, fields split by '|', NULL as nothing: as sqlite3 prints
// them. Read-only, as the README connects.
webhook::testing::CommandResult run_psql(const TestDatabase& db, const std::string& query) {
  return webhook::testing::run_command(
      {"/usr/bin/env", "PGOPTIONS=-c default_transaction_read_only=on", kPsql, "-X", "-q",
       "--no-align", "--tuples-only", "--field-separator=|", "--set=ON_ERROR_STOP=1",
       "--dbname=" + db.options().url, "--command=" + query});
}

// The rows of an answer, sorted (rows that tie on ORDER BY come in either order), each job's
// UUID (which differs between the two stores) replaced by "<uuid>", and the field at
// `clock_field` (a number of seconds from the moment the query ran, which differs between
// the two runs) left out once checked to be a number.
std::vector<std::string> comparable_rows(const std::string& out, int clock_field) {
  static const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::vector<std::string> rows;
  std::istringstream in(std::regex_replace(out, uuid, "<uuid>"));
  for (std::string line; std::getline(in, line);) {
    if (clock_field >= 0) {
      std::vector<std::string> fields;
      std::istringstream split(line);
      for (std::string f; std::getline(split, f, '|');) fields.push_back(f);
      EXPECT_GT(static_cast<int>(fields.size()), clock_field) << line;
      if (static_cast<int>(fields.size()) <= clock_field) continue;
      EXPECT_TRUE(std::regex_match(fields[clock_field], std::regex("[0-9]+"))) << line;
      line.clear();
      for (int i = 0; i < static_cast<int>(fields.size()); ++i) {
        line += (i == clock_field ? std::string("<seconds>") : fields[i]) + "|";
      }
    }
    rows.push_back(line);
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

TEST(ReadmeQueriesTest, EveryOperatorQueryAnswersOnAPopulatedDatabase) {
  auto queries = sqlite_queries();
  ASSERT_EQ(queries.size(), 5u) << "README.md § Five questions, in `sqlite3` should show five";
  TestDatabase db(Driver::kSqlite);
  populate(*db.open(), SystemClock().now_ms());
  for (const auto& query : queries) {
    auto r = run_sqlite3(db, query);
    EXPECT_EQ(r.exit_code, 0) << query << r.err;
    EXPECT_EQ(r.err, "") << query;
    EXPECT_FALSE(r.out.empty()) << "no rows from:\n" << query;
  }
}

TEST(ReadmeQueriesTest, WhyDidJob42FailShowsItsFailedAttempt) {
  auto queries = sqlite_queries();
  ASSERT_EQ(queries.size(), 5u);
  TestDatabase db(Driver::kSqlite);
  populate(*db.open(), SystemClock().now_ms());
  auto r = run_sqlite3(db, queries[1]);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("|503|"), std::string::npos) << r.out;
  auto stuck = run_sqlite3(db, queries[2]);
  EXPECT_NE(stuck.out.find("running"), std::string::npos) << stuck.out;
  EXPECT_NE(stuck.out.find("pending"), std::string::npos) << stuck.out;
}

TEST(ReadmeQueriesTest, EachPsqlTwinAnswersAsItsSqliteQueryOnTheSameData) {
  auto sqlite = sqlite_queries();
  auto psql = psql_queries();
  ASSERT_EQ(sqlite.size(), 5u);
  ASSERT_EQ(psql.size(), 5u) << "README.md § Five questions, in `psql` should show five";
  PopulatedStores stores(SystemClock().now_ms());
  for (std::size_t i = 0; i < psql.size(); ++i) {
    SCOPED_TRACE(psql[i]);
    auto expected = run_sqlite3(stores.file, sqlite[i]);
    ASSERT_EQ(expected.exit_code, 0) << expected.err;
    auto got = run_psql(stores.server, psql[i]);
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(got.err, "");
    EXPECT_FALSE(got.out.empty()) << "no rows";
    // "How far behind" (the fourth) has the seconds since the cursor as its third column.
    const int clock_field = i == 3 ? 2 : -1;
    EXPECT_EQ(comparable_rows(got.out, clock_field), comparable_rows(expected.out, clock_field))
        << "psql:\n"
        << got.out << "sqlite3:\n"
        << expected.out;
  }
}

// An order key held by a dead job (WEBHOOK_ORDER_ON_DEAD=block) with one job behind it.
void populate_blocked_key(JobStore& store, int64_t now) {
  PollCommit c = testing::make_poll("default", 3, now);
  c.jobs[0].order_key = "indicator--42";
  c.jobs[1].order_key = "indicator--42";
  c.jobs[2].order_key = "indicator--7";
  c.dead_blocks_key = true;
  ASSERT_TRUE(store.commit_poll(c));
  for (const auto& j : store.claim("d1", 10, 30s, now)) {
    const bool first = j.id == c.jobs[0].id;
    store.record_outcomes(
        std::vector{testing::outcome_for(
            j, "d1", first ? OutcomeKind::kDead : OutcomeKind::kDelivered, now, first ? 410 : 200)},
        now + 10);
  }
}

TEST(ReadmeQueriesTest, BlockedKeyQueriesAnswerAlikeOnBothStores) {
  auto queries = readme_queries("Blocked order keys, in `sqlite3` and `psql`");
  ASSERT_EQ(queries.size(), 2u);
  TestDatabase file(Driver::kSqlite), server(Driver::kPostgres);
  const int64_t now = SystemClock().now_ms();
  populate_blocked_key(*file.open(), now);
  populate_blocked_key(*server.open(), now);
  for (const auto& query : queries) {
    SCOPED_TRACE(query);
    auto expected = run_sqlite3(file, query);
    ASSERT_EQ(expected.exit_code, 0) << expected.err;
    auto got = run_psql(server, query);
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(comparable_rows(got.out, -1), comparable_rows(expected.out, -1))
        << "psql:\n"
        << got.out << "sqlite3:\n"
        << expected.out;
  }
  auto blocked = run_sqlite3(file, queries[0]);
  EXPECT_NE(blocked.out.find("default|indicator--42|1|"), std::string::npos) << blocked.out;
  EXPECT_NE(blocked.out.find("|1|HTTP 500"), std::string::npos) << blocked.out;  // one waits
  auto waiting = run_sqlite3(file, queries[1]);
  EXPECT_NE(waiting.out.find("1|dead|1|"), std::string::npos) << waiting.out;
  EXPECT_NE(waiting.out.find("2|pending|0|"), std::string::npos) << waiting.out;
}

}  // namespace
}  // namespace webhook::store
