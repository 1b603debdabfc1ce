// webhookctl: inspect and repair the job queue, try templates, check configuration.
#include <iostream>
#include <map>
#include <string>
#include <vector>

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
      {"settings",
       {webhook::ctl::settings_command,
        "settings [--markdown | --env-example]   list every setting"}},
  };
  return kCommands;
}

void print_usage(std::ostream& out) {
  out << "usage: webhookctl COMMAND [OPTIONS]\n\ncommands:\n";
  for (const auto& [name, cmd] : commands()) out << "  " << cmd.usage << "\n";
}

}  // namespace

int main(int argc, char** argv) {
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
