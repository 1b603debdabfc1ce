// webhookctl's subcommands. Each takes the words after its name and returns the process
// exit code: 0 success, 1 a failure of the thing asked (a runtime render error, an unhealthy
// process), 2 bad usage or configuration. They write results to stdout and problems to
// stderr, and throw UsageError for malformed arguments.
#pragma once

#include <string>
#include <vector>

namespace webhook::ctl {

using Args = std::vector<std::string>;

// config_commands.cpp
int check_config_command(const Args& args);
int settings_command(const Args& args);

// queue_commands.cpp: the job queue on the shared database (--database PATH, --json).
int status_command(const Args& args);
int jobs_command(const Args& args);
int show_command(const Args& args);
int retry_command(const Args& args);
int cancel_command(const Args& args);
int blocked_command(const Args& args);
int prune_command(const Args& args);
int rewind_command(const Args& args);
// copy_store_command.cpp: the SQLite queue into an empty PostgreSQL store (--to URL).
int copy_store_command(const Args& args);
// render_commands.cpp
int render_command(const Args& args);  // exit 2 on a compile error, 1 on a runtime error
int extract_command(const Args& args);

// health_command.cpp
int health_command(const Args& args);

// serve_command.cpp: the delivery console, until SIGTERM (exit 0).
int serve_command(const Args& args);

}  // namespace webhook::ctl
