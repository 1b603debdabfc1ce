// PostgreSQL-only checks of the schema: processes starting together migrate once, a
// database written by a newer binary is refused untouched, and a database of 001 keeps its
// rows through the ordered-delivery migration.
#include <libpq-fe.h>

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "schema/migrations.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

// Runs `sql` on `url` with libpq directly, as an operator's psql would.
std::string run_sql(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType status = PQresultStatus(r);
  std::string value = status == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  std::string error = PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    throw std::runtime_error(sql + ": " + error);
  }
  return value;
}

TEST(PostgresSchemaTest, ProcessesStartingTogetherMigrateOnce) {
  StoreOptions options;
  options.url = webhook::testing::PostgresCluster::shared().fresh_database();
  std::vector<std::thread> starters;
  std::vector<std::string> errors(4);
  for (int i = 0; i < 4; ++i) {
    starters.emplace_back([&, i] {
      try {
        open_store(options)->cursor("default");
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : starters) t.join();
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(run_sql(options.url, "SELECT count(*) FROM schema_version"), "1");
  EXPECT_EQ(run_sql(options.url,
                    "SELECT count(*) FROM pg_views WHERE viewname IN "
                    "('job_history', 'attempt_log', 'poll_log', 'queue_summary')"),
            "4");
}

TEST(PostgresSchemaTest, TheOrderedDeliveryMigrationKeepsRowsAndAllowsSuperseded) {
  StoreOptions options;
  options.url = webhook::testing::PostgresCluster::shared().fresh_database();
  run_sql(options.url, std::string(schema::postgres_migrations().at(0).sql));
  run_sql(options.url,
          "CREATE TABLE schema_version (version integer NOT NULL); "
          "INSERT INTO schema_version VALUES (1)");
  run_sql(options.url,
          "INSERT INTO jobs (seq, id, feed, method, url, state, attempts, attempt_seq, "
          "max_attempts, next_attempt_at, created_at, updated_at, last_error) VALUES (9, 'b', "
          "'f', 'GET', 'http://r/b', 'pending', 1, 1, 4, 5, 1, 3, 'HTTP 503'); "
          "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, worker) "
          "VALUES (9, 1, 2, 3, 503, 'w')");
  auto store = open_store(options);
  auto b = store->job("9").value();
  EXPECT_EQ(b.job.id, "b");
  EXPECT_EQ(b.job.order_key, std::nullopt);
  ASSERT_EQ(b.attempts.size(), 1u);
  EXPECT_EQ(run_sql(options.url, "SELECT max(version) FROM schema_version"),
            std::to_string(schema::postgres_migrations().back().version));
  const std::string insert =
      "INSERT INTO jobs (id, feed, method, url, state, max_attempts, next_attempt_at, "
      "created_at, updated_at, finished_at) VALUES ";
  EXPECT_NO_THROW(run_sql(options.url, insert + "('s1', 'f', 'GET', 'u', 'superseded', 1, 0, 0, "
                                                "0, 5)"));
  EXPECT_THROW(run_sql(options.url, insert + "('s2', 'f', 'GET', 'u', 'superseded', 1, 0, 0, 0, "
                                             "NULL)"),
               std::runtime_error);
  EXPECT_THROW(run_sql(options.url, insert + "('s3', 'f', 'GET', 'u', 'waiting', 1, 0, 0, 0, "
                                             "NULL)"),
               std::runtime_error);
  EXPECT_EQ(run_sql(options.url,
                    "SELECT count(*) FROM pg_indexes WHERE indexname IN ('jobs_order_open', "
                    "'jobs_order_blocking')"),
            "2");
  EXPECT_EQ(run_sql(options.url, "SELECT count(*) FROM blocked_keys"), "0");
}

// A database of 003 (or of 004/005, which 006 does not depend on) with ordered jobs
// queued, as schema_test.cpp's SQLite one: 006 marks waiting exactly the jobs the old rule
// held back, and the claims go on in the same order.
TEST(PostgresSchemaTest, OrderHeadsMigrationMarksTheJobsQueuedBehindTheirKeys) {
  StoreOptions options;
  options.url = webhook::testing::PostgresCluster::shared().fresh_database();
  int version = 0;
  for (const auto& m : schema::postgres_migrations()) {
    if (m.version >= 6) break;
    run_sql(options.url, std::string(m.sql));
    version = m.version;
  }
  run_sql(options.url,
          "CREATE TABLE schema_version (version integer NOT NULL); "
          "INSERT INTO schema_version VALUES (" +
              std::to_string(version) + ")");
  run_sql(options.url,
          "INSERT INTO jobs (seq, id, feed, method, url, state, attempts, max_attempts, "
          "next_attempt_at, created_at, updated_at, finished_at, lease_owner, lease_expires_at, "
          "order_key, dead_blocks_key) VALUES "
          "(1, 'a1', 'f', 'GET', 'u', 'delivered', 1, 4, 0, 0, 0, 1, NULL, NULL, 'a', 0), "
          "(2, 'a2', 'f', 'GET', 'u', 'running', 0, 4, 0, 0, 0, NULL, 'w', 99, 'a', 0), "
          "(3, 'a3', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, 'a', 0), "
          "(4, 'a4', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, 'a', 0), "
          "(5, 'b5', 'f', 'GET', 'u', 'dead', 4, 4, 0, 0, 0, 1, NULL, NULL, 'b', 1), "
          "(6, 'b6', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, 'b', 1), "
          "(7, 'e7', 'f', 'GET', 'u', 'dead', 4, 4, 0, 0, 0, 1, NULL, NULL, 'e', 1), "
          "(8, 'c8', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, 'c', 0), "
          "(9, 'u9', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, NULL, 0), "
          "(10, 'e10', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, 'e', 0); "
          "SELECT setval(pg_get_serial_sequence('jobs', 'seq'), 10)");
  auto store = open_store(options);
  std::set<std::string> claimed;
  for (const auto& j : store->claim("w", 10, std::chrono::seconds(30), 1'700'000'000'000)) {
    claimed.insert(j.id);
  }
  EXPECT_EQ(claimed, (std::set<std::string>{"c8", "e10", "u9"}));
  // Read after the store's first use, which migrated it.
  EXPECT_EQ(
      run_sql(options.url,
              "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM jobs WHERE order_waits = 1"),
      "3,4,6");
  EXPECT_EQ(store->reclaim_expired_leases(1'700'000'000'000), 1);
  auto again = store->claim("w", 10, std::chrono::seconds(30), 1'700'000'000'000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "a2");
  EXPECT_EQ(run_sql(options.url,
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'jobs_claimable_due'"),
            "1");
}

TEST(PostgresSchemaTest, ADatabaseNewerThanTheBinaryIsRefusedUntouched) {
  StoreOptions options;
  options.url = webhook::testing::PostgresCluster::shared().fresh_database();
  webhook::testing::enqueue(*open_store(options), "default", 1, 1'700'000'000'000);
  run_sql(options.url, "UPDATE schema_version SET version = 999");
  try {
    open_store(options)->cursor("default");
    FAIL() << "a newer database was used";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("schema version 999"), std::string::npos) << e.what();
  }
  EXPECT_EQ(run_sql(options.url, "SELECT version FROM schema_version"), "999");
  EXPECT_EQ(run_sql(options.url, "SELECT count(*) FROM jobs"), "1");
}

}  // namespace
}  // namespace webhook::store
