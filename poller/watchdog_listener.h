// Feeds the service manager's watchdog (systemd WatchdogSec=) from the poll loops: each loop
// turn pings when due and wakes the loop in time for the next ping. Thread-safe, so every
// feed thread shares one; borrows the SdNotifier.
#pragma once

#include "common/sd_notify.h"
#include "common/watchdog_pinger.h"
#include "poller/poll_loop.h"

namespace webhook::poller {

class WatchdogListener : public PollListener {
 public:
  explicit WatchdogListener(const SdNotifier& notifier) : pinger_(notifier) {}
  std::optional<int64_t> on_turn(int64_t now) override { return pinger_.tick(now); }

 private:
  WatchdogPinger pinger_;
};

}  // namespace webhook::poller
