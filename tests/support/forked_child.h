// Forked child processes for multi-process tests: run a function in a child that exits with
// its return value (1 and a message on stderr if it throws), wait for it, and a pipe to
// signal between parent and child. Call fork_child only while no other thread runs, and
// never share an open database connection with a child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>

namespace webhook::testing {

// Runs `body` in a forked child, which _exit()s with its result. Returns the child's pid.
pid_t fork_child(const std::function<int()>& body);

// Waits for `pid`: its exit code, or 128 + the signal that killed it.
int wait_child(pid_t pid);

// A pipe; both ends close with the object. A child writes a byte to tell the parent it got
// somewhere; the parent waits for it with a deadline.
class SignalPipe {
 public:
  SignalPipe();
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  void notify() const;
  // True when a byte arrived within `timeout`.
  bool wait(std::chrono::milliseconds timeout) const;

 private:
  int fds_[2];
};

}  // namespace webhook::testing
