// The schema and the connection: migrations (fresh, idempotent, upgrade, refused when newer,
// concurrent start), constraints that reject impossible rows, the claim's index, file mode.
#include <sys/stat.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/store/job_store.h"
#include "common/store/sqlite/migrator.h"
#include "common/store/sqlite/sqlite_lease_queue.h"
#include "common/store/sqlite/sqlite_store.h"
#include "schema/migrations.h"
#include "tests/support/forked_child.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

int latest_version() { return schema::sqlite_migrations().back().version; }

int user_version(const std::string& path) {
  SQLite::Database db(path);
  return db.execAndGet("PRAGMA user_version").getInt();
}

TEST(SchemaTest, MigrationsAreNumberedFromOne) {
  const auto& all = schema::sqlite_migrations();
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all[0].version, 1);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i].version, all[i - 1].version);
  EXPECT_EQ(all[0].name, "sqlite/001_init.sql");
}

TEST(SchemaTest, FreshDatabaseGetsEveryTableAndView) {
  webhook::testing::TempDir dir;
  testing::open_test_store(dir.file("a.db"));
  SQLite::Database db(dir.file("a.db"));
  for (const char* name :
       {"cursors", "polls", "jobs", "attempts", "seen_items", "heartbeats", "job_history",
        "attempt_log", "poll_log", "queue_summary", "blocked_keys"}) {
    SQLite::Statement s(db, "SELECT count(*) FROM sqlite_schema WHERE name = ?");
    s.bind(1, name);
    s.executeStep();
    EXPECT_EQ(s.getColumn(0).getInt(), 1) << name;
  }
  EXPECT_EQ(user_version(dir.file("a.db")), latest_version());
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(SchemaTest, OpeningAgainChangesNothing) {
  webhook::testing::TempDir dir;
  auto first = testing::open_test_store(dir.file("a.db"));
  testing::enqueue(*first, "default", 2, kNow);
  first.reset();
  auto second = testing::open_test_store(dir.file("a.db"));
  EXPECT_EQ(second->list_jobs({}).size(), 2u);
  EXPECT_EQ(user_version(dir.file("a.db")), latest_version());
}

TEST(SchemaTest, DatabaseNewerThanTheBinaryIsRefusedUntouched) {
  webhook::testing::TempDir dir;
  testing::open_test_store(dir.file("a.db"));
  {
    SQLite::Database db(dir.file("a.db"), SQLite::OPEN_READWRITE);
    db.exec("PRAGMA user_version = " + std::to_string(latest_version() + 1));
  }
  try {
    testing::open_test_store(dir.file("a.db"));
    FAIL() << "a newer database was opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(dir.file("a.db")), std::string::npos) << e.what();
  }
  EXPECT_EQ(user_version(dir.file("a.db")), latest_version() + 1);
}

TEST(SchemaTest, OlderDatabaseIsUpgradedKeepingItsData) {
  webhook::testing::TempDir dir;
  std::vector<schema::Migration> v1{{1, "001_a.sql", "CREATE TABLE t (x INTEGER);"}};
  std::vector<schema::Migration> v2 = v1;
  v2.push_back({2, "002_b.sql", "ALTER TABLE t ADD COLUMN y INTEGER NOT NULL DEFAULT 7;"});
  SqliteOptions options;
  options.path = dir.file("m.db");
  {
    SqliteConnection c(options);
    EXPECT_EQ(migrate(c, v1), 1);
    c.db().exec("INSERT INTO t (x) VALUES (42)");
  }
  SqliteConnection c(options);
  EXPECT_EQ(migrate(c, v2), 2);
  EXPECT_EQ(migrate(c, v2), 2);
  EXPECT_EQ(c.db().execAndGet("SELECT x + y FROM t").getInt(), 49);
}

// 007 gives each unfinished ordered job of a queue of 006 its successor, and marks the
// finished jobs that have an earlier unfinished job of their key as finished out of turn, so
// the queue goes on in order: the pending head, then the next unfinished job past one
// cancelled while it waited, while a key whose jobs are all finished takes a new job at once.
TEST(SchemaTest, OrderSuccessorsMigrationKeepsAQueuedKeysOrder) {
  webhook::testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("v6.db");
  const auto& all = schema::sqlite_migrations();
  const auto v6 =
      std::count_if(all.begin(), all.end(), [](const auto& m) { return m.version <= 6; });
  {
    SqliteConnection c(options);
    ASSERT_EQ(migrate(c, std::span(all).first(static_cast<std::size_t>(v6))), 6);
    c.db().exec(
        "INSERT INTO jobs (seq, id, feed, method, url, state, attempts, attempt_seq, "
        "max_attempts, next_attempt_at, created_at, updated_at, finished_at, order_key) VALUES "
        "(1, 'a1', 'f', 'POST', 'http://r/1', 'delivered', 1, 1, 4, 0, 1, 1, 1, 'a'), "
        "(2, 'a2', 'f', 'POST', 'http://r/2', 'pending', 1, 1, 4, 0, 1, 1, NULL, 'a'), "
        "(3, 'a3', 'f', 'POST', 'http://r/3', 'cancelled', 0, 0, 4, 0, 1, 1, 1, 'a'), "
        "(4, 'a4', 'f', 'POST', 'http://r/4', 'pending', 0, 0, 4, 0, 1, 1, NULL, 'a'), "
        "(5, 'b1', 'f', 'POST', 'http://r/5', 'delivered', 1, 1, 4, 0, 1, 1, 1, 'b')");
  }
  auto store = open_sqlite_store(options);
  {
    SQLite::Database db(options.path, SQLite::OPEN_READONLY);
    SQLite::Statement s(db,
                        "SELECT group_concat(seq || ':' || coalesce(order_next, '-') || ':' || "
                        "order_waits, ' ') FROM (SELECT * FROM jobs ORDER BY seq)");
    ASSERT_TRUE(s.executeStep());
    EXPECT_EQ(s.getColumn(0).getString(), "1:-:0 2:4:0 3:-:1 4:-:1 5:-:0");
  }
  constexpr int64_t kNow = 1'700'000'000'000;
  auto claimed = store->claim("w", 10, std::chrono::seconds(30), kNow);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].id, "a2");
  PollCommit c = webhook::testing::make_poll("f", 2, kNow, store->cursor("f"));
  c.jobs[0].order_key = "b";
  c.jobs[1].order_key = "a";
  ASSERT_TRUE(store->commit_poll(c));
  ASSERT_EQ(store
                ->record_outcomes(std::vector{webhook::testing::outcome_for(
                                      claimed[0], "w", OutcomeKind::kDelivered, kNow + 1)},
                                  kNow + 1)
                .applied,
            1);
  std::set<std::string> next;
  for (const auto& j : store->claim("w", 10, std::chrono::seconds(30), kNow + 1)) next.insert(j.id);
  EXPECT_EQ(next, (std::set<std::string>{"a4", c.jobs[0].id}));
}

