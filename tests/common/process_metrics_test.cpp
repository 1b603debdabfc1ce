#include "common/process_metrics.h"

#include <gtest/gtest.h>

namespace webhook::metrics {
namespace {

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(ProcessMetricsTest, PollerAndDispatcherRegisterTogetherWithoutClashing) {
  MetricsRegistry registry("opencti", "");
  PollerMetrics poller(registry);
  DispatcherMetrics dispatcher(registry);
  register_build_info(registry, "poller");
  std::string text = registry.render();
  for (auto name : {kPolls, kPollDuration, kItems, kJobsEnqueued, kDuplicatesSkipped, kRenderErrors,
                    kCursorLag, kLastSuccessfulPoll, kAttempts, kRequestDuration, kJobsInFlight,
                    kQueueJobs, kOldestPendingAge, kDeadJobs, kLeasesReclaimed, kBuildInfo}) {
    EXPECT_TRUE(contains(text, "# TYPE opencti_" + std::string(name) + " ")) << name;
  }
  EXPECT_TRUE(contains(
      text, "opencti_webhook_build_info{version=\"" WEBHOOK_VERSION "\",process=\"poller\"} 1\n"));
}

TEST(ProcessMetricsTest, APollRecordBecomesCountersDurationAndLag) {
  MetricsRegistry registry;
  PollerMetrics m(registry);
  store::PollRecord poll;
  poll.feed = "works";
  poll.started_at = 1'000'000;
  poll.finished_at = 1'000'250;
  poll.items_found = 5;
  poll.jobs_enqueued = 3;
  poll.duplicates_skipped = 1;
  poll.render_errors = 1;
  m.record_poll(poll, 999'000, 1'002'000);

  store::PollRecord failed = poll;
  failed.ok = false;
  failed.error = "connection refused";
  m.record_poll(failed, 999'000, 1'010'000);

  EXPECT_EQ(m.polls.with({"works", "ok"}).value(), 1);
  EXPECT_EQ(m.polls.with({"works", "failed"}).value(), 1);
  // A failed poll writes no jobs, so it adds nothing.
  EXPECT_EQ(m.items.with({"works"}).value(), 5);
  EXPECT_EQ(m.jobs_enqueued.with({"works"}).value(), 3);
  EXPECT_EQ(m.duplicates_skipped.with({"works"}).value(), 1);
  EXPECT_EQ(m.render_errors.with({"works"}).value(), 1);
  EXPECT_EQ(m.poll_duration.with({"works"}).snapshot().count, 2u);
  EXPECT_DOUBLE_EQ(m.poll_duration.with({"works"}).snapshot().sum, 0.5);
  EXPECT_DOUBLE_EQ(m.cursor_lag.with({"works"}).value(), 11.0);
  EXPECT_DOUBLE_EQ(m.last_successful_poll.with({"works"}).value(), 1000.25);
}

TEST(ProcessMetricsTest, OutcomesCountByOutcomeAndStatusClass) {
  MetricsRegistry registry;
  DispatcherMetrics m(registry);
  store::Outcome delivered;
  delivered.kind = store::OutcomeKind::kDelivered;
  delivered.http_status = 204;
  delivered.duration_ms = 40;
  store::Outcome timeout;
  timeout.kind = store::OutcomeKind::kRetry;
  timeout.duration_ms = 30000;
  store::Outcome dead;
  dead.kind = store::OutcomeKind::kDead;
  dead.http_status = 503;
  for (const auto* o : {&delivered, &timeout, &dead}) m.record_outcome(*o, "works");

  EXPECT_EQ(m.attempts.with({"works", "delivered", "2xx"}).value(), 1);
  EXPECT_EQ(m.attempts.with({"works", "retry", "none"}).value(), 1);
  EXPECT_EQ(m.attempts.with({"works", "dead", "5xx"}).value(), 1);
  EXPECT_EQ(m.dead_jobs.with({"works"}).value(), 1);
  EXPECT_EQ(m.request_duration.with({"works"}).snapshot().count, 3u);
}

TEST(ProcessMetricsTest, QueueDepthSumsFeedsAndShowsEveryState) {
  MetricsRegistry registry;
  DispatcherMetrics m(registry);
  store::FeedStatus works;
  works.feed = "works";
  works.counts = {{store::JobState::kPending, 2}, {store::JobState::kDelivered, 10}};
  works.oldest_pending_created_at = 50'000;
  store::FeedStatus users;
  users.feed = "users";
  users.counts = {{store::JobState::kPending, 1}, {store::JobState::kDead, 4}};
  users.oldest_pending_created_at = 40'000;
  m.update_queue({works, users}, 100'000);

  std::string text = registry.render();
  EXPECT_TRUE(contains(text, "webhook_queue_jobs{state=\"pending\"} 3\n")) << text;
  EXPECT_TRUE(contains(text, "webhook_queue_jobs{state=\"running\"} 0\n")) << text;
  EXPECT_TRUE(contains(text, "webhook_queue_jobs{state=\"dead\"} 4\n")) << text;
  EXPECT_TRUE(contains(text, "webhook_queue_jobs{state=\"cancelled\"} 0\n")) << text;
  EXPECT_DOUBLE_EQ(m.oldest_pending_age.get().value(), 60.0);

  m.update_queue({}, 100'000);
  EXPECT_DOUBLE_EQ(m.oldest_pending_age.get().value(), 0.0);
}

TEST(ProcessMetricsTest, StatusClassOfHttpStatuses) {
  EXPECT_EQ(status_class(200), "2xx");
  EXPECT_EQ(status_class(302), "3xx");
  EXPECT_EQ(status_class(429), "4xx");
  EXPECT_EQ(status_class(599), "5xx");
  EXPECT_EQ(status_class(std::nullopt), "none");
  EXPECT_EQ(status_class(42), "none");
}

}  // namespace
}  // namespace webhook::metrics
