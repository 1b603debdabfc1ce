// What a finished attempt does to its job: delivered, retried at a given time, or dead.
// decide_retry() is a pure function of the attempt, the feed's retry settings, the time and
// a random number, so every schedule is tested without waiting (River's retry policy).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/store/job_store.h"

namespace webhook::dispatcher {

// One feed's retry settings (WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL and friends). The number
// of attempts is the job's own max_attempts, fixed when the poller enqueued it.
struct RetrySettings {
  std::chrono::milliseconds interval{60000};             // WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL
  bool exponential = false;                              // WEBHOOK_RETRY_BACKOFF=exponential
  std::chrono::milliseconds max_interval{3600000};       // WEBHOOK_RETRY_MAX_INTERVAL
  std::vector<int> permanent_statuses;                   // WEBHOOK_PERMANENT_STATUSES
  std::optional<std::chrono::milliseconds> max_job_age;  // WEBHOOK_MAX_JOB_AGE
};

// What the attempt produced.
struct AttemptFacts {
  int64_t attempt_number = 1;              // 1 for the first try
  int64_t max_attempts = 1;                // first try + retries
  int64_t created_at = 0;                  // the job's creation time (epoch ms)
  std::optional<int> http_status;          // nullopt: no answer (timeout, transport error)
  std::optional<std::string> retry_after;  // the Retry-After header, if any
};

struct RetryDecision {
  store::OutcomeKind kind = store::OutcomeKind::kDelivered;
  int64_t next_attempt_at = 0;  // kRetry only
  std::string reason;           // why dead (empty otherwise)
};

// `random_unit` is uniform in [0, 1); it only moves exponential backoff within ±20%.
RetryDecision decide_retry(const RetrySettings& settings, const AttemptFacts& facts, int64_t now_ms,
                           double random_unit);

// The wait a Retry-After value asks for, in ms from `now_ms`: delta-seconds or an HTTP date
// (a date in the past is 0). nullopt when the value is neither.
std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms);

}  // namespace webhook::dispatcher
