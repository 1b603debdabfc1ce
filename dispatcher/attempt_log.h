// The one log line per delivery attempt: job id, feed, method, host and path (never the
// query string), attempt number, status or error, duration, and the next attempt time or
// the final state. The full URL is logged at debug only. Thread-safe (log_event is).
#pragma once

#include <cstdint>
#include <string>

#include "common/store/job_store.h"

namespace webhook::dispatcher {

void log_attempt(const store::ClaimedJob& job, const store::Outcome& outcome,
                 const std::string& reason);

// Epoch milliseconds as ISO-8601 UTC, e.g. 2026-11-28T12:00:00.250Z.
std::string iso_time(int64_t epoch_ms);

}  // namespace webhook::dispatcher
