#include "poller/metrics_listener.h"

#include <gtest/gtest.h>

#include "tests/poller/poller_test_env.h"

namespace webhook::poller::testing {
namespace {

struct Metrics {
  metrics::MetricsRegistry registry;
  metrics::PollerMetrics poller{registry};
};

TEST(PollerMetricsListener, AnOkPollCountsItsItemsAndJobsAndMovesTheCursorLag) {
  PollerTestEnv env;
  env.start();
  Metrics m;
  MetricsListener listener(m.poller, env.clock(), {{"default", std::nullopt}});
  env.add_work(1000);
  env.add_work(2000);
  PollResult result = env.poller().poll();
  ASSERT_TRUE(result.ok()) << result.record.error;
  listener.on_poll(env.poller(), result);

  EXPECT_EQ(m.poller.polls.with({"default", "ok"}).value(), 1);
  EXPECT_EQ(m.poller.items.with({"default"}).value(), 2);
  EXPECT_EQ(m.poller.jobs_enqueued.with({"default"}).value(), 2);
  EXPECT_EQ(m.poller.render_errors.with({"default"}).value(), 0);
  EXPECT_EQ(m.poller.poll_duration.with({"default"}).snapshot().count, 1u);
  EXPECT_EQ(m.poller.cursor_lag.with({"default"}).value(), 0);  // the cursor is now
  env.clock().advance(90'000);
  listener.on_turn(env.clock().now_ms());
  EXPECT_EQ(m.poller.cursor_lag.with({"default"}).value(), 90);
}

TEST(PollerMetricsListener, FailedPollsCountAsFailedAndTheLagKeepsGrowing) {
  PollerTestEnv env;
  env.start();
  Metrics m;
  const int64_t start = env.clock().now_ms();
  MetricsListener listener(m.poller, env.clock(), {{"default", start - 300'000}});
  listener.on_turn(start);
  EXPECT_EQ(m.poller.cursor_lag.with({"default"}).value(), 300);  // before any poll

  env.fake().fail_next(FakeFailure::http_status(502));
  env.clock().advance(60'000);
  PollResult result = env.poller().poll();
  ASSERT_EQ(result.status, PollStatus::kFailed);
  listener.on_poll(env.poller(), result);
  EXPECT_EQ(m.poller.polls.with({"default", "failed"}).value(), 1);
  EXPECT_EQ(m.poller.polls.with({"default", "ok"}).value(), 0);
  EXPECT_EQ(m.poller.jobs_enqueued.with({"default"}).value(), 0);
  EXPECT_EQ(m.poller.cursor_lag.with({"default"}).value(), 360);
  EXPECT_NE(m.registry.render().find("webhook_jobs_enqueued_total{feed=\"default\"} 0"),
            std::string::npos)
      << "the series exist from the first poll on";
}

TEST(PollerMetricsListener, AnAbandonedPollIsNotCounted) {
  PollerTestEnv env;
  env.start();
  Metrics m;
  MetricsListener listener(m.poller, env.clock(), {});
  PollResult abandoned;
  abandoned.status = PollStatus::kAbandoned;
  listener.on_poll(env.poller(), abandoned);
  EXPECT_EQ(m.registry.render().find("webhook_polls_total{"), std::string::npos);
}

}  // namespace
}  // namespace webhook::poller::testing
