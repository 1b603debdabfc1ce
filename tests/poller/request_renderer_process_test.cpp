// The real webhook-poller rendering URLs whose host comes from item data (issue 21): a
// warning at start, and WEBHOOK_ALLOWED_HOSTS keeping every job to the listed receivers.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::run_command;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
const std::string kCtl = WEBHOOK_BINARY_DIR "/ctl/webhookctl";
const std::string kHostFromItem =
    "http://{item['node']['connector']['name']}/hook?id={item['node']['id']}";

void add_work(FakeOpencti& fake, const std::string& id, const std::string& connector) {
  int64_t now = SystemClock().now_ms();
  fake.records().add("works", FakeRecords::work(id, connector, {"done"}, now - 1000, now));
}

TEST(PollerAllowedHosts, ATemplateThatWritesTheAuthorityIsWarnedAboutAtStart) {
  FakeOpencti fake;
  for (const std::string& url :
       {kHostFromItem, std::string("{item['node']['id']}://receiver.test/"),
        std::string("http://user:{item['node']['id']}@receiver.test/"),
        std::string("http://receiver.test:{item['node']['id']}/")}) {
    SCOPED_TRACE(url);
    TempDir dir;
    auto env = poller_process_env(fake, dir, {{"WEBHOOK_URL", url}});
    auto poller = run_command({kPoller, "--once"}, env);
    EXPECT_EQ(poller.exit_code, 0) << poller.err;
    EXPECT_NE(poller.err.find("WEBHOOK_URL: item data is placed in the URL's scheme or "
                              "authority"),
              std::string::npos)
        << poller.err;
    EXPECT_NE(poller.err.find("set WEBHOOK_ALLOWED_HOSTS"), std::string::npos) << poller.err;
    auto ctl = run_command({kCtl, "check-config", "--quiet"}, env);
    EXPECT_EQ(ctl.exit_code, 0) << ctl.err;
    EXPECT_NE(ctl.err.find("warning: WEBHOOK_URL: item data is placed"), std::string::npos)
        << ctl.err;
  }
  // Data after the host (path, query) is not warned about; neither is a literal {{.
  for (const std::string& url : {std::string("http://receiver.test/{item['node']['id']}"),
                                 std::string("http://receiver.test?{item['node']['id']}"),
                                 std::string("http://{{x}}.test/{item['node']['id']}")}) {
    SCOPED_TRACE(url);
    TempDir dir;
    auto r =
        run_command({kPoller, "--once"}, poller_process_env(fake, dir, {{"WEBHOOK_URL", url}}));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.find("item data is placed"), std::string::npos) << r.err;
  }
}

TEST(PollerAllowedHosts, AJobForAnotherHostIsDeadWithTheReasonAndNeverPending) {
  FakeOpencti fake;
  TempDir dir;
  const std::map<std::string, bool> connectors = {
      {"receiver.test", true},
      {"RECEIVER.test", true},
      {"127.0.0.1:8080", true},
      {"127.0.0.1:8081", false},
      {"evil.example", false},
      {"user@evil.example", false},
      {"receiver.test@evil.example", false},
      {"evil.example#receiver.test", false},
  };
  int n = 0;
  std::map<std::string, std::string> connector_of;  // work id -> connector
  for (const auto& [connector, allowed] : connectors) {
    std::string id = "w" + std::to_string(++n);
    connector_of[id] = connector;
    add_work(fake, id, connector);
  }
  auto env = poller_process_env(
      fake, dir,
      {{"WEBHOOK_URL", kHostFromItem}, {"WEBHOOK_ALLOWED_HOSTS", "receiver.test, 127.0.0.1:8080"}});
  auto r = run_command({kPoller, "--once"}, env);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("only the hosts of WEBHOOK_ALLOWED_HOSTS are sent to"), std::string::npos)
      << r.err;
  auto store = open_store(dir.file("webhook.db"));
  auto jobs = store->list_jobs({});
  ASSERT_EQ(jobs.size(), connectors.size());
  for (const auto& job : jobs) {
    std::string id = job.url.substr(job.url.find("id=") + 3);
    std::string connector = connector_of.at(id);
    SCOPED_TRACE(connector + " -> " + job.url);
    if (connectors.at(connector)) {
      EXPECT_EQ(job.state, store::JobState::kPending) << job.last_error;
    } else {
      EXPECT_EQ(job.state, store::JobState::kDead);
      EXPECT_NE(job.last_error.find("WEBHOOK_URL: the rendered URL names "), std::string::npos)
          << job.last_error;
      EXPECT_NE(job.last_error.find("which is not in WEBHOOK_ALLOWED_HOSTS; not sent"),
                std::string::npos)
          << job.last_error;
    }
  }
}

}  // namespace
}  // namespace webhook::poller::testing
