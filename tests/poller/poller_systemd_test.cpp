// The real webhook-poller under a stand-in for systemd's notify socket: READY=1 once it
// polls, WATCHDOG=1 from the poll loop at the pace WATCHDOG_USEC asks (between polls an hour
// apart), STOPPING=1 on SIGTERM.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <map>
#include <string>

#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"
#include "tests/support/notify_socket.h"

namespace webhook::poller::testing {
namespace {

using namespace std::chrono_literals;
using webhook::testing::ChildProcess;
using webhook::testing::NotifySocket;
using webhook::testing::TempDir;

// A poller polling an hour apart, reporting to `manager` and asking for a watchdog ping
// every 0.2 s.
std::map<std::string, std::string> systemd_env(FakeOpencti& fake, TempDir& dir,
                                               NotifySocket& manager) {
  return poller_process_env(fake, dir,
                            {{"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "3600"},
                             {"NOTIFY_SOCKET", manager.env_value()},
                             {"WATCHDOG_USEC", "200000"}});
}

TEST(PollerSystemd, SaysReadyThenFeedsTheWatchdogBetweenPollsThenSaysStopping) {
  FakeOpencti fake;
  TempDir dir;
  NotifySocket manager(dir.file("notify"));
  std::map<std::string, std::string> env = systemd_env(fake, dir, manager);
  ChildProcess poller({WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env, dir.file("poller.log"));

  auto ready = manager.receive(20s);
  ASSERT_TRUE(ready.has_value()) << poller.output();
  EXPECT_NE(ready->find("READY=1"), std::string::npos) << *ready;
  // Polls are an hour apart: these pings can only come from the loop's watchdog timer.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(manager.wait_for_line("WATCHDOG=1", 20s)) << "ping " << i << "\n"
                                                          << poller.output();
  }
  poller.signal(SIGTERM);
  EXPECT_TRUE(manager.wait_for_line("STOPPING=1", 20s)) << poller.output();
  EXPECT_EQ(poller.wait_for(20s), 0) << poller.output();
}

TEST(PollerSystemd, AWatchdogPidNamingAnotherProcessMeansNoPings) {
  FakeOpencti fake;
  TempDir dir;
  NotifySocket manager(dir.file("notify"));
  std::map<std::string, std::string> env = systemd_env(fake, dir, manager);
  env["WATCHDOG_PID"] = "1";
  ChildProcess poller({WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env, dir.file("poller.log"));
  ASSERT_TRUE(manager.wait_for_line("READY=1", 20s)) << poller.output();
  poller.signal(SIGTERM);
  // Everything up to STOPPING=1 arrives in order: no WATCHDOG=1 among it.
  std::string seen;
  while (auto message = manager.receive(20s)) {
    seen += *message + "\n";
    if (message->find("STOPPING=1") != std::string::npos) break;
  }
  EXPECT_NE(seen.find("STOPPING=1"), std::string::npos) << seen;
  EXPECT_EQ(seen.find("WATCHDOG=1"), std::string::npos) << seen;
  EXPECT_EQ(poller.wait_for(20s), 0) << poller.output();
}

}  // namespace
}  // namespace webhook::poller::testing
