// The real webhook-dispatcher under a stand-in for systemd's notify socket: READY=1 once it
// runs, WATCHDOG=1 from the dispatch loop at the pace WATCHDOG_USEC asks (while idle, with
// nothing to deliver), STOPPING=1 on SIGTERM.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <map>
#include <string>

#include "tests/support/child_process.h"
#include "tests/support/notify_socket.h"
#include "tests/support/temp_dir.h"

namespace webhook::dispatcher_test {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::NotifySocket;
using testing::TempDir;

TEST(DispatcherSystemd, SaysReadyThenFeedsTheWatchdogWhileIdleThenSaysStopping) {
  TempDir dir;
  NotifySocket manager(dir.file("notify"));
  std::map<std::string, std::string> env{{"WEBHOOK_DATABASE_PATH", dir.file("webhook.db")},
                                         {"OPENCTI_JSON_LOGGING", "false"},
                                         {"NOTIFY_SOCKET", manager.env_value()},
                                         {"WATCHDOG_USEC", "200000"}};
  ChildProcess dispatcher({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env,
                          dir.file("dispatcher.log"));

  auto ready = manager.receive(20s);
  ASSERT_TRUE(ready.has_value()) << dispatcher.output();
  EXPECT_NE(ready->find("READY=1"), std::string::npos) << *ready;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(manager.wait_for_line("WATCHDOG=1", 20s)) << "ping " << i << "\n"
                                                          << dispatcher.output();
  }
  dispatcher.signal(SIGTERM);
  EXPECT_TRUE(manager.wait_for_line("STOPPING=1", 20s)) << dispatcher.output();
  EXPECT_EQ(dispatcher.wait_for(20s), 0) << dispatcher.output();
}

}  // namespace
}  // namespace webhook::dispatcher_test
