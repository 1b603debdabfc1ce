// Runs a program to completion for a test and captures what it printed: the deployment
// tests drive ldd, dpkg, docker-compose, systemd-analyze and cmake this way. The argument
// vector is passed as is (no shell). Blocking; safe to call from one thread at a time.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace webhook::testing {

struct CommandResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

// Runs argv[0] (looked up in PATH) with `extra_env` added to this process's environment,
// in `working_dir` when given. Kills it and throws std::runtime_error after `timeout`.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& extra_env = {},
                          const std::optional<std::string>& working_dir = std::nullopt,
                          std::chrono::seconds timeout = std::chrono::seconds(120));

}  // namespace webhook::testing
