// `webhookctl health` run as the real binary against a real database, as the container
// HEALTHCHECK runs it.
#include <filesystem>

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::TempDir;

const std::string kWebhookctl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";

std::unique_ptr<store::JobStore> open_store(const std::string& path) {
  store::StoreOptions options;
  options.path = path;
  return store::open_store(options);
}

class HealthCommandTest : public ::testing::Test {
 protected:
  std::map<std::string, std::string> env() const {
    return {
        {"OPENCTI_URL", "http://127.0.0.1:9"},
        {"OPENCTI_TOKEN", "health-test-token"},
        {"WEBHOOK_GRAPHQL_QUERY", "{{works{{edges{{node{{id}}}}}}}}"},
        {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']['works']['edges']"},
        {"WEBHOOK_URL", "http://127.0.0.1:9/?id={item['node']['id']}"},
        {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "10"},
        {"WEBHOOK_DATABASE_PATH", db_},
    };
  }

  std::unique_ptr<store::JobStore> open() const { return open_store(db_); }

  void record_poll(int64_t finished_at, bool ok, const std::string& error = {}) const {
    record_poll(*open(), finished_at, ok, error);
  }
  static void record_poll(store::JobStore& target, int64_t finished_at, bool ok,
                          const std::string& error = {}) {
    store::PollCommit commit;
    commit.poll.feed = "default";
    commit.poll.started_at = finished_at - 50;
    commit.poll.finished_at = finished_at;
    commit.poll.window_from = finished_at - 10'000;
    commit.poll.window_to = finished_at - 50;
    commit.poll.ok = ok;
    commit.poll.error = error;
    commit.expected_cursor = target.cursor("default");
    if (ok) commit.new_cursor = finished_at - 50;
    ASSERT_TRUE(target.commit_poll(commit).has_value());
  }

  CommandResult health(std::vector<std::string> args) const {
    args.insert(args.begin(), {kWebhookctl, "health"});
    return run_command(args, env());
  }

  int64_t now() const { return SystemClock().now_ms(); }

  TempDir dir_;
  std::string db_ = dir_.file("webhook.db");
};

TEST_F(HealthCommandTest, PollerHealthyAfterARecentPollAndUnhealthyWhenStale) {
  record_poll(now() - 2'000, true);
  CommandResult ok = health({"--process", "poller"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("poller healthy"), std::string::npos) << ok.out;

  // 3 intervals of 10 s have passed since the last success; the polls since then failed.
  std::filesystem::remove(db_);
  record_poll(now() - 45'000, true);
  record_poll(now() - 5'000, false, "HTTP 401 from OpenCTI");
  CommandResult stale = health({"--process", "poller"});
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
  EXPECT_NE(stale.err.find("feed default: last successful poll"), std::string::npos) << stale.err;
  EXPECT_NE(stale.err.find("HTTP 401 from OpenCTI"), std::string::npos) << stale.err;
  EXPECT_EQ(stale.err.find("health-test-token"), std::string::npos) << "secret leaked";

  // More intervals allowed: healthy again.
  EXPECT_EQ(health({"--process", "poller", "--intervals", "6"}).exit_code, 0);
}

TEST_F(HealthCommandTest, DispatcherFollowsItsHeartbeat) {
  open()->heartbeat("dispatcher", "test-host", now() - 1'000);
  CommandResult ok = health({"--process", "dispatcher"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;

  open()->heartbeat("dispatcher", "test-host", now() - 90'000);
  CommandResult stale = health({"--process", "dispatcher"});
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
  EXPECT_NE(stale.err.find("dispatcher heartbeat"), std::string::npos) << stale.err;
  EXPECT_EQ(health({"--process", "dispatcher", "--max-heartbeat-age", "120"}).exit_code, 0);
}

// --database, as the usage says: a file elsewhere than WEBHOOK_DATABASE_PATH, or a server.
TEST_F(HealthCommandTest, DatabaseOptionNamesAFileOrAPostgresqlUrl) {
  const std::string moved = dir_.file("moved.db");
  open_store(moved)->heartbeat("dispatcher", "test-host", now() - 1'000);
  CommandResult file = health({"--process", "dispatcher", "--database", moved});
  EXPECT_EQ(file.exit_code, 0) << file.out << file.err;
  EXPECT_FALSE(std::filesystem::exists(db_)) << "WEBHOOK_DATABASE_PATH was read";

  store::StoreOptions server;
  server.url = testing::PostgresCluster::shared().fresh_database();
  store::open_store(server)->heartbeat("dispatcher", "test-host", now() - 1'000);
  CommandResult url = health({"--process", "dispatcher", "--database", server.url});
  EXPECT_EQ(url.exit_code, 0) << url.out << url.err;
  store::open_store(server)->heartbeat("dispatcher", "test-host", now() - 90'000);
  CommandResult stale = health({"--process", "dispatcher", "--database", server.url});
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
}

// WEBHOOK_DATABASE_URL, as the processes read it: the poller's rules on the server's polls,
// and the URL's password in no line.
TEST_F(HealthCommandTest, PollerHealthOnPostgresqlFromTheEnvironment) {
  store::StoreOptions server;
  server.url = testing::PostgresCluster::shared().fresh_database();
  auto env_with_url = env();
  std::string secret_url = server.url;
  secret_url.replace(secret_url.find("webhook@"), 8, "webhook:health-pw-31@");
  env_with_url["WEBHOOK_DATABASE_URL"] = secret_url;
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {kWebhookctl, "health"});
    CommandResult r = run_command(args, env_with_url);
    EXPECT_EQ((r.out + r.err).find("health-pw-31"), std::string::npos) << r.out << r.err;
    return r;
  };
  auto store = store::open_store(server);
  // 3 intervals of 10 s have passed since the last success; the poll since then failed.
  record_poll(*store, now() - 45'000, true);
  record_poll(*store, now() - 5'000, false, "HTTP 401 from OpenCTI");
  CommandResult stale = run({"--process", "poller"});
  EXPECT_EQ(stale.exit_code, 1) << stale.out << stale.err;
  EXPECT_NE(stale.err.find("HTTP 401 from OpenCTI"), std::string::npos) << stale.err;

  record_poll(*store, now() - 2'000, true);
  CommandResult ok = run({"--process", "poller"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("poller healthy"), std::string::npos) << ok.out;
  EXPECT_FALSE(std::filesystem::exists(db_)) << "WEBHOOK_DATABASE_PATH was read";
}

TEST_F(HealthCommandTest, MissingDatabaseIsUnhealthyAndNotCreated) {
  CommandResult r = health({"--process", "dispatcher"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(HealthCommandTest, BadUsageExitsTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {},
           {"--process", "both"},
           {"--process", "poller", "--intervals", "0"},
           {"--process", "dispatcher", "--max-due-delay", "soon"},
           {"--process", "dispatcher", "extra"},
       }) {
    CommandResult r = health(args);
    EXPECT_EQ(r.exit_code, 2) << ::testing::PrintToString(args) << r.err;
    EXPECT_NE(r.err.find("usage:"), std::string::npos) << r.err;
  }
}

TEST_F(HealthCommandTest, PollerConfigurationErrorsExitTwo) {
  auto incomplete = env();
  incomplete.erase("OPENCTI_URL");
  CommandResult r = run_command({kWebhookctl, "health", "--process", "poller"}, incomplete);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("OPENCTI_URL"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace webhook
