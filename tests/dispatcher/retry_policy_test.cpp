#include "dispatcher/retry_policy.h"

#include <gtest/gtest.h>

namespace webhook::dispatcher {
namespace {

using std::chrono::milliseconds;
using store::OutcomeKind;

constexpr int64_t kNow = 1'700'000'000'000;

AttemptFacts failed(int64_t attempt, int64_t max_attempts, std::optional<int> status = 500) {
  AttemptFacts facts;
  facts.attempt_number = attempt;
  facts.max_attempts = max_attempts;
  facts.created_at = kNow - 1000;
  facts.http_status = status;
  return facts;
}

TEST(RetryPolicy, AnyTwoHundredIsDelivered) {
  for (int status : {200, 201, 202, 204, 299}) {
    AttemptFacts facts = failed(1, 4, status);
    EXPECT_EQ(decide_retry({}, facts, kNow, 0.5).kind, OutcomeKind::kDelivered) << status;
  }
}

TEST(RetryPolicy, FixedIntervalUntilTheLastAttemptThenDead) {
  RetrySettings settings;
  settings.interval = milliseconds(60000);
  // max_attempts 4 = first try + WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS=3.
  for (int64_t attempt = 1; attempt <= 3; ++attempt) {
    for (std::optional<int> status : {std::optional<int>(500), std::optional<int>(302),
                                      std::optional<int>(404), std::optional<int>()}) {
      RetryDecision decision = decide_retry(settings, failed(attempt, 4, status), kNow, 0.9);
      EXPECT_EQ(decision.kind, OutcomeKind::kRetry);
      EXPECT_EQ(decision.next_attempt_at, kNow + 60000);
    }
  }
  RetryDecision last = decide_retry(settings, failed(4, 4), kNow, 0.5);
  EXPECT_EQ(last.kind, OutcomeKind::kDead);
  EXPECT_NE(last.reason.find("no attempts left"), std::string::npos);
  EXPECT_EQ(decide_retry(settings, failed(1, 1), kNow, 0.5).kind, OutcomeKind::kDead);
}

TEST(RetryPolicy, ExponentialBackoffDoublesWithinTwentyPercentAndIsCapped) {
  RetrySettings settings;
  settings.interval = milliseconds(1000);
  settings.exponential = true;
  settings.max_interval = milliseconds(30000);
  for (int64_t attempt = 1; attempt <= 8; ++attempt) {
    const double base = 1000.0 * static_cast<double>(int64_t{1} << (attempt - 1));
    int64_t low = decide_retry(settings, failed(attempt, 100), kNow, 0.0).next_attempt_at - kNow;
    int64_t mid = decide_retry(settings, failed(attempt, 100), kNow, 0.5).next_attempt_at - kNow;
    int64_t high =
        decide_retry(settings, failed(attempt, 100), kNow, 0.999999).next_attempt_at - kNow;
    EXPECT_EQ(low, std::min<int64_t>(30000, static_cast<int64_t>(base * 0.8))) << attempt;
    EXPECT_EQ(mid, std::min<int64_t>(30000, static_cast<int64_t>(base))) << attempt;
    EXPECT_NEAR(high, std::min(30000.0, base * 1.2), 1.0) << attempt;
  }
  // A huge attempt number neither overflows nor passes the cap.
  EXPECT_EQ(decide_retry(settings, failed(900, 1000), kNow, 0.5).next_attempt_at - kNow, 30000);
}

TEST(RetryPolicy, RetryAfterOn429And503IsAFloorCappedByTheMaximum) {
  RetrySettings settings;
  settings.interval = milliseconds(1000);
  settings.max_interval = milliseconds(120000);
  struct Case {
    int status;
    const char* retry_after;
    int64_t wait;
  };
  for (const Case& c : {
           Case{429, "30", 30000}, Case{503, " 7 ", 7000},
           Case{503, "0", 1000},                               // never sooner than our own interval
           Case{429, "86400", 120000},                         // capped
           Case{500, "30", 1000},                              // only 429 and 503 ask to wait
           Case{429, "soon", 1000},                            // unparsable: ignored
           Case{429, "Tue, 14 Nov 2023 22:14:20 GMT", 60000},  // kNow is 22:13:20
           Case{503, "Tue, 14 Nov 2023 22:00:00 GMT", 1000},   // in the past
       }) {
    AttemptFacts facts = failed(1, 4, c.status);
    facts.retry_after = c.retry_after;
    RetryDecision decision = decide_retry(settings, facts, kNow, 0.5);
    ASSERT_EQ(decision.kind, OutcomeKind::kRetry) << c.retry_after;
    EXPECT_EQ(decision.next_attempt_at - kNow, c.wait) << c.status << " " << c.retry_after;
  }
  // Retry-After never grants an attempt beyond the limit.
  AttemptFacts last = failed(4, 4, 429);
  last.retry_after = "1";
  EXPECT_EQ(decide_retry(settings, last, kNow, 0.5).kind, OutcomeKind::kDead);
}

TEST(RetryPolicy, PermanentStatusesAreDeadAtOnce) {
  RetrySettings settings;
  settings.permanent_statuses = {400, 404, 410};
  for (int status : {400, 404, 410}) {
    RetryDecision decision = decide_retry(settings, failed(1, 4, status), kNow, 0.5);
    EXPECT_EQ(decision.kind, OutcomeKind::kDead) << status;
    EXPECT_NE(decision.reason.find("WEBHOOK_PERMANENT_STATUSES"), std::string::npos);
  }
  EXPECT_EQ(decide_retry(settings, failed(1, 4, 409), kNow, 0.5).kind, OutcomeKind::kRetry);
  EXPECT_EQ(decide_retry(settings, failed(1, 4, std::nullopt), kNow, 0.5).kind,
            OutcomeKind::kRetry);
}

TEST(RetryPolicy, MaxJobAgeMakesAStaleRetryDead) {
  RetrySettings settings;
  settings.interval = milliseconds(60000);
  settings.max_job_age = milliseconds(120000);
  AttemptFacts young = failed(1, 10);
  young.created_at = kNow - 30000;  // retry at age 90 s
  EXPECT_EQ(decide_retry(settings, young, kNow, 0.5).kind, OutcomeKind::kRetry);
  AttemptFacts old = failed(1, 10);
  old.created_at = kNow - 90000;  // retry would be at age 150 s
  RetryDecision decision = decide_retry(settings, old, kNow, 0.5);
  EXPECT_EQ(decision.kind, OutcomeKind::kDead);
  EXPECT_NE(decision.reason.find("WEBHOOK_MAX_JOB_AGE"), std::string::npos);
}

TEST(RetryAfter, ParsesSecondsAndTheThreeHttpDateFormats) {
  const int64_t now = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(parse_retry_after("120", now), 120000);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now), 60000);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:50:37 GMT", now), 60000);
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:50:37 1994", now), 60000);
  EXPECT_EQ(parse_retry_after("", now), std::nullopt);
  EXPECT_EQ(parse_retry_after("-5", now), std::nullopt);
}

}  // namespace
}  // namespace webhook::dispatcher
