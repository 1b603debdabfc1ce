// webhookctl: inspect and repair the job queue, try templates, check configuration.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"

namespace {

struct Command {
  int (*run)(const webhook::ctl::Args&);
  const char* usage;
};

const std::map<std::string, Command>& commands() {
  static const std::map<std::string, Command> kCommands = {
      {"check-config",
       {webhook::ctl::check_config_command,
        "check-config [--config FILE] [--quiet]   validate every setting"}},
      {"health",
       {webhook::ctl::health_command,
        "health --process poller|dispatcher [--config FILE] [--database PATH|URL] [--intervals N]\n"
        "         [--max-heartbeat-age S] [--max-due-delay S] [--max-pending-age S]\n"
        "         exit 0 if that process made progress recently, 1 (saying why) if not"}},
      {"serve",
       {webhook::ctl::serve_command,
        "serve [--listen HOST:PORT] [--config FILE] [--database PATH]   the delivery console in a\n"
        "         browser (default 127.0.0.1:9097, WEBHOOK_CONSOLE_LISTEN); SIGTERM stops it"}},
      {"settings",
       {webhook::ctl::settings_command,
        "settings [--markdown | --env-example | --json-schema]   list every setting"}},
      {"status",
       {webhook::ctl::status_command,
        "status [--json]   per feed: cursor, last poll, jobs per state, oldest pending"}},
      {"jobs",
       {webhook::ctl::jobs_command,
        "jobs [--state S] [--feed F] [--limit N] [--json]   list jobs, newest first"}},
      {"show", {webhook::ctl::show_command, "show ID [--json]   one job and every attempt"}},
      {"retry",
       {webhook::ctl::retry_command,
        "retry ID... | retry --dead [--feed F]   requeue dead or cancelled jobs"}},
      {"cancel",
       {webhook::ctl::cancel_command,
        "cancel ID...   cancel pending jobs, or dead ones to unblock their order key"}},
      {"blocked",
       {webhook::ctl::blocked_command,
        "blocked [--feed F] [--limit N] [--json]   order keys held by a dead job"}},
      {"prune",
       {webhook::ctl::prune_command,
        "prune [--older-than DAYS]   delete finished jobs and polls older than the retention"}},
      {"rewind",
       {webhook::ctl::rewind_command,
        "rewind --feed F --to TIME|ID   poll again from TIME (ISO-8601 or epoch ms); a stream\n"
        "         feed reconnects from the stream ID (1679004823824-0) or TIME's first id"}},
      {"copy-store",
       {webhook::ctl::copy_store_command,
        "copy-store --to postgresql://USER@HOST:PORT/DB [--database PATH] [--config FILE]\n"
        "         copy the SQLite queue of the stopped processes (cursors, seen hashes, polls,\n"
        "         jobs, attempts, heartbeats) into an empty PostgreSQL store, in one transaction"}},
      {"render",
       {webhook::ctl::render_command,
        "render --template TEXT [--item JSON] [--query] [--last-poll-time MS] | render --batch"
        "   render a template (--batch: JSON lines on stdin)"}},
      {"extract",
       {webhook::ctl::extract_command,
        "extract --location LOC   apply a data location to the JSON document on stdin"}},
  };
  return kCommands;
}

void print_usage(std::ostream& out) {
  out << "usage: webhookctl COMMAND [OPTIONS]\n\ncommands:\n";
  for (const auto& [name, cmd] : commands()) out << "  " << cmd.usage << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  webhook::store::configure_store_process();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  auto it = commands().find(args[0]);
  if (it == commands().end()) {
    std::cerr << "webhookctl: unknown command '" << args[0] << "'\n";
    print_usage(std::cerr);
    return 2;
  }
  try {
    return it->second.run({args.begin() + 1, args.end()});
  } catch (const webhook::ctl::UsageError& e) {
    std::cerr << "webhookctl " << args[0] << ": " << e.what() << "\nusage: webhookctl "
              << it->second.usage << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "webhookctl " << args[0] << ": " << e.what() << "\n";
    return 1;
  }
}