// 003 rebuilds jobs and attempts to add `superseded` to the CHECKs: a database of 001 with
// history keeps every row, seq and attempt, its foreign key and cascade, and its indexes.
TEST(SchemaTest, OrderedDeliveryMigrationKeepsEveryRowIndexAndForeignKey) {
  webhook::testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("old.db");
  const auto& all = schema::sqlite_migrations();
  {
    SqliteConnection c(options);
    ASSERT_EQ(migrate(c, std::span(all).first(1)), 1);
    c.db().exec(
        "INSERT INTO jobs (seq, id, feed, method, url, state, attempts, attempt_seq, "
        "max_attempts, next_attempt_at, created_at, updated_at, finished_at, last_status, "
        "last_error) VALUES (7, 'a', 'f', 'GET', 'http://r/a', 'delivered', 1, 1, 4, 0, 1, 2, 2, "
        "200, ''), (9, 'b', 'f', 'POST', 'http://r/b', 'pending', 1, 2, 4, 5, 1, 3, NULL, 503, "
        "'HTTP 503')");
    c.db().exec(
        "INSERT INTO attempts (job_seq, number, started_at, duration_ms, http_status, worker) "
        "VALUES (7, 1, 2, 3, 200, 'w'), (9, 1, 2, 3, 500, 'w'), (9, 2, 3, 4, 503, 'w')");
  }
  auto store = open_sqlite_store(options);
  EXPECT_EQ(user_version(options.path), latest_version());
  auto b = store->job("9").value();
  EXPECT_EQ(b.job.id, "b");
  EXPECT_EQ(b.job.state, JobState::kPending);
  EXPECT_EQ(b.job.last_error, "HTTP 503");
  EXPECT_EQ(b.job.order_key, std::nullopt);
  ASSERT_EQ(b.attempts.size(), 2u);
  EXPECT_EQ(b.attempts[1].http_status, 503);
  // The old pending job is claimed as before, numbered after its attempts.
  auto claimed = store->claim("w", 10, std::chrono::seconds(30), kNow);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].attempt_number, 3);
  SQLite::Database db(options.path, SQLite::OPEN_READWRITE);
  db.exec("PRAGMA foreign_keys = ON");
  EXPECT_EQ(db.execAndGet("PRAGMA integrity_check").getString(), "ok");
  EXPECT_FALSE(SQLite::Statement(db, "PRAGMA foreign_key_check").executeStep());
  for (const char* index :
       {"jobs_claimable_due", "jobs_running_lease", "jobs_order_key", "jobs_order_blocking"}) {
    SQLite::Statement s(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?");
    s.bind(1, index);
    s.executeStep();
    EXPECT_EQ(s.getColumn(0).getInt(), 1) << index;
  }
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_new'").getInt(),
            0);
  // attempts still refers to jobs, cascading.
  EXPECT_THROW(db.exec("INSERT INTO attempts (job_seq, number, started_at, duration_ms, worker) "
                       "VALUES (12345, 1, 0, 0, 'w')"),
               SQLite::Exception);
  db.exec("DELETE FROM jobs WHERE seq = 7");
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attempts WHERE job_seq = 7").getInt(), 0);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM attempts").getInt(), 2);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM job_history").getInt(), 1);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM blocked_keys").getInt(), 0);
}

