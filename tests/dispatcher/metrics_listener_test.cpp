#include "dispatcher/metrics_listener.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Reply;
using testing::Script;
using testing::TestReceiver;

TEST(DispatcherMetricsListener, CountsEveryCommittedAttemptByFeedOutcomeAndStatusClass) {
  DispatchHarness h;
  TestReceiver receiver;
  receiver.set_script("/flaky", Script::fail_first(1, Reply::status_only(503)));
  receiver.set_script("/gone", Script::always(Reply::status_only(410)));
  enqueue(h.store(), {JobSpec(receiver.url("/ok")), JobSpec(receiver.url("/flaky"))});
  JobSpec gone(receiver.url("/gone"));
  gone.feed = "other";
  gone.max_attempts = 1;
  enqueue(h.store(), {gone});

  metrics::MetricsRegistry registry;
  metrics::DispatcherMetrics m(registry);
  auto connection = open_store(h.path());
  SystemClock clock;
  dispatcher::ManualStopSource stop;
  DispatcherSettings settings = test_settings();
  settings.once = true;  // the three first attempts; the retry is not due before it ends
  settings.fallback.retry.interval = 60s;
  dispatcher::DispatchLoop loop(*connection, clock, settings, stop);
  dispatcher::MetricsListener listener(m, loop);
  loop.add_listener(&listener);
  ASSERT_EQ(loop.run(), dispatcher::LoopExit::kFinished);

  EXPECT_EQ(m.attempts.with({"default", "delivered", "2xx"}).value(), 1);
  EXPECT_EQ(m.attempts.with({"default", "retry", "5xx"}).value(), 1);
  EXPECT_EQ(m.attempts.with({"other", "dead", "4xx"}).value(), 1);
  EXPECT_EQ(m.dead_jobs.with({"other"}).value(), 1);
  EXPECT_EQ(m.dead_jobs.with({"default"}).value(), 0);
  EXPECT_EQ(m.request_duration.with({"default"}).snapshot().count, 2u);
  EXPECT_EQ(m.jobs_in_flight.get().value(), 0);
  EXPECT_EQ(loop.counters().outcomes, 3);
}

TEST(DispatcherMetricsListener, CountsLeasesTakenBack) {
  DispatchHarness h;
  TestReceiver receiver;
  std::string id = enqueue_one(h.store(), JobSpec(receiver.url("/ok")), wall_ms() - 120'000);
  // A dispatcher that died holding the job: its lease ran out long ago.
  ASSERT_EQ(h.store().claim("dead-dispatcher", 1, 1ms, wall_ms() - 60'000).size(), 1u);

  metrics::MetricsRegistry registry;
  metrics::DispatcherMetrics m(registry);
  auto connection = open_store(h.path());
  SystemClock clock;
  dispatcher::ManualStopSource stop;
  DispatcherSettings settings = test_settings();
  settings.once = true;
  dispatcher::DispatchLoop loop(*connection, clock, settings, stop);
  dispatcher::MetricsListener listener(m, loop);
  loop.add_listener(&listener);
  loop.run();
  EXPECT_EQ(m.leases_reclaimed.get().value(), 1);
  EXPECT_EQ(h.state(id), JobState::kDelivered);
}

TEST(DispatcherMetricsListener, ShowsTheShareOfTheClusterCapAndTheLiveDispatchers) {
  DispatchHarness h;
  metrics::MetricsRegistry registry;
  metrics::DispatcherMetrics m(registry);
  auto connection = open_store(h.path());
  SystemClock clock;
  dispatcher::ManualStopSource stop;
  DispatcherSettings settings = test_settings();
  settings.cluster_host_concurrency = 5;
  settings.heartbeat_every = 50ms;
  dispatcher::DispatchLoop loop(*connection, clock, settings, stop);
  dispatcher::MetricsListener listener(m, loop);
  loop.add_listener(&listener);
  // Another dispatcher, first in rank, kept live by this thread: of 5, it has 3 and the loop
  // 2, once the loop's growth delay (four intervals) has passed.
  auto other = open_store(h.path());
  h.store().heartbeat("dispatcher", "a-first:1:x", wall_ms());
  std::thread thread([&] { loop.run(); });
  const bool shared = eventually(
      [&] {
        other->heartbeat("dispatcher", "a-first:1:x", wall_ms());
        return m.cluster_dispatchers.get().value() == 2 && m.cluster_host_share.get().value() == 2;
      },
      20s);
  stop.request();
  thread.join();
  EXPECT_TRUE(shared) << "live " << m.cluster_dispatchers.get().value() << ", share "
                      << m.cluster_host_share.get().value();
}

}  // namespace
}  // namespace webhook::dispatcher_test
