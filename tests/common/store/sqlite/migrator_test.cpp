// The migrator on a database path that points at another application's SQLite file
// (issue 21): the real programs must refuse it, saying so, and add nothing to it.
#include <gtest/gtest.h>

#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using testing::run_command;
using testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
const std::string kDispatcher = WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher";
const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";

// Another application's database: two tables with a row, no user_version.
void make_foreign_database(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)");
  db.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer INTEGER)");
  db.exec("INSERT INTO customers (name) VALUES ('Ada')");
}

std::vector<std::string> tables_of(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
  std::vector<std::string> names;
  while (q.executeStep()) names.push_back(q.getColumn(0).getString());
  return names;
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(Migrator, AnotherApplicationsDatabaseIsRefusedAndKeptAsItWas) {
  TempDir dir;
  const std::string path = dir.file("other-app.db");
  make_foreign_database(path);
  const std::string original = bytes_of(path);  // in rollback-journal mode, as made
  const std::map<std::string, std::string> env = {
      {"WEBHOOK_DATABASE_PATH", path},
      {"OPENCTI_JSON_LOGGING", "false"},
      {"OPENCTI_URL", "http://127.0.0.1:9"},
      {"OPENCTI_TOKEN", "migrator-test-token"},
      {"WEBHOOK_GRAPHQL_QUERY", "{{works{{edges{{node{{id}}}}}}}}"},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
      {"WEBHOOK_URL", "http://127.0.0.1:9/hook"}};
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{kDispatcher, "--once"}, {kPoller, "--once"}, {kCtl, "status"}}) {
    SCOPED_TRACE(argv[0]);
    auto r = run_command(argv, env);
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // the start-up failure path, not a crash
    EXPECT_NE(r.err.find("database " + path +
                         " belongs to another application: it has tables (customers, orders) "
                         "but not opencti-webhook's; check WEBHOOK_DATABASE_PATH"),
              std::string::npos)
        << r.err;
    // Not a byte written: no switch to WAL, no -wal or -shm file beside it.
    EXPECT_EQ(bytes_of(path), original);
    EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
    EXPECT_FALSE(std::filesystem::exists(path + "-shm"));
    EXPECT_EQ(tables_of(path), (std::vector<std::string>{"customers", "orders"}));
  }
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), 0);
  EXPECT_EQ(db.execAndGet("SELECT name FROM customers").getString(), "Ada");
}

// An empty file (touch) is not another application's: it is taken and migrated.
TEST(Migrator, AnEmptyFileIsMigrated) {
  TempDir dir;
  const std::string path = dir.write("empty.db", "");
  auto r = run_command({kCtl, "status"}, {{"WEBHOOK_DATABASE_PATH", path}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto tables = tables_of(path);
  EXPECT_NE(std::find(tables.begin(), tables.end(), "jobs"), tables.end());
}

}  // namespace
}  // namespace webhook::store
