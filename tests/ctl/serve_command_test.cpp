// `webhookctl serve` as a real process: it prints where it listens, serves the console from
// the shared database, masks configured secrets, refuses bad settings with exit 2, and
// stops with exit 0 on SIGTERM.
#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <regex>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "tests/support/child_process.h"
#include "tests/support/console_seed.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

using namespace std::chrono_literals;

const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";

class ServeCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = testing::seed_console_store(*testing::open_test_store(db_), SystemClock().now_ms());
  }

  // The port `serve` printed, once it did.
  int wait_for_port(testing::ChildProcess& serve) {
    std::smatch m;
    static const std::regex kLine(R"(delivery console on http://127\.0\.0\.1:(\d+)/)");
    std::string out;
    bool printed = testing::eventually([&] {
      out = serve.output();
      return std::regex_search(out, m, kLine);
    });
    EXPECT_TRUE(printed) << out;
    return printed ? std::stoi(m[1]) : 0;
  }

  testing::TempDir dir_;
  std::string db_ = dir_.file("queue.db");
  testing::ConsoleSeed seed_;
};

TEST_F(ServeCommandTest, ServesTheConsoleAndStopsCleanlyOnSigterm) {
  // The X-Trace header is shown normally; configured as the OpenCTI token it must vanish.
  testing::ChildProcess serve(
      {kCtl, "serve", "--listen", "127.0.0.1:0", "--database", db_},
      {{"WEBHOOK_CONSOLE_TOKEN", "serve-test-token"}, {"OPENCTI_TOKEN", "visible-trace-id"}},
      dir_.file("serve.log"));
  int port = wait_for_port(serve);
  ASSERT_GT(port, 0);
  EXPECT_NE(serve.output().find("repairs need WEBHOOK_CONSOLE_TOKEN"), std::string::npos);
  httplib::Client client("127.0.0.1", port);
  auto page = client.Get("/");
  ASSERT_TRUE(page) << httplib::to_string(page.error());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("indicators"), std::string::npos);
  auto job = client.Get("/api/jobs/" + seed_.secret_job);
  ASSERT_TRUE(job);
  EXPECT_EQ(nlohmann::json::parse(job->body)["headers"]["X-Trace"], "***");
  auto retry = client.Post("/api/jobs/" + seed_.dead_job + "/retry",
                           {{"Authorization", "Bearer serve-test-token"}}, "", "text/plain");
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->status, 200) << retry->body;
  EXPECT_EQ(testing::open_test_store(db_)->job(seed_.dead_job)->job.state,
            store::JobState::kPending);

  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait_for(20s), 0) << serve.output();
  EXPECT_EQ(serve.output().find("serve-test-token"), std::string::npos);
  EXPECT_EQ(serve.output().find("visible-trace-id"), std::string::npos);
}

TEST_F(ServeCommandTest, WithoutATokenItSaysItIsReadOnly) {
  testing::ChildProcess serve({kCtl, "serve", "--listen", "127.0.0.1:0", "--database", db_}, {},
                              dir_.file("serve.log"));
  ASSERT_GT(wait_for_port(serve), 0);
  EXPECT_NE(serve.output().find("read-only: WEBHOOK_CONSOLE_TOKEN is not set"), std::string::npos);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait_for(20s), 0) << serve.output();
}

TEST_F(ServeCommandTest, BadListenAddressesExitTwoNamingTheSetting) {
  auto bad_env = testing::run_command({kCtl, "serve", "--database", db_},
                                      {{"WEBHOOK_CONSOLE_LISTEN", "nonsense"}});
  EXPECT_EQ(bad_env.exit_code, 2);
  EXPECT_NE(bad_env.err.find("WEBHOOK_CONSOLE_LISTEN: expected HOST:PORT"), std::string::npos)
      << bad_env.err;
  auto bad_option =
      testing::run_command({kCtl, "serve", "--database", db_, "--listen", "127.0.0.1:99999"});
  EXPECT_EQ(bad_option.exit_code, 2);
  EXPECT_NE(bad_option.err.find("--listen: expected HOST:PORT"), std::string::npos)
      << bad_option.err;
}

TEST_F(ServeCommandTest, ATakenPortOrAMissingDatabaseFails) {
  testing::ChildProcess first({kCtl, "serve", "--listen", "127.0.0.1:0", "--database", db_}, {},
                              dir_.file("first.log"));
  int port = wait_for_port(first);
  ASSERT_GT(port, 0);
  auto taken = testing::run_command(
      {kCtl, "serve", "--database", db_, "--listen", "127.0.0.1:" + std::to_string(port)});
  EXPECT_EQ(taken.exit_code, 1);
  EXPECT_NE(taken.err.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << taken.err;
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait_for(20s), 0);

  auto missing = testing::run_command(
      {kCtl, "serve", "--database", dir_.file("absent.db"), "--listen", "127.0.0.1:0"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.file("absent.db")));
}

}  // namespace
}  // namespace webhook
