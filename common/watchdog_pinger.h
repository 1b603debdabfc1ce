// Sends the service manager's WATCHDOG=1 from a main loop at the pace it asks for: each loop
// turn calls tick(now), which pings when the interval has passed and returns when the loop
// must wake up next. Borrows the SdNotifier. Thread-safe: several loops (the poller's feed
// threads) may share one pinger; any of them alive keeps the watchdog fed.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "common/sd_notify.h"

namespace webhook {

class WatchdogPinger {
 public:
  explicit WatchdogPinger(const SdNotifier& notifier) : notifier_(notifier) {}

  // nullopt when no watchdog is configured; otherwise the epoch-ms time of the next ping.
  std::optional<int64_t> tick(int64_t now);

 private:
  const SdNotifier& notifier_;
  std::atomic<int64_t> next_ping_{0};
};

}  // namespace webhook
