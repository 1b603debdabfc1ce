// The service manager's readiness and watchdog protocol (sd_notify(3)), spoken directly: each
// message is one datagram of `KEY=value` lines sent to the unix socket named by
// $NOTIFY_SOCKET (a path, or `@name` for the abstract namespace). No libsystemd. A notifier
// is immutable after construction and safe to use from any thread; each send opens and
// closes its own socket.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/config.h"

namespace webhook {

class SdNotifier {
 public:
  // Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from `env`. Without NOTIFY_SOCKET
  // (not started by systemd, or Type= is not notify) every send is a no-op returning false.
  // A WATCHDOG_PID naming another process means the watchdog is not ours to ping.
  static SdNotifier from_environment(const Environment& env);

  // `socket` empty: disabled. `watchdog_timeout` unset: the manager expects no pings.
  SdNotifier(std::string socket, std::optional<std::chrono::microseconds> watchdog_timeout);

  bool enabled() const { return !socket_.empty(); }

  // Sends `state`, one or more newline-separated assignments (e.g. "READY=1"). Returns
  // false when disabled or when the datagram could not be sent; the caller's work goes on
  // either way, since a missing notification is the manager's problem to report.
  bool notify(std::string_view state) const;

  // READY=1, with STATUS= when `status` is not empty: the process has started.
  bool ready(std::string_view status = {}) const;
  // WATCHDOG=1: the main loop is alive. Send it every watchdog_interval().
  bool watchdog() const;
  // STOPPING=1: shutdown has begun.
  bool stopping() const;
  // STATUS=text, shown by `systemctl status`. Newlines become spaces so the text cannot
  // smuggle in another assignment.
  bool status(std::string_view text) const;

  // How often to send WATCHDOG=1: half the manager's timeout, as sd_watchdog_enabled(3)
  // recommends; nullopt when no watchdog is configured for this process.
  std::optional<std::chrono::milliseconds> watchdog_interval() const;

 private:
  std::string socket_;
  std::optional<std::chrono::microseconds> watchdog_timeout_;
};

}  // namespace webhook
