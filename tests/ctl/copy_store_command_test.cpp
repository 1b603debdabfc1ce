// webhookctl copy-store run as a real process: a real SQLite file into a database on the
// throwaway PostgreSQL cluster; what it prints, its exit codes and refusals, and never the
// URL's password.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_opencti.h"
#include "tests/support/fake_records.h"
#include "tests/support/fake_stream.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_receiver.h"

namespace webhook::ctl {
namespace {

using namespace std::chrono_literals;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
const std::string kDispatcher = WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher";
constexpr const char* kPassword = "s3cret-pw-123";
constexpr int64_t kT = 1'700'000'000'000;

class CopyStoreCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::open_test_store(db_);
    ids_ = testing::enqueue(*s, "works", 3, kT);
    s->heartbeat("dispatcher", "d1", kT);  // long stopped
    // The cluster trusts loopback, so the password is accepted and ignored: it is there to
    // prove it is never printed.
    target_.url = testing::PostgresCluster::shared().fresh_database();
    secret_url_ = target_.url;
    secret_url_.replace(secret_url_.find("webhook@"), 8, std::string("webhook:") + kPassword + "@");
  }
  testing::CommandResult copy(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {kCtl, "copy-store"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return testing::run_command(argv, {{"WEBHOOK_DATABASE_PATH", db_}});
  }
  void expect_no_password(const testing::CommandResult& r) {
    EXPECT_EQ(r.out.find(kPassword), std::string::npos) << r.out;
    EXPECT_EQ(r.err.find(kPassword), std::string::npos) << r.err;
  }
  int64_t jobs_on_target() {
    store::JobFilter all;
    all.limit = 100;
    return static_cast<int64_t>(store::open_store(target_)->list_jobs(all).size());
  }

  testing::TempDir dir_;
  std::string db_ = dir_.file("queue.db");
  std::vector<std::string> ids_;
  store::StoreOptions target_;
  std::string secret_url_;
};

TEST_F(CopyStoreCommandTest, CopiesTheQueuePrintsTheCountsThenRefusesToCopyAgain) {
  auto r = copy({"--to", secret_url_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* line :
       {"  cursors: 1 row(s)\n", "  heartbeats: 1 row(s)\n", "  polls: 1 row(s)\n",
        "  seen_items: 1 row(s)\n", "  jobs: 3 row(s)\n", "  attempts: 0 row(s)\n"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << r.out;
  }
  EXPECT_NE(r.out.find("copied SQLite file " + db_ + " into PostgreSQL postgresql://webhook:***@"),
            std::string::npos)
      << r.out;
  expect_no_password(r);
  auto copied = store::open_store(target_);
  for (const auto& id : ids_) {
    auto job = copied->job(id);
    ASSERT_TRUE(job) << id;
    EXPECT_EQ(job->job.state, store::JobState::kPending);
  }
  EXPECT_EQ(copied->cursor("works"), kT);
  // A dispatcher on the server takes the copied jobs.
  EXPECT_EQ(copied->claim("d2", 10, 30s, kT + 1000).size(), 3u);

  auto again = copy({"--to", secret_url_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("refused: the target postgresql://webhook:***@"), std::string::npos)
      << again.err;
  EXPECT_NE(again.err.find("is not empty: cursors (1 row), polls (1 row), seen_items (1 row), "
                           "jobs (3 rows)"),
            std::string::npos)
      << again.err;
  expect_no_password(again);
}

// The move as an operator makes it, with the real programs: the poller takes two works on
// SQLite, the queue is copied, and on the server the poller asks again from the copied
// cursor (the two come back in the overlap and are skipped by their copied hashes) and
// enqueues only the new one, and a dispatcher delivers each of the three exactly once.
TEST_F(CopyStoreCommandTest, ThePollerAndTheDispatcherCarryOnOnTheServerWithoutReplaying) {
  testing::FakeOpencti fake;
  testing::TestReceiver receiver;
  SystemClock clock;
  auto add_work = [&](const std::string& id) {
    const int64_t now = clock.now_ms();
    fake.records().add("works",
                       testing::FakeRecords::work(id, "Import", {"done"}, now - 1000, now));
  };
  std::map<std::string, std::string> env = {
      {"OPENCTI_URL", fake.url()},
      {"OPENCTI_TOKEN", fake.token()},
      {"OPENCTI_JSON_LOGGING", "false"},
      {"WEBHOOK_GRAPHQL_QUERY",
       "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
       "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{id}}}}}}}}"},
      {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
      {"WEBHOOK_URL", receiver.url("/hook") + "?id={item['node']['id']}"},
      {"WEBHOOK_DATABASE_PATH", dir_.file("moving.db")}};
  add_work("w1");
  add_work("w2");
  auto first = testing::run_command({kPoller, "--once"}, env);
  ASSERT_EQ(first.exit_code, 0) << first.err;

  const std::optional<int64_t> cursor =
      testing::open_test_store(env["WEBHOOK_DATABASE_PATH"])->cursor("default");
  ASSERT_TRUE(cursor);
  auto copied = testing::run_command({kCtl, "copy-store", "--to", secret_url_}, env);
  ASSERT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_NE(copied.out.find("  jobs: 2 row(s)\n"), std::string::npos) << copied.out;
  auto server = store::open_store(target_);
  EXPECT_EQ(server->cursor("default"), cursor);

  env.erase("WEBHOOK_DATABASE_PATH");  // from now on the file must not be read
  env["WEBHOOK_DATABASE_URL"] = secret_url_;
  add_work("w3");
  auto second = testing::run_command({kPoller, "--once"}, env);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  auto polls = server->list_polls("default", 10);  // newest first
  ASSERT_EQ(polls.size(), 2u);
  EXPECT_EQ(polls[0].record.jobs_enqueued, 1);
  EXPECT_EQ(polls[0].record.duplicates_skipped, 2) << "the copied hashes skip the overlap";
  EXPECT_LE(polls[0].record.window_from, *cursor) << "asked from the copied cursor";

  auto delivered = testing::run_command({kDispatcher, "--once"}, env);
  ASSERT_EQ(delivered.exit_code, 0) << delivered.err;
  std::multiset<std::string> targets;
  for (const auto& request : receiver.requests()) targets.insert(request.target);
  EXPECT_EQ(targets, (std::multiset<std::string>{"/hook?id=w1", "/hook?id=w2", "/hook?id=w3"}));
  store::JobFilter all;
  all.limit = 10;
  for (const auto& job : server->list_jobs(all)) {
    EXPECT_EQ(job.state, store::JobState::kDelivered) << job.url;
  }
  for (const auto& r : {first, copied, second, delivered}) expect_no_password(r);
}

TEST_F(CopyStoreCommandTest, ARecentHeartbeatInTheSourceIsRefusedAndNothingIsWritten) {
  testing::open_test_store(db_)->heartbeat("dispatcher", "host-7", SystemClock().now_ms());
  auto r = copy({"--to", secret_url_});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the dispatcher host-7 wrote its heartbeat"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stop the poller and the dispatcher first"), std::string::npos) << r.err;
  expect_no_password(r);
  EXPECT_EQ(jobs_on_target(), 0);
}

// An operator stops the poller (SIGTERM, as systemctl stop does) and copies at once: the
// poller said it stopped in its heartbeat rows, so its recent heartbeat does not hold the
// copy back, and `webhookctl status` says it stopped. A polling feed and a stream feed each
// write their own rows; both are marked.
TEST_F(CopyStoreCommandTest, APollerStoppedBySigtermDoesNotHoldTheCopyBack) {
  testing::FakeOpencti fake;
  testing::FakeStreamOptions stream_options;
  testing::FakeStream stream(stream_options);
  stream.append(3);
  testing::TestReceiver receiver;
  const std::string db = dir_.file("stopping.db");
  auto run_poller_until_it_beats = [&](std::map<std::string, std::string> env,
                                       const std::string& log) {
    env["OPENCTI_JSON_LOGGING"] = "false";
    env["WEBHOOK_URL"] = receiver.url("/hook");
    env["WEBHOOK_DATABASE_PATH"] = db;
    testing::ChildProcess poller({kPoller}, env, dir_.file(log));
    const std::size_t rows_before = testing::open_test_store(db)->heartbeats().size();
    ASSERT_TRUE(testing::eventually(
        [&] { return testing::open_test_store(db)->heartbeats().size() > rows_before; }, 30s))
        << poller.output();
    poller.signal(SIGTERM);
    ASSERT_EQ(poller.wait_for(30s), 0) << poller.output();
  };
  run_poller_until_it_beats(
      {{"OPENCTI_URL", fake.url()},
       {"OPENCTI_TOKEN", fake.token()},
       {"WEBHOOK_GRAPHQL_QUERY", "{{works{{edges{{node{{id}}}}}}}}"},
       {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"}},
      "polling.log");
  run_poller_until_it_beats({{"OPENCTI_URL", stream.url()},
                             {"OPENCTI_TOKEN", stream_options.token},
                             {"CONNECTOR_LIVE_STREAM_ID", stream_options.stream_id}},
                            "stream.log");

  const auto rows = testing::open_test_store(db)->heartbeats();
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    EXPECT_EQ(row.process, "poller");
    ASSERT_TRUE(row.stopped_at) << row.worker;
    EXPECT_GE(*row.stopped_at, row.at) << row.worker;
  }
  auto status = testing::run_command({kCtl, "status"}, {{"WEBHOOK_DATABASE_PATH", db}});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find(" ago), stopped at "), std::string::npos) << status.out;
  auto status_json =
      testing::run_command({kCtl, "status", "--json"}, {{"WEBHOOK_DATABASE_PATH", db}});
  ASSERT_EQ(status_json.exit_code, 0) << status_json.err;
  EXPECT_TRUE(nlohmann::json::parse(status_json.out)["poller_stopped_at"]["ms"].is_number_integer())
      << status_json.out;

  auto r = testing::run_command({kCtl, "copy-store", "--to", secret_url_},
                                {{"WEBHOOK_DATABASE_PATH", db}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("  heartbeats: 2 row(s)\n"), std::string::npos) << r.out;
  expect_no_password(r);
}

TEST_F(CopyStoreCommandTest, BadArgumentsAreExitTwo) {
  auto missing = copy({});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--to postgresql://"), std::string::npos) << missing.err;

  auto file = copy({"--to", dir_.file("other.db")});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("--to: expected a postgresql:// or postgres:// URL"), std::string::npos)
      << file.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("other.db")));

  auto malformed = copy({"--to", secret_url_ + "?no_such_option=1"});
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("--to: not a PostgreSQL connection URI"), std::string::npos)
      << malformed.err;
  expect_no_password(malformed);

