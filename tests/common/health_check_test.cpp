#include "common/health_check.h"

#include <gtest/gtest.h>

#include "common/store/open_store.h"
#include "tests/support/temp_dir.h"

namespace webhook {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

constexpr int64_t kNow = 1'700'000'000'000;

std::unique_ptr<store::JobStore> open_store(const std::string& path) {
  store::StoreOptions options;
  options.path = path;
  return store::open_store(options);
}

class HealthCheckTest : public ::testing::Test {
 protected:
  HealthCheckTest() : store_(open_store(dir_.file("webhook.db"))) {}

  // A poll of `feed` that finished at `finished_at`, with one job when `job` is set.
  void poll(const std::string& feed, int64_t finished_at, bool ok, const std::string& error = {},
            std::optional<std::string> job = std::nullopt) {
    store::PollCommit commit;
    commit.poll.feed = feed;
    commit.poll.started_at = finished_at - 100;
    commit.poll.finished_at = finished_at;
    commit.poll.window_from = finished_at - 60000;
    commit.poll.window_to = finished_at - 100;
    commit.poll.ok = ok;
    commit.poll.error = error;
    commit.expected_cursor = store_->cursor(feed);
    if (ok) commit.new_cursor = finished_at - 100;
    if (job) {
      store::NewJob j;
      j.id = *job;
      j.url = "http://127.0.0.1:9/" + *job;
      commit.jobs.push_back(j);
      commit.poll.jobs_enqueued = 1;
      commit.poll.items_found = 1;
    }
    ASSERT_TRUE(store_->commit_poll(commit).has_value());
  }

