// SIGTERM/SIGINT handling for the long-running processes. The handler only counts the
// signal and writes a byte to a self-pipe, so loops can wait on fd() (poll, or
// curl_multi_poll's extra fds) and wake at once. One instance per process, created in main
// before any thread starts.
#pragma once

#include <chrono>

namespace webhook {

class ShutdownSignal {
 public:
  ShutdownSignal();  // installs the handlers
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // How many SIGTERM/SIGINT arrived (a second one means "exit now").
  int count() const;
  bool requested() const { return count() > 0; }

  // Readable when a signal arrived; never drained, so it stays readable.
  int fd() const;

  // Sleeps up to `timeout`, returning early (true) when shutdown is requested.
  bool wait_for(std::chrono::milliseconds timeout) const;

  // Makes the process behave as if SIGTERM arrived (for tests and fatal conditions).
  void request();
};

}  // namespace webhook
