// Runs a program as a real child process and collects its exit code, stdout and stderr, for
// tests of the command-line programs. Blocking; not thread-safe (forks).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace webhook::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed
  std::string out;
  std::string err;
};

// Runs `program` with `args` in `working_dir` (empty: the current one), with the current
// environment plus `env` (an empty value unsets the variable).
ProcessResult run_process(const std::string& program, const std::vector<std::string>& args,
                          const std::map<std::string, std::string>& env = {},
                          const std::string& working_dir = "");

}  // namespace webhook::testing
