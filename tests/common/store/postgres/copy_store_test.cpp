// Moving a queue from a SQLite file into an empty PostgreSQL store (store::copy_store), on a
// real file and the real throwaway cluster: every row arrives field by field as the
// driver-neutral operator queries see it, the dispatcher's and poller's operations carry on
// from it, a non-empty target is refused, and a copy that fails midway leaves nothing.
#include <libpq-fe.h>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "common/store/store_snapshot.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using testing::Driver;
using testing::outcome_for;

constexpr int64_t kT = 1'700'000'000'000;

void expect_same_job(const JobRow& a, const JobRow& b) {
  SCOPED_TRACE("job " + a.id);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.feed, b.feed);
  EXPECT_EQ(a.poll_id, b.poll_id);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.headers.dump(), b.headers.dump());  // key order too
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  EXPECT_EQ(a.next_attempt_at, b.next_attempt_at);
  EXPECT_EQ(a.lease_owner, b.lease_owner);
  EXPECT_EQ(a.lease_expires_at, b.lease_expires_at);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.last_status, b.last_status);
  EXPECT_EQ(a.last_error, b.last_error);
  EXPECT_EQ(a.order_key, b.order_key);
  EXPECT_EQ(a.dead_blocks_key, b.dead_blocks_key);
}

void expect_same_attempts(const std::vector<AttemptRow>& a, const std::vector<AttemptRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].number, b[i].number);
    EXPECT_EQ(a[i].started_at, b[i].started_at);
    EXPECT_EQ(a[i].duration_ms, b[i].duration_ms);
    EXPECT_EQ(a[i].http_status, b[i].http_status);
    EXPECT_EQ(a[i].error, b[i].error);
    EXPECT_EQ(a[i].response_head, b[i].response_head);
    EXPECT_EQ(a[i].worker, b[i].worker);
  }
}

void expect_same_poll(const PollRow& x, const PollRow& y) {
  SCOPED_TRACE("poll " + std::to_string(x.id));
  const PollRecord& a = x.record;
  const PollRecord& b = y.record;
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(a.feed, b.feed);
  EXPECT_EQ(a.started_at, b.started_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.window_from, b.window_from);
  EXPECT_EQ(a.window_to, b.window_to);
  EXPECT_EQ(a.items_found, b.items_found);
  EXPECT_EQ(a.jobs_enqueued, b.jobs_enqueued);
  EXPECT_EQ(a.duplicates_skipped, b.duplicates_skipped);
  EXPECT_EQ(a.render_errors, b.render_errors);
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.error, b.error);
}

