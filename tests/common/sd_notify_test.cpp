#include "common/sd_notify.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/notify_socket.h"
#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

using namespace std::chrono_literals;
using testing::NotifySocket;
using testing::TempDir;

constexpr auto kWait = 5s;

std::string abstract_name() {
  return "@opencti-webhook-test-" + std::to_string(::getpid()) + "-" +
         std::to_string(reinterpret_cast<uintptr_t>(&kWait));
}

TEST(SdNotifierTest, SendsReadyToAFilesystemSocket) {
  TempDir dir;
  NotifySocket manager(dir.file("notify"));
  SdNotifier notifier = SdNotifier::from_environment({{"NOTIFY_SOCKET", manager.env_value()}});

  ASSERT_TRUE(notifier.enabled());
  EXPECT_TRUE(notifier.ready());
  EXPECT_EQ(manager.receive(kWait), "READY=1");
}

TEST(SdNotifierTest, SendsToAnAbstractSocket) {
  NotifySocket manager(abstract_name());
  SdNotifier notifier = SdNotifier::from_environment({{"NOTIFY_SOCKET", manager.env_value()}});

  EXPECT_TRUE(notifier.ready("polling 2 feeds"));
  EXPECT_EQ(manager.receive(kWait), "READY=1\nSTATUS=polling 2 feeds");
  EXPECT_TRUE(notifier.watchdog());
  EXPECT_EQ(manager.receive(kWait), "WATCHDOG=1");
  EXPECT_TRUE(notifier.stopping());
  EXPECT_EQ(manager.receive(kWait), "STOPPING=1");
}

TEST(SdNotifierTest, StatusCannotInjectAnotherAssignment) {
  TempDir dir;
  NotifySocket manager(dir.file("notify"));
  SdNotifier notifier(manager.env_value(), std::nullopt);

  EXPECT_TRUE(notifier.status("broken\nREADY=1"));
  EXPECT_EQ(manager.receive(kWait), "STATUS=broken READY=1");
}

TEST(SdNotifierTest, WithoutNotifySocketEverySendIsANoOp) {
  SdNotifier notifier = SdNotifier::from_environment({});
  EXPECT_FALSE(notifier.enabled());
  EXPECT_FALSE(notifier.ready());
  EXPECT_FALSE(notifier.watchdog());
  EXPECT_EQ(notifier.watchdog_interval(), std::nullopt);
}

TEST(SdNotifierTest, ReportsFailureWhenNobodyListens) {
  TempDir dir;
  SdNotifier missing(dir.file("nobody-here"), std::nullopt);
  EXPECT_FALSE(missing.ready());
  SdNotifier unsupported("vsock:2:1234", std::nullopt);
  EXPECT_FALSE(unsupported.ready());
}

TEST(SdNotifierTest, PingsAtHalfTheWatchdogTimeout) {
  SdNotifier notifier = SdNotifier::from_environment(
      {{"NOTIFY_SOCKET", "/run/systemd/notify"}, {"WATCHDOG_USEC", "30000000"}});
  EXPECT_EQ(notifier.watchdog_interval(), 15000ms);

  SdNotifier ours = SdNotifier::from_environment({{"NOTIFY_SOCKET", "/run/systemd/notify"},
                                                  {"WATCHDOG_USEC", "20000000"},
                                                  {"WATCHDOG_PID", std::to_string(::getpid())}});
  EXPECT_EQ(ours.watchdog_interval(), 10000ms);
}

TEST(SdNotifierTest, IgnoresAWatchdogMeantForAnotherProcess) {
  SdNotifier notifier =
      SdNotifier::from_environment({{"NOTIFY_SOCKET", "/run/systemd/notify"},
                                    {"WATCHDOG_USEC", "30000000"},
                                    {"WATCHDOG_PID", std::to_string(::getpid() + 1)}});
  EXPECT_EQ(notifier.watchdog_interval(), std::nullopt);

  SdNotifier garbage = SdNotifier::from_environment(
      {{"NOTIFY_SOCKET", "/run/systemd/notify"}, {"WATCHDOG_USEC", "soon"}});
  EXPECT_EQ(garbage.watchdog_interval(), std::nullopt);
}

}  // namespace
}  // namespace webhook
