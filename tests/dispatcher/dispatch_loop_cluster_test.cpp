// The dispatch loop under WEBHOOK_CLUSTER_HOST_CONCURRENCY, in-process on a real SQLite file
// against real receivers on loopback: the share is a limit per host, so a job whose host is
// at it waits while jobs to another host go ahead of it, and it is sent once its host has
// room again.
#include <gtest/gtest.h>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Reply;
using testing::Script;
using testing::TestReceiver;

TEST(DispatchLoopCluster, AJobWhoseHostIsAtItsShareWaitsWhileAnotherHostsJobsGo) {
  TestReceiver slow;
  slow.set_default_script(Script::always(Reply::stalled(60s)));  // until released
  TestReceiver quick;
  DispatchHarness harness;
  // Oldest first: both jobs of the slow host are claimed before the quick host's.
  auto ids =
      enqueue(harness.store(),
              {{slow.url("/a/1")}, {slow.url("/a/2")}, {quick.url("/b/1")}, {quick.url("/b/2")}});
  DispatcherSettings settings = test_settings();
  settings.cluster_host_concurrency = 1;  // alone, its share is the whole cap: 1 per host
  settings.heartbeat_every = 50ms;
  harness.start(settings);

  // Both quick jobs are delivered, one after the other, while /a/1 holds the slow host.
  ASSERT_TRUE(harness.wait_for_state(ids[2], JobState::kDelivered));
  ASSERT_TRUE(harness.wait_for_state(ids[3], JobState::kDelivered));
  EXPECT_EQ(slow.count(), 1u);
  EXPECT_EQ(quick.max_in_flight(), 1);

  slow.release_stalls();
  ASSERT_TRUE(harness.wait_for_state(ids[0], JobState::kDelivered));
  ASSERT_TRUE(harness.wait_for_state(ids[1], JobState::kDelivered));
  EXPECT_EQ(slow.count(), 2u);
  EXPECT_EQ(slow.max_in_flight(), 1);
  // /a/2 waited uncharged: one attempt each, none interrupted.
  for (const auto& id : ids) EXPECT_EQ(harness.job(id)->attempts.size(), 1u) << id;
  EXPECT_EQ(harness.stop(), dispatcher::LoopExit::kFinished);
}

TEST(DispatchLoopCluster, WithoutTheCapEachProcessKeepsItsOwnPerHostLimit) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply::stalled(60s)));
  DispatchHarness harness;
  std::vector<JobSpec> specs;
  for (int i = 0; i < 4; ++i) specs.push_back({receiver.url("/c/" + std::to_string(i))});
  enqueue(harness.store(), specs);
  DispatcherSettings settings = test_settings();
  settings.host_concurrency = 3;
  harness.start(settings);
  // Three at once, the limit of WEBHOOK_HOST_CONCURRENCY alone; the fourth waits in curl.
  ASSERT_TRUE(receiver.wait_for_count(3, 20s));
  receiver.release_stalls();
  ASSERT_TRUE(receiver.wait_for_count(4, 20s));
  EXPECT_EQ(receiver.max_in_flight(), 3);
  EXPECT_EQ(harness.stop(), dispatcher::LoopExit::kFinished);
}

}  // namespace
}  // namespace webhook::dispatcher_test
