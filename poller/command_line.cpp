#include "poller/command_line.h"

#include <stdexcept>
#include <string_view>

namespace webhook::poller {

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config") {
      if (i + 1 >= argc) throw std::invalid_argument("--config needs a file name");
      cl.config = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      cl.config = std::string(arg.substr(9));
    } else if (arg == "--once") {
      cl.once = true;
    } else if (arg == "--dry-run") {
      cl.dry_run = true;
    } else if (arg == "--check-config") {
      cl.check_config = true;
    } else if (arg == "--help" || arg == "-h") {
      cl.help = true;
    } else {
      throw std::invalid_argument("unknown argument '" + std::string(arg) + "'");
    }
  }
  if (cl.config && cl.config->empty()) throw std::invalid_argument("--config needs a file name");
  if (int(cl.once) + int(cl.dry_run) + int(cl.check_config) > 1) {
    throw std::invalid_argument("--once, --dry-run and --check-config exclude each other");
  }
  return cl;
}

std::string usage() {
  return "usage: webhook-poller [--config FILE] [--once | --dry-run | --check-config]\n"
         "  --config FILE   settings file (default: config.yml in the working directory)\n"
         "  --once          poll every feed once, then exit (0: all polls ok, 1: one failed)\n"
         "  --dry-run       poll every feed once and print the requests; write nothing\n"
         "  --check-config  check settings and templates, reach OpenCTI, run each query\n"
         "                  once and show the first rendered request (exit 0, 1 or 2)\n";
}

}  // namespace webhook::poller
