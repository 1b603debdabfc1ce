#include "common/shutdown_signal.h"

#include <poll.h>
#include <signal.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

namespace webhook {
namespace {

// One ShutdownSignal per process is the rule, and its count is process-wide, so a single
// test checks the whole sequence.
TEST(ShutdownSignalTest, SignalsWakeWaitersAndAreCounted) {
  ShutdownSignal shutdown;
  ASSERT_EQ(shutdown.count(), 0);
  EXPECT_FALSE(shutdown.wait_for(std::chrono::milliseconds(1)));

  // A signal from another thread ends a long wait early.
  std::thread sender([] { kill(getpid(), SIGTERM); });
  EXPECT_TRUE(shutdown.wait_for(std::chrono::minutes(5)));
  sender.join();
  EXPECT_EQ(shutdown.count(), 1);

  // The fd stays readable, so every later poll() wakes at once.
  struct pollfd pfd {
    shutdown.fd(), POLLIN, 0
  };
  EXPECT_EQ(poll(&pfd, 1, 0), 1);

  kill(getpid(), SIGINT);
  EXPECT_EQ(shutdown.count(), 2);
}

}  // namespace
}  // namespace webhook
