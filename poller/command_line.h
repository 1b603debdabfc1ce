// webhook-poller's command-line options. Pure parsing; thread-safe.
#pragma once

#include <optional>
#include <string>

namespace webhook::poller {

struct CommandLine {
  std::optional<std::string> config;  // --config FILE (default: config.yml if present)
  bool once = false;                  // one poll per feed, exit 0 (all ok) or 1
  bool dry_run = false;               // poll, print the requests, write nothing
  bool check_config = false;          // validate, reach the platform, run the query once
  bool help = false;
};

// Throws std::invalid_argument naming the offending argument.
CommandLine parse_command_line(int argc, const char* const* argv);

std::string usage();

}  // namespace webhook::poller
