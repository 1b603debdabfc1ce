// Epoch milliseconds as ISO-8601 UTC text, the one form every log line, attempt log and
// webhookctl table uses. Thread-safe (each thread keeps its last second's text).
#pragma once

#include <cstdint>
#include <string>

namespace webhook {

// e.g. 2026-11-28T12:00:00.250Z; times before 1970 round towards the past.
std::string format_utc_ms(int64_t epoch_ms);

}  // namespace webhook