TEST(SchemaTest, FailingMigrationKeepsNothingOfTheRun) {
  webhook::testing::TempDir dir;
  std::vector<schema::Migration> bad{{1, "001_a.sql", "CREATE TABLE t (x INTEGER);"},
                                     {2, "002_b.sql", "CREATE TABLE oops (;"}};
  SqliteOptions options;
  options.path = dir.file("m.db");
  SqliteConnection c(options);
  try {
    migrate(c, bad);
    FAIL() << "a broken migration was applied";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("002_b.sql"), std::string::npos) << e.what();
  }
  EXPECT_EQ(c.db().execAndGet("PRAGMA user_version").getInt(), 0);
  EXPECT_FALSE(c.db().tableExists("t"));
}

TEST(SchemaTest, ProcessesStartingTogetherMigrateOnce) {
  webhook::testing::TempDir dir;
  const std::string path = dir.file("sub/folder/race.db");
  webhook::testing::SignalPipe go;
  std::vector<pid_t> children;
  for (int i = 0; i < 6; ++i) {
    children.push_back(webhook::testing::fork_child([&] {
      if (!go.wait(std::chrono::seconds(30))) return 3;
      SqliteOptions options;
      options.path = path;
      options.busy_timeout = std::chrono::milliseconds(50);  // exercise the retry, not the wait
      auto store = open_sqlite_store(options);
      store->heartbeat("dispatcher", "child", kNow);
      return 0;
    }));
  }
  for (std::size_t i = 0; i < children.size(); ++i) go.notify();
  for (pid_t pid : children) EXPECT_EQ(webhook::testing::wait_child(pid), 0);
  EXPECT_EQ(user_version(path), latest_version());
  SQLite::Database db(path);
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM heartbeats").getInt(), 1);
}

TEST(SchemaTest, ConstraintsRejectImpossibleRows) {
  webhook::testing::TempDir dir;
  auto store = testing::open_test_store(dir.file("c.db"));
  testing::enqueue(*store, "default", 1, kNow);
  SQLite::Database db(dir.file("c.db"), SQLite::OPEN_READWRITE);
  db.exec("PRAGMA foreign_keys = ON");
  const char* kInsert =
      "INSERT INTO jobs (id, feed, method, url, state, attempts, max_attempts, next_attempt_at, "
      "created_at, updated_at, finished_at, lease_owner, lease_expires_at) VALUES ";
  const std::vector<std::string> impossible = {
      std::string(kInsert) + "('x1','f','GET','u','waiting',0,3,0,0,0,NULL,NULL,NULL)",
      std::string(kInsert) + "('x2','f','GET','u','pending',-1,3,0,0,0,NULL,NULL,NULL)",
      std::string(kInsert) + "('x3','f','GET','u','pending',4,3,0,0,0,NULL,NULL,NULL)",
      std::string(kInsert) + "('x4','f','GET','u','running',0,3,0,0,0,NULL,NULL,NULL)",
      std::string(kInsert) + "('x5','f','GET','u','delivered',1,3,0,0,0,NULL,NULL,NULL)",
      std::string(kInsert) + "('x6','f','GET','u','pending',0,3,0,0,0,5,NULL,NULL)",
      std::string(kInsert) + "('x7','f','GET','u','pending',0,'many',0,0,0,NULL,NULL,NULL)",
      std::string(kInsert) + "('x8','f','GET','u','superseded',0,3,0,0,0,NULL,NULL,NULL)",
      "INSERT INTO attempts (job_seq, number, started_at, duration_ms, worker) "
      "VALUES (987654, 1, 0, 0, 'w')",
      "INSERT INTO polls (feed, started_at, finished_at, window_from, window_to, status) "
      "VALUES ('f', 0, 0, 0, 0, 'maybe')",
      "INSERT INTO polls (feed, started_at, finished_at, window_from, window_to, status, "
      "items_found) VALUES ('f', 0, 0, 0, 0, 'ok', -3)",
      "INSERT INTO heartbeats (process, worker, at) VALUES ('cron', 'w', 0)",
  };
  for (const auto& sql : impossible) EXPECT_THROW(db.exec(sql), SQLite::Exception) << sql;
  EXPECT_NO_THROW(
      db.exec(std::string(kInsert) + "('ok1','f','GET','u','pending',0,3,0,0,0,NULL,NULL,NULL)"));
  EXPECT_NO_THROW(
      db.exec(std::string(kInsert) + "('ok2','f','GET','u','superseded',0,3,0,0,0,5,NULL,NULL)"));
}

