// A job store filled as the delivery console's tests (and its screenshots) need: two feeds
// with an hour of deliveries, polls (one failed), dead jobs with several attempts, pending,
// running and cancelled jobs, heartbeats, and one job whose every field is markup.
// Stateless; not thread-safe.
#pragma once

#include <string>

#include "common/store/job_store.h"

namespace webhook::testing {

// Markup an attacker could place in an OpenCTI record or a receiver's answer.
inline constexpr const char* kScriptMarkup = "<script>window.__xss=1</script>";
inline constexpr const char* kAttributeMarkup = "\"><img src=x onerror=\"window.__xss=2\">";

struct ConsoleSeed {
  std::string dead_job;       // feed "indicators", 4 failed attempts
  std::string pending_job;    // feed "indicators"
  std::string delivered_job;  // feed "indicators"
  std::string markup_job;     // feed "reports", dead; URL, headers, body, errors are markup
  std::string secret_job;     // feed "reports", delivered; secret headers and query values
};

// Secret values the seed puts in secret_job, which a page must never show.
inline constexpr const char* kSeedSecrets[] = {
    "Bearer sk-live-4242", "session=abc123", "key-9876", "tok-5555", "pw-1111", "qs-secret-77"};

// Fills `store` as of `now` (epoch ms): everything happened during the hour before it.
ConsoleSeed seed_console_store(store::JobStore& store, int64_t now);

}  // namespace webhook::testing
