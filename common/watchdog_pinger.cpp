#include "common/watchdog_pinger.h"

namespace webhook {

std::optional<int64_t> WatchdogPinger::tick(int64_t now) {
  const auto interval = notifier_.watchdog_interval();
  if (!interval) return std::nullopt;
  int64_t due = next_ping_.load();
  // Only the thread that moves the deadline sends, so shared loops do not ping twice.
  if (now >= due && next_ping_.compare_exchange_strong(due, now + interval->count())) {
    notifier_.watchdog();
    return now + interval->count();
  }
  return next_ping_.load();
}

}  // namespace webhook
