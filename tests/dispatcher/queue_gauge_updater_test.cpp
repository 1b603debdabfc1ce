#include "dispatcher/queue_gauge_updater.h"

#include <gtest/gtest.h>

#include "tests/dispatcher/dispatch_harness.h"

namespace webhook::dispatcher_test {
namespace {

TEST(QueueGaugeUpdater, FollowsTheQueueDepthPerStateAndTheOldestPendingAge) {
  DispatchHarness h;
  ManualClock clock(wall_ms());
  const int64_t created = clock.now_ms();
  std::vector<std::string> ids = enqueue(
      h.store(), {JobSpec("http://127.0.0.1:1/a"), JobSpec("http://127.0.0.1:1/b")}, created);
  clock.advance(42'000);

  metrics::MetricsRegistry registry;
  metrics::DispatcherMetrics m(registry);
  store::StoreOptions database;
  database.path = h.path();
  dispatcher::QueueGaugeUpdater updater(database, m, clock, 10ms);
  auto pending = [&] { return m.queue_jobs.with({"pending"}).value(); };
  auto oldest = [&] { return m.oldest_pending_age.get().value(); };
  // One update sets the states first, then the age: wait for both.
  EXPECT_TRUE(eventually([&] { return pending() == 2 && oldest() == 42; })) << registry.render();
  EXPECT_EQ(m.queue_jobs.with({"dead"}).value(), 0);  // every state has a series

  ASSERT_EQ(h.store().cancel(ids, clock.now_ms()), 2);
  EXPECT_TRUE(eventually([&] {
    return m.queue_jobs.with({"cancelled"}).value() == 2 && oldest() == 0;
  })) << registry.render();
  EXPECT_EQ(pending(), 0);
}

}  // namespace
}  // namespace webhook::dispatcher_test
