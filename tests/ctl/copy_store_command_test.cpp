// webhookctl copy-store run as a real process: a real SQLite file into a database on the
// throwaway PostgreSQL cluster; what it prints, its exit codes and refusals, and never the
// URL's password.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/clock.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::ctl {
namespace {

using namespace std::chrono_literals;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
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

TEST_F(CopyStoreCommandTest, ARecentHeartbeatInTheSourceIsRefusedAndNothingIsWritten) {
  testing::open_test_store(db_)->heartbeat("dispatcher", "host-7", SystemClock().now_ms());
  auto r = copy({"--to", secret_url_});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("the dispatcher host-7 wrote its heartbeat"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stop the poller and the dispatcher first"), std::string::npos) << r.err;
  expect_no_password(r);
  EXPECT_EQ(jobs_on_target(), 0);
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