  auto from_server = testing::run_command({kCtl, "copy-store", "--to", secret_url_},
                                          {{"WEBHOOK_DATABASE_URL", secret_url_}});
  EXPECT_EQ(from_server.exit_code, 2);
  EXPECT_NE(from_server.err.find("the source must be a SQLite file"), std::string::npos)
      << from_server.err;
  expect_no_password(from_server);

  auto extra = copy({"--to", secret_url_, "now"});
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_NE(extra.err.find("unexpected argument 'now'"), std::string::npos) << extra.err;
  EXPECT_EQ(jobs_on_target(), 0);
}

TEST_F(CopyStoreCommandTest, AMissingSourceFileIsAnErrorAndNothingIsCreated) {
  auto r = testing::run_command(
      {kCtl, "copy-store", "--to", secret_url_, "--database", dir_.file("missing.db")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.db"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("missing.db")));
  expect_no_password(r);
}

TEST_F(CopyStoreCommandTest, AnUnreachableServerIsAnErrorWithoutThePassword) {
  // Loopback port 9, closed as for the other tests' unreachable services.
  const std::string url =
      std::string("postgresql://webhook:") + kPassword + "@127.0.0.1:9/none?connect_timeout=2";
  auto r = copy({"--to", url});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot connect to PostgreSQL at postgresql://webhook:***@127.0.0.1:9"),
            std::string::npos)
      << r.err;
  expect_no_password(r);
}

}  // namespace
}  // namespace webhook::ctl