// The first value `sql` returns on `url`, through libpq directly as psql would.
std::string pg_value(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  PGresult* r = PQexec(conn, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
  std::string value = ok && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  std::string error = PQerrorMessage(conn);
  PQclear(r);
  PQfinish(conn);
  if (!ok) throw std::runtime_error(sql + ": " + error);
  return value;
}

int64_t rows_in(const StoreOptions& target, const std::string& table) {
  return std::stoll(pg_value(target.url, "SELECT count(*) FROM " + table));
}

class CopyStoreTest : public ::testing::Test {
 protected:
  // A source with jobs in every state (one still running under its lease), attempts, a
  // failed poll, two cursors, seen hashes and heartbeats.
  void SetUp() override {
    from_.path = dir_.file("source.db");
    source_ = testing::open_test_store(from_.path);
    PollCommit first = testing::make_poll("works", 6, kT);
    first.jobs[5].dead = true;  // could not be rendered
    first.jobs[5].last_error = "render error: no such field";
    first.jobs[5].body = R"({"item": 1})";
    first.jobs[0].method = "POST";
    first.jobs[0].headers = {{"X-Order", "b"}, {"Content-Type", "application/json"}};
    first.jobs[0].body = "payload é\n\"quoted\"";
    // Ordered jobs, coalesced: jobs[3] is superseded by jobs[4] of the same key.
    first.jobs[3].order_key = "indicator--1";
    first.jobs[4].order_key = "indicator--1";
    first.dead_blocks_key = true;
    first.coalesce = true;
    hash_ = first.seen_hashes[0];
    ASSERT_TRUE(source_->commit_poll(first));
    testing::enqueue(*source_, "users", 3, kT + 1000);
    PollCommit failed;
    failed.poll = {"users",
                   kT + 2000,
                   kT + 2100,
                   kT + 1000,
                   kT + 2000,
                   0,
                   0,
                   0,
                   0,
                   false,
                   "HTTP 502 from OpenCTI"};
    failed.expected_cursor = kT + 1000;
    ASSERT_TRUE(source_->commit_poll(failed));

    auto claimed = source_->claim("d1", 4, 30s, kT + 3000);
    ASSERT_EQ(claimed.size(), 4u);
    source_->record_outcomes(
        std::vector{
            outcome_for(claimed[0], "d1", OutcomeKind::kDelivered, kT + 3000),
            outcome_for(claimed[1], "d1", OutcomeKind::kDead, kT + 3000, 500),
            outcome_for(claimed[2], "d1", OutcomeKind::kRetry, kT + 3000, std::nullopt, kT + 9000)},
        kT + 3100);
    running_ = claimed[3];  // still running under its lease, until kT + 33000
    ASSERT_EQ(source_->cancel(std::vector{testing::enqueue(*source_, "users", 1, kT + 4000)[0]},
                              kT + 4100),
              1);
    source_->heartbeat("poller", "p1", kT + 5000);
    source_->heartbeat("dispatcher", "d1", kT + 5001);
    // A stream feed: its cursor and one ended connection.
    const int64_t connection = source_->open_stream_connection("live", kT + 6000, "0-0");
    StreamCommit events;
    events.feed = "live";
    events.connection_id = connection;
    events.new_cursor = "1750000006000-3";
    events.events = 3;
    events.heartbeats = 1;
    events.now = kT + 6500;
    ASSERT_TRUE(source_->commit_stream(events));
    source_->close_stream_connection(connection, kT + 7000, 200, "closed by the server");
    // A running poller's lease: live state, which the copy leaves behind.
    ASSERT_TRUE(source_->acquire_feed_lease("works", "old-host:1", std::chrono::hours(1), kT));
  }

  static std::vector<JobRow> all_jobs(JobStore& s) {
    JobFilter f;
    f.limit = 1000;
    return s.list_jobs(f);
  }

  // Rewrites one job's body in the source file with raw bytes, as another tool might have.
  void set_raw_body(int64_t seq, const std::string& hex) {
    SQLite::Database db(from_.path, SQLite::OPEN_READWRITE);
    db.exec("UPDATE jobs SET body = CAST(x'" + hex +
            "' AS TEXT) WHERE seq = " + std::to_string(seq));
  }

  void expect_target_empty(const StoreOptions& to) {
    for (const SnapshotTable& table : snapshot_tables()) {
      EXPECT_EQ(rows_in(to, table.name), 0) << table.name;
    }
  }

  testing::TempDir dir_;
  StoreOptions from_;
  std::unique_ptr<JobStore> source_;
  ClaimedJob running_;
  std::string hash_;
};

TEST_F(CopyStoreTest, EveryRowArrivesAndTheQueueCarriesOn) {
  testing::TestDatabase target_db(Driver::kPostgres);
  // A batch of two rows makes every table but one span several batches.
  CopyReport report = copy_store(from_, target_db.options(), 2);
  auto target = target_db.open();
  EXPECT_TRUE(target->feed_leases().empty());
  // So the new store's poller takes the feed at once, at its first epoch.
  EXPECT_EQ(target->acquire_feed_lease("works", "new-host:2", std::chrono::seconds(15), 0), 1);

  std::map<std::string, int64_t> counts(report.rows.begin(), report.rows.end());
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"cursors", 2},
                                                    {"heartbeats", 2},
                                                    {"polls", 4},
                                                    {"seen_items", 3},
                                                    {"jobs", 10},
                                                    {"attempts", 3},
                                                    {"stream_cursors", 1},
                                                    {"stream_connections", 1}}));

  auto source_jobs = all_jobs(*source_);
  auto target_jobs = all_jobs(*target);
  ASSERT_EQ(source_jobs.size(), 10u);
  ASSERT_EQ(target_jobs.size(), source_jobs.size());
  std::set<JobState> states;
  for (std::size_t i = 0; i < source_jobs.size(); ++i) {
    expect_same_job(source_jobs[i], target_jobs[i]);
    states.insert(source_jobs[i].state);
    auto a = source_->job(source_jobs[i].id);
    auto b = target->job(source_jobs[i].id);
    ASSERT_TRUE(a && b);
    expect_same_attempts(a->attempts, b->attempts);
  }
  EXPECT_EQ(states.size(), 6u) << "the source holds every state";

  auto source_polls = source_->list_polls(std::nullopt, 1000);
  auto target_polls = target->list_polls(std::nullopt, 1000);
  ASSERT_EQ(target_polls.size(), source_polls.size());
  for (std::size_t i = 0; i < source_polls.size(); ++i) {
    expect_same_poll(source_polls[i], target_polls[i]);
  }
  for (const char* feed : {"works", "users"}) {
    EXPECT_EQ(target->cursor(feed), source_->cursor(feed)) << feed;
    EXPECT_EQ(target->seen_since(feed, 0), source_->seen_since(feed, 0)) << feed;
  }
  auto source_status = source_->status();
  auto target_status = target->status();
  ASSERT_EQ(target_status.size(), source_status.size());
  for (std::size_t i = 0; i < source_status.size(); ++i) {
    EXPECT_EQ(target_status[i].feed, source_status[i].feed);
    EXPECT_EQ(target_status[i].counts, source_status[i].counts) << source_status[i].feed;
    EXPECT_EQ(target_status[i].oldest_pending_created_at,
              source_status[i].oldest_pending_created_at);
  }
  EXPECT_EQ(target->stream_cursor("live"), "1750000006000-3");
  auto connections = target->list_stream_connections(std::nullopt, 10);
  ASSERT_EQ(connections.size(), 1u);
  auto original = source_->list_stream_connections(std::nullopt, 10).at(0);
  EXPECT_EQ(connections[0].id, original.id);
  EXPECT_EQ(connections[0].ended_at, kT + 7000);
  EXPECT_EQ(connections[0].last_id, "1750000006000-3");
  EXPECT_EQ(connections[0].events, 3);
  EXPECT_EQ(connections[0].heartbeats, 1);
  EXPECT_EQ(connections[0].http_status, 200);
  EXPECT_EQ(connections[0].end_reason, "closed by the server");
  auto beats = target->heartbeats();
  ASSERT_EQ(beats.size(), 2u);
  EXPECT_EQ(target->last_heartbeat("dispatcher"), kT + 5001);
  EXPECT_EQ(target->last_heartbeat("poller"), kT + 5000);

  // The running job kept its lease and fencing token: an outcome under a stale token is
  // refused, and once the lease runs out the job is taken back and retried, as after any
  // dispatcher crash.
  Outcome stale = outcome_for(running_, "d1", OutcomeKind::kDelivered, kT + 6000);
  stale.lease_token += 1;
  EXPECT_EQ(target->record_outcomes(std::vector{stale}, kT + 6000).applied, 0);
  EXPECT_EQ(target->reclaim_expired_leases(kT + 31'000), 0) << "the lease still holds";
  EXPECT_EQ(target->reclaim_expired_leases(kT + 40'000), 1);

  // The dispatcher claims every due job: three pending, the retried one, the reclaimed one
  // (which holds its order key again).
  auto claimed = target->claim("d2", 100, 30s, kT + 40'000);
  EXPECT_EQ(claimed.size(), 5u);
  for (const ClaimedJob& job : claimed) {
    if (job.id == running_.id) continue;  // its expired lease was charged as an attempt
    auto before = std::find_if(source_jobs.begin(), source_jobs.end(),
                               [&](const JobRow& j) { return j.id == job.id; });
    ASSERT_NE(before, source_jobs.end()) << job.id;
    EXPECT_EQ(job.attempts, before->attempts) << "attempts already charged are kept";
  }
  // The poller resumes from the copied cursor (its expected_cursor matches), a hash seen
  // before the move is still seen, and new rows get fresh ids after the copied ones.
  const std::optional<int64_t> cursor = target->cursor("works");
  ASSERT_EQ(cursor, kT);
  EXPECT_TRUE(target->seen_since("works", *cursor - 5000).contains(hash_));
  PollCommit next = testing::make_poll("works", 1, kT + 50'000, cursor);
  auto poll_id = target->commit_poll(next);
  ASSERT_TRUE(poll_id);
  for (const PollRow& p : source_polls) EXPECT_GT(*poll_id, p.id);
  auto newest = all_jobs(*target).front();
  EXPECT_EQ(newest.id, next.jobs[0].id);
  for (const JobRow& j : source_jobs) EXPECT_GT(newest.seq, j.seq);
  EXPECT_EQ(target->cursor("works"), kT + 50'000);
}

TEST_F(CopyStoreTest, TheCopiedTablesAreEveryTableAndColumnOfBothSchemas) {
  testing::TestDatabase target_db(Driver::kPostgres);
  target_db.open()->cursor("default");  // migrates
  SQLite::Database db(from_.path, SQLite::OPEN_READONLY);
  std::set<std::string> sqlite_tables, postgres_tables, copied;
  {
    SQLite::Statement s(db,
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite_%'");
    while (s.executeStep()) sqlite_tables.insert(s.getColumn(0).getString());
  }
  const std::string names = pg_value(
      target_db.options().url,
      "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables "
      "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> "
      "'schema_version'");
  for (std::size_t at = 0; at <= names.size();) {
    const std::size_t end = std::min(names.find(',', at), names.size());
    postgres_tables.insert(names.substr(at, end - at));
    at = end + 1;
  }
  for (const SnapshotTable& table : snapshot_tables()) {
    copied.insert(table.name);
    SCOPED_TRACE(table.name);
    EXPECT_EQ(db.execAndGet(std::string("SELECT group_concat(name, ', ') FROM (SELECT name FROM "
                                        "pragma_table_info('") +
                            table.name + "') ORDER BY cid)")
                  .getString(),
              table.columns);
    EXPECT_EQ(pg_value(target_db.options().url,
                       std::string("SELECT string_agg(column_name, ', ' ORDER BY "
                                   "ordinal_position) FROM information_schema.columns WHERE "
                                   "table_schema = current_schema() AND table_name = '") +
                           table.name + "'"),
              table.columns);
  }
  // Left behind on purpose (each with its reason), and never also copied.
  for (const ExcludedTable& table : snapshot_excluded_tables()) {
    EXPECT_FALSE(copied.contains(table.name)) << table.name;
    EXPECT_NE(std::string(table.reason), "") << table.name;
    copied.insert(table.name);
  }
  EXPECT_EQ(copied, sqlite_tables);
  EXPECT_EQ(copied, postgres_tables);
}

TEST_F(CopyStoreTest, ANonEmptyTargetIsRefusedAndLeftAlone) {
  testing::TestDatabase target_db(Driver::kPostgres);
  auto target = target_db.open();
  testing::enqueue(*target, "other", 2, kT);
  try {
    copy_store(from_, target_db.options());
    FAIL() << "copied into a non-empty store";
  } catch (const StoreNotEmpty& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "is not empty: cursors (1 row), polls (1 row), seen_items (1 row), jobs (2 "
                  "rows)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(all_jobs(*target).size(), 2u);
  EXPECT_FALSE(target->cursor("works"));
  EXPECT_TRUE(target->heartbeats().empty());
}

TEST_F(CopyStoreTest, ACursorAloneMakesTheTargetNonEmpty) {
  testing::TestDatabase target_db(Driver::kPostgres);
  auto target = target_db.open();
  target->rewind("works", kT);
  EXPECT_THROW(copy_store(from_, target_db.options()), StoreNotEmpty);
  EXPECT_TRUE(all_jobs(*target).empty());
}

// A dispatcher already started on the empty server leaves a heartbeat, not a queue.
TEST_F(CopyStoreTest, HeartbeatsOfTheTargetDoNotBlockTheCopyAndTheNewerBeatWins) {
  testing::TestDatabase target_db(Driver::kPostgres);
  auto target = target_db.open();
  target->heartbeat("dispatcher", "d1", kT + 9000);  // newer than the copied kT + 5001
  target->heartbeat("dispatcher", "d9", kT + 100);
  copy_store(from_, target_db.options());
  std::map<std::string, int64_t> beats;
  for (const HeartbeatRow& h : target->heartbeats()) beats[h.process + "/" + h.worker] = h.at;
  EXPECT_EQ(beats, (std::map<std::string, int64_t>{{"dispatcher/d1", kT + 9000},
                                                   {"dispatcher/d9", kT + 100},
                                                   {"poller/p1", kT + 5000}}));
  EXPECT_EQ(all_jobs(*target).size(), 10u);
}

// The last job's body is not UTF-8 (written by another tool): the server refuses it after
// every earlier batch went in, and the rollback takes all of them back.
TEST_F(CopyStoreTest, AFailureMidwayLeavesTheTargetEmpty) {
  set_raw_body(all_jobs(*source_).front().seq, "c328ff");
  testing::TestDatabase target_db(Driver::kPostgres);
  try {
    copy_store(from_, target_db.options(), 2);
    FAIL() << "copied a body PostgreSQL cannot hold";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("into jobs failed"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("UTF8"), std::string::npos) << e.what();
  }
  expect_target_empty(target_db.options());
  // Nothing half-done blocks the next attempt once the source is repaired.
  set_raw_body(all_jobs(*source_).front().seq, "6f6b");
  copy_store(from_, target_db.options(), 2);
  EXPECT_EQ(rows_in(target_db.options(), "jobs"), 10);
}

// libpq passes text as C strings: a NUL byte would cut a body short without an error.
TEST_F(CopyStoreTest, ANulByteIsRefusedRatherThanCutShort) {
  const int64_t seq = all_jobs(*source_).back().seq;
  set_raw_body(seq, "61006263");
  testing::TestDatabase target_db(Driver::kPostgres);
  try {
    copy_store(from_, target_db.options(), 2);
    FAIL() << "copied a body with a NUL byte";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("row " + std::to_string(seq) +
                                         " of table jobs holds a NUL byte"),
              std::string::npos)
        << e.what();
  }
  expect_target_empty(target_db.options());
}

TEST_F(CopyStoreTest, TheSourceMustBeAnExistingFileAndTheTargetAServer) {
  testing::TestDatabase target_db(Driver::kPostgres);
  target_db.open()->cursor("default");  // migrates, so its tables can be counted
  StoreOptions missing;
  missing.path = dir_.file("missing.db");
  EXPECT_THROW(copy_store(missing, target_db.options()), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(missing.path));
  EXPECT_THROW(copy_store(target_db.options(), target_db.options()), std::invalid_argument);
  EXPECT_THROW(copy_store(from_, from_), std::invalid_argument);
  expect_target_empty(target_db.options());
}

}  // namespace
}  // namespace webhook::store