  static bool mentions(const HealthReport& report, const std::string& text) {
    for (const auto& line : report.problems) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<store::JobStore> store_;
};

TEST_F(HealthCheckTest, PollerIsHealthyAfterARecentSuccessfulPoll) {
  poll("works", kNow - 30'000, true);
  HealthReport report = check_poller_health(*store_, {{"works", 60s}}, kNow);
  EXPECT_TRUE(report.healthy) << ::testing::PrintToString(report.problems);
  EXPECT_TRUE(report.problems.empty());
}

TEST_F(HealthCheckTest, PollerIsUnhealthyWithoutAnyPoll) {
  HealthReport report = check_poller_health(*store_, {{"works", 60s}}, kNow);
  EXPECT_FALSE(report.healthy);
  EXPECT_TRUE(mentions(report, "feed works: no successful poll yet"))
      << ::testing::PrintToString(report.problems);
}

TEST_F(HealthCheckTest, PollerTurnsUnhealthyAfterThreeIntervalsOfFailedPolls) {
  poll("works", kNow - 200'000, true);
  poll("works", kNow - 130'000, false, "HTTP 502 from OpenCTI");
  poll("works", kNow - 70'000, false, "HTTP 502 from OpenCTI");
  poll("works", kNow - 10'000, false, "connection refused");

  // Within three intervals of 60 s the last success (200 s ago) is too old...
  HealthReport report = check_poller_health(*store_, {{"works", 60s}}, kNow);
  EXPECT_FALSE(report.healthy);
  EXPECT_TRUE(mentions(report, "last successful poll 3m 20s ago")) << report.problems.at(0);
  EXPECT_TRUE(mentions(report, "last poll failed 10s ago: connection refused"))
      << report.problems.at(0);
  // ...but not with a longer interval, nor when more intervals are allowed.
  EXPECT_TRUE(check_poller_health(*store_, {{"works", 120s}}, kNow).healthy);
  EXPECT_TRUE(check_poller_health(*store_, {{"works", 60s}}, kNow, 4).healthy);
}

TEST_F(HealthCheckTest, EveryFeedIsJudgedOnItsOwn) {
  poll("works", kNow - 5'000, true);
  poll("users", kNow - 900'000, true);
  HealthReport report = check_poller_health(*store_, {{"works", 60s}, {"users", 60s}}, kNow);
  EXPECT_FALSE(report.healthy);
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_TRUE(mentions(report, "feed users:"));
}

TEST_F(HealthCheckTest, DispatcherNeedsAFreshHeartbeat) {
  DispatcherHealthRule rule;
  HealthReport none = check_dispatcher_health(*store_, rule, kNow);
  EXPECT_FALSE(none.healthy);
  EXPECT_TRUE(mentions(none, "no dispatcher heartbeat"));

  store_->heartbeat("dispatcher", "host-1", kNow - 10'000);
  EXPECT_TRUE(check_dispatcher_health(*store_, rule, kNow).healthy);

  HealthReport stale = check_dispatcher_health(*store_, rule, kNow + 120'000);
  EXPECT_FALSE(stale.healthy);
  EXPECT_TRUE(mentions(stale, "dispatcher heartbeat 2m 10s old")) << stale.problems.at(0);
}

TEST_F(HealthCheckTest, DispatcherIsUnhealthyWhenADueJobWaitsTooLong) {
  DispatcherHealthRule rule;
  rule.max_pending_age = 0ms;  // only the due-delay rule here
  poll("works", kNow - 400'000, true, {}, "job-1");
  store_->heartbeat("dispatcher", "host-1", kNow - 1'000);

  HealthReport report = check_dispatcher_health(*store_, rule, kNow);
  EXPECT_FALSE(report.healthy);
  EXPECT_TRUE(mentions(report, "due for")) << ::testing::PrintToString(report.problems);

  // Once claimed, the job is no longer waiting.
  auto claimed = store_->claim("host-1", 10, 60s, kNow);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_TRUE(check_dispatcher_health(*store_, rule, kNow).healthy);
}

TEST_F(HealthCheckTest, DispatcherIsUnhealthyWhenJobsStayPendingThroughRetries) {
  DispatcherHealthRule rule;
  rule.max_pending_age = 15min;
  poll("works", kNow - 20 * 60'000, true, {}, "job-1");
  // The receiver keeps failing: the job is retried, never due long, but pending for 20 min.
  auto claimed = store_->claim("host-1", 10, 60s, kNow - 1'000);
  ASSERT_EQ(claimed.size(), 1u);
  store::Outcome retry;
  retry.job_id = "job-1";
  retry.lease_token = claimed[0].lease_token;
  retry.worker = "host-1";
  retry.kind = store::OutcomeKind::kRetry;
  retry.next_attempt_at = kNow + 60'000;
  retry.started_at = kNow - 1'000;
  retry.http_status = 503;
  store_->record_outcomes(std::span(&retry, 1), kNow - 500);
  store_->heartbeat("dispatcher", "host-1", kNow);

  HealthReport report = check_dispatcher_health(*store_, rule, kNow);
  EXPECT_FALSE(report.healthy);
  EXPECT_TRUE(mentions(report, "feed works: a job has been pending for 20m"))
      << ::testing::PrintToString(report.problems);

  rule.max_pending_age = 0ms;  // disabled
  EXPECT_TRUE(check_dispatcher_health(*store_, rule, kNow).healthy);
}

TEST(HealthRulesFromConfigTest, DispatcherThresholdsComeFromTheHealthSettings) {
  Environment env{{"WEBHOOK_URL", "http://127.0.0.1/{item}"}};
  DispatcherHealthRule defaults =
      dispatcher_health_rule(Config::load(kDispatcher, env, std::nullopt));
  EXPECT_EQ(defaults.max_heartbeat_age, 60s);
  EXPECT_EQ(defaults.max_due_delay, 300s);
  EXPECT_EQ(defaults.max_pending_age, 900s);

  env["WEBHOOK_HEALTH_MAX_HEARTBEAT_AGE"] = "30";
  env["WEBHOOK_HEALTH_MAX_DUE_DELAY"] = "1.5";
  env["WEBHOOK_HEALTH_MAX_PENDING_AGE"] = "0";
  DispatcherHealthRule rule = dispatcher_health_rule(Config::load(kDispatcher, env, std::nullopt));
  EXPECT_EQ(rule.max_heartbeat_age, 30s);
  EXPECT_EQ(rule.max_due_delay, 1500ms);
  EXPECT_EQ(rule.max_pending_age, 0s);
}

TEST(HealthRulesFromConfigTest, PollerRulesNameEveryFeedWithItsInterval) {
  Environment env{{"OPENCTI_URL", "http://127.0.0.1:1"},
                  {"OPENCTI_TOKEN", "t"},
                  {"WEBHOOK_GRAPHQL_QUERY", "{{works}}"},
                  {"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", "['data']"},
                  {"WEBHOOK_URL", "http://127.0.0.1/{item}"},
                  {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0.2"}};
  auto rules = poller_health_rules(Config::load(kPoller, env, std::nullopt));
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].feed, "default");
  EXPECT_EQ(rules[0].polling_interval, 200ms);
}

TEST(DescribeAgeTest, ReadsLikeAPerson) {
  EXPECT_EQ(describe_age(0), "0s");
  EXPECT_EQ(describe_age(59'999), "59s");
  EXPECT_EQ(describe_age(125'000), "2m 5s");
  EXPECT_EQ(describe_age(3 * 3600'000 + 60'000), "3h 1m");
  EXPECT_EQ(describe_age(-5), "0s");
}

}  // namespace
}  // namespace webhook
