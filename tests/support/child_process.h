// Runs a program as a real child process for process-level tests: with its own environment,
// its stdout and stderr captured to a file, signalled and waited on with deadlines. The
// destructor SIGKILLs and reaps a child that is still running, so a failing test leaves no
// process behind. Not thread-safe; one owner.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace webhook::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with `argv`, the environment `env` (nothing inherited but PATH), and
  // stdout+stderr appended to `log_file`. Throws std::runtime_error if it cannot start.
  ChildProcess(std::vector<std::string> argv, std::map<std::string, std::string> env,
               std::string log_file);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;

  // Waits up to `timeout` for the child to exit; its exit code, or 128 + signal number if a
  // signal ended it, or nullopt if it is still running.
  std::optional<int> wait_for(std::chrono::milliseconds timeout);
  bool running();

  // Everything the child wrote so far.
  std::string output() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_file_;
};

// Polls `condition` until it is true or `timeout` passes; returns its last value.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds timeout = std::chrono::seconds(20),
                std::chrono::milliseconds step = std::chrono::milliseconds(10));

// Runs a command to completion (argv form, no shell) and returns {exit code, stdout}.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env = {},
                          const std::string& stdin_text = {});

}  // namespace webhook::testing

#include "tests/support/child_process_inl.h"
