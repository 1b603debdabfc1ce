// webhookctl copy-store run as a real process: a real SQLite file into a database on the
// throwaway PostgreSQL cluster; exit codes, messages, and never the URL's password.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::ctl {
namespace {

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
constexpr const char* kPassword = "s3cret-pw-123";

class CopyStoreCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::open_test_store(db_);
    ids_ = testing::enqueue(*s, "works", 3, 1'700'000'000'000);
    // The cluster trusts loopback, so the password is accepted and ignored: it is there to
    // prove it is never printed.
    url_ = testing::PostgresCluster::shared().fresh_database();
    secret_url_ = url_;
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

  testing::TempDir dir_;
  std::string db_ = dir_.file("queue.db");
  std::vector<std::string> ids_;
  std::string url_, secret_url_;
};

TEST_F(CopyStoreCommandTest, CopiesTheQueueThenRefusesToCopyAgain) {
  auto r = copy({"--to", secret_url_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 job(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 cursor(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("***"), std::string::npos) << r.out;
  expect_no_password(r);
  store::StoreOptions target;
  target.url = url_;
  auto copied = store::open_store(target);
  for (const auto& id : ids_) EXPECT_TRUE(copied->job(id)) << id;

  auto again = copy({"--to", secret_url_});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("is not empty: it holds 3 job(s), 1 poll(s) and 1 cursor(s)"),
            std::string::npos)
      << again.err;
  expect_no_password(again);
}

TEST_F(CopyStoreCommandTest, BadArgumentsAreExitTwo) {
  auto missing = copy({});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("--to"), std::string::npos) << missing.err;
  auto file = copy({"--to", dir_.file("other.db")});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("postgresql://"), std::string::npos) << file.err;
  auto from_server = testing::run_command({kCtl, "copy-store", "--to", secret_url_},
                                          {{"WEBHOOK_DATABASE_URL", secret_url_}});
  EXPECT_EQ(from_server.exit_code, 2);
  EXPECT_NE(from_server.err.find("the source must be a SQLite file"), std::string::npos)
      << from_server.err;
  expect_no_password(from_server);
}

TEST_F(CopyStoreCommandTest, AMissingSourceFileIsAnErrorAndNothingIsCreated) {
  auto r = testing::run_command(
      {kCtl, "copy-store", "--to", secret_url_, "--database", dir_.file("missing.db")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.db"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.file("missing.db")));
  expect_no_password(r);
}

}  // namespace
}  // namespace webhook::ctl
