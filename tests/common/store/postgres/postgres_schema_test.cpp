// PostgreSQL-only checks of the schema: processes starting together migrate once, and a
// database written by a newer binary is refused untouched.
#include <libpq-fe.h>

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

#include "common/store/open_store.h"
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
