// A stand-in for systemd's end of the sd_notify protocol: a unix datagram socket bound to a
// filesystem path or an abstract name, whose messages a test reads with a deadline. Pass
// env_value() as NOTIFY_SOCKET to the code or process under test. One per test; not
// thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace webhook::testing {

class NotifySocket {
 public:
  // Binds `address`: a filesystem path, or "@name" for the abstract namespace.
  explicit NotifySocket(std::string address);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // What NOTIFY_SOCKET must be set to.
  const std::string& env_value() const { return address_; }

  // The next datagram, or nullopt if none arrives before `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);

  // Reads datagrams until one contains the line `line` (e.g. "WATCHDOG=1"); returns it,
  // or nullopt when `timeout` passes first.
  std::optional<std::string> wait_for_line(const std::string& line,
                                           std::chrono::milliseconds timeout);

 private:
  std::string address_;
  int fd_ = -1;
};

}  // namespace webhook::testing
