#include "dispatcher/attempt_log.h"

#include <array>
#include <ctime>
#include <span>

#include "common/logging.h"
#include "common/utc_time.h"
#include "dispatcher/url_summary.h"

namespace webhook::dispatcher {

std::string iso_time(int64_t epoch_ms) { return format_utc_ms(epoch_ms); }

void log_attempt(const store::ClaimedJob& job, const store::Outcome& outcome,
                 const std::string& reason) {
  // Each thread that logs attempts (the store thread) keeps its own origins.
  thread_local UrlSummaryCache summaries;
  const UrlSummary url = summaries.summarize(job.url);
  // The attributes are borrowed, not copied into a json object: one line per delivery.
  std::array<LogField, 12> fields{
      LogField{"job", job.id},
      LogField{"feed", job.feed},
      LogField{"method", job.method},
      LogField{"host", url.host},
      LogField{"path", url.path},
      LogField{"attempt", job.attempts + 1},
      LogField{"max_attempts", job.max_attempts},
      LogField{"", ""},
      LogField{"", ""},
      LogField{"", ""},
      LogField{"", ""},
      LogField{"", ""},
  };
  size_t count = 7;
  if (outcome.http_status) fields[count++] = LogField{"status", int64_t{*outcome.http_status}};
  if (!outcome.error.empty()) fields[count++] = LogField{"error", outcome.error};
  fields[count++] = LogField{"duration_ms", outcome.duration_ms};
  std::string next_attempt_at;
  switch (outcome.kind) {
    case store::OutcomeKind::kDelivered:
      fields[count++] = LogField{"state", "delivered"};
      break;
    case store::OutcomeKind::kRetry:
      fields[count++] = LogField{"state", "pending"};
      next_attempt_at = iso_time(outcome.next_attempt_at);
      fields[count++] = LogField{"next_attempt_at", next_attempt_at};
      break;
    case store::OutcomeKind::kDead:
      fields[count++] = LogField{"state", "dead"};
      fields[count++] = LogField{"reason", reason};
      break;
  }
  log_fields(spdlog::level::info, "webhook attempt", std::span(fields.data(), count));
  if (spdlog::should_log(spdlog::level::debug)) {
    log_event(spdlog::level::debug, "webhook attempt url", {{"job", job.id}, {"url", job.url}});
  }
}

}  // namespace webhook::dispatcher