TEST(SchemaTest, ClaimReadsTheClaimableIndexNotTheHistoryNorTheWaitingJobs) {
  webhook::testing::TempDir dir;
  testing::open_test_store(dir.file("p.db"));
  SQLite::Database db(dir.file("p.db"));
  for (const char* sql : {kClaimSelectSql, kClaimSql, kNextDueSql}) {
    SQLite::Statement plan(db, std::string("EXPLAIN QUERY PLAN ") + sql);
    std::string details;
    while (plan.executeStep()) details += plan.getColumn(3).getString() + "\n";
    EXPECT_NE(details.find("jobs_claimable_due"), std::string::npos) << details;
    // The order rule costs the claim nothing: the triggers keep order_waits.
    EXPECT_EQ(details.find("jobs_order_"), std::string::npos) << details;
    EXPECT_EQ(details.find("SCAN jobs\n"), std::string::npos) << details;
  }
}

// A database of 003 (or of 004/005, which 006 does not depend on) with ordered jobs
// queued: 006 marks waiting exactly the jobs the old rule held back, and the claims then go
// on in the same order.
TEST(SchemaTest, OrderHeadsMigrationMarksTheJobsQueuedBehindTheirKeys) {
  webhook::testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("old.db");
  const auto& all = schema::sqlite_migrations();
  std::vector<schema::Migration> before;
  for (const auto& m : all) {
    if (m.version < 6) before.push_back(m);
  }
  {
    SqliteConnection c(options);
    ASSERT_EQ(migrate(c, before), before.back().version);
    // Key a: 1 delivered, 2 running, 3 and 4 pending (wait). Key b: 5 dead under block, 6
    // pending under block (held). Key e: 7 dead under block, 10 pending under skip (goes).
    // Key c: 8 pending. Unordered: 9.
    c.db().exec(
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
        "(10, 'e10', 'f', 'GET', 'u', 'pending', 0, 4, 0, 0, 0, NULL, NULL, NULL, 'e', 0)");
  }
  auto store = open_sqlite_store(options);
  SQLite::Database db(options.path);
  SQLite::Statement waits(db,
                          "SELECT group_concat(seq) FROM (SELECT seq FROM jobs WHERE "
                          "order_waits = 1 ORDER BY seq)");
  ASSERT_TRUE(waits.executeStep());
  EXPECT_EQ(waits.getColumn(0).getString(), "3,4,6");
  std::set<std::string> claimed;
  for (const auto& j : store->claim("w", 10, std::chrono::seconds(30), kNow)) claimed.insert(j.id);
  EXPECT_EQ(claimed, (std::set<std::string>{"c8", "e10", "u9"}));
  // The old running job's lease runs out: it goes again first, still ahead of a3.
  EXPECT_EQ(store->reclaim_expired_leases(kNow), 1);
  auto again = store->claim("w", 10, std::chrono::seconds(30), kNow);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, "a2");
}

TEST(SchemaTest, FileIsCreatedWithMode0640InAMissingFolder) {
  webhook::testing::TempDir dir;
  const std::string path = dir.file("state/deeper/webhook.db");
  mode_t old = ::umask(0);
  auto store = testing::open_test_store(path);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_EQ(::stat((path + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST(SchemaTest, MissingFileIsAnErrorWhenCreationIsNotWanted) {
  webhook::testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("absent.db");
  options.create_if_missing = false;
  try {
    open_sqlite_store(options);
    FAIL() << "opened a missing database";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("absent.db")));
}

TEST(SchemaTest, UnknownSynchronousModeIsRefused) {
  webhook::testing::TempDir dir;
  SqliteOptions options;
  options.path = dir.file("s.db");
  options.synchronous = "SOMETIMES";
  EXPECT_THROW(open_sqlite_store(options), std::runtime_error);
}

TEST(SchemaTest, JobIdsAreTimeOrderedUuidVersion7) {
  std::string a = make_job_id(kNow);
  std::string b = make_job_id(kNow + 1);
  EXPECT_EQ(a.size(), 36u);
  EXPECT_EQ(a[14], '7');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_LT(a, b);
  EXPECT_NE(make_job_id(kNow), make_job_id(kNow));
}

}  // namespace
}  // namespace webhook::store
