#include "dispatcher/retry_policy.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace webhook::dispatcher {
namespace {

constexpr double kJitter = 0.2;  // exponential backoff moves by up to ±20%

bool is_success(int status) { return status >= 200 && status <= 299; }

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end - begin + 1));
}

// The wait before attempt `attempt_number + 1`, before Retry-After.
int64_t backoff_ms(const RetrySettings& settings, int64_t attempt_number, double random_unit) {
  const auto base = static_cast<double>(settings.interval.count());
  if (!settings.exponential) return settings.interval.count();
  const double cap = static_cast<double>(settings.max_interval.count());
  // interval * 2^(n-1), computed in doubles and capped before it can overflow.
  double exponent = static_cast<double>(std::min<int64_t>(attempt_number - 1, 62));
  double wait = base * std::pow(2.0, exponent);
  wait *= 1.0 + kJitter * (2.0 * random_unit - 1.0);
  return static_cast<int64_t>(std::llround(std::min(wait, cap)));
}

}  // namespace

std::optional<int64_t> parse_retry_after(std::string_view value, int64_t now_ms) {
  std::string text = trim(value);
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (text.size() > 9) return int64_t{999'999'999} * 1000;  // absurdly long: the cap decides
    return std::stoll(text) * 1000;
  }
  // curl_getdate understands the three HTTP date formats (RFC 9110 § 5.6.7); it is a pure
  // function of its input.
  time_t when = curl_getdate(text.c_str(), nullptr);
  if (when == -1) return std::nullopt;
  return std::max<int64_t>(0, static_cast<int64_t>(when) * 1000 - now_ms);
}

RetryDecision decide_retry(const RetrySettings& settings, const AttemptFacts& facts, int64_t now_ms,
                           double random_unit) {
  RetryDecision decision;
  if (facts.http_status && is_success(*facts.http_status)) {
    decision.kind = store::OutcomeKind::kDelivered;
    return decision;
  }
  decision.kind = store::OutcomeKind::kDead;
  if (facts.http_status &&
      std::find(settings.permanent_statuses.begin(), settings.permanent_statuses.end(),
                *facts.http_status) != settings.permanent_statuses.end()) {
    decision.reason =
        "HTTP " + std::to_string(*facts.http_status) + " is listed in WEBHOOK_PERMANENT_STATUSES";
    return decision;
  }
  if (facts.attempt_number >= facts.max_attempts) {
    decision.reason = "no attempts left (" + std::to_string(facts.max_attempts) + " made)";
    return decision;
  }

  int64_t wait = backoff_ms(settings, facts.attempt_number, random_unit);
  const bool asks_to_wait =
      facts.http_status && (*facts.http_status == 429 || *facts.http_status == 503);
  if (asks_to_wait && facts.retry_after) {
    if (auto asked = parse_retry_after(*facts.retry_after, now_ms)) {
      // The receiver's wait is a floor, capped by our maximum; it never adds an attempt.
      wait = std::max(wait, std::min(*asked, settings.max_interval.count()));
    }
  }
  const int64_t next = now_ms + wait;
  if (settings.max_job_age && next - facts.created_at > settings.max_job_age->count()) {
    decision.reason = "the retry would come after WEBHOOK_MAX_JOB_AGE (" +
                      std::to_string(settings.max_job_age->count() / 1000) + " s)";
    return decision;
  }
  decision.kind = store::OutcomeKind::kRetry;
  decision.next_attempt_at = next;
  return decision;
}

}  // namespace webhook::dispatcher
