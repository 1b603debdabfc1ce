// Times as webhookctl shows and reads them: epoch milliseconds to ISO-8601 UTC and to
// a short age ("3m 12s"), and ISO-8601 or epoch-millisecond text back to milliseconds.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webhook::ctl {

// 1700000000123 -> "2023-11-14T22:13:20.123Z".
std::string format_utc(int64_t epoch_ms);

// A duration in milliseconds as "2d 3h", "5m 12s", "800ms".
std::string format_age(int64_t ms);

// "1700000000000" (epoch ms), "2023-11-14", "2023-11-14T22:13:20Z",
// "2023-11-14T22:13:20.5+02:00" (a space may replace the T; no zone means UTC).
// nullopt when the text is none of these.
std::optional<int64_t> parse_time(std::string_view text);

}  // namespace webhook::ctl
