#include <iostream>

#include "common/config.h"
#include "common/connector_config_schema.h"
#include "common/feed_templates.h"
#include "common/setting_table.h"
#include "common/store/open_store.h"
#include "common/store_config.h"
#include "ctl/arguments.h"
#include "ctl/commands.h"

namespace webhook::ctl {

int check_config_command(const Args& args) {
  Arguments a(args, {"config"}, {"quiet"});
  std::optional<std::string> file = a.value("config");
  bool explicit_file = file.has_value();
  if (!file) file = "config.yml";
  try {
    Config config = Config::load(kAllPrograms, process_environment(), file, explicit_file);
    // Every template compiled by the poller's own code, so that what passes here starts.
    std::vector<std::string> problems;
    std::vector<std::string> warnings = config.warnings();
    for (const auto& feed : config.feeds()) compile_feed_templates(feed, problems, &warnings);
    // A malformed WEBHOOK_DATABASE_URL stops both processes at start, so it fails here too.
    const store::StoreOptions storage = store_options_from_config(config);
    try {
      store::check_store_options(storage);
    } catch (const std::invalid_argument& e) {
      problems.emplace_back(e.what());
    }
    if (!problems.empty()) throw ConfigError(std::move(problems));
    for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
    if (!a.flag("quiet")) {
      for (const auto& line : config.describe()) std::cout << line << "\n";
      for (const auto& feed : config.feeds()) std::cout << "feed " << feed.name << "\n";
    }
    // Which store the processes will use, even with --quiet: the one line that tells a
    // file from a server (never the password: describe_store masks it).
    std::cout << "store: " << store::describe_store(storage) << "\n";
    std::cout << "configuration OK\n";
    return 0;
  } catch (const ConfigError& e) {
    for (const auto& p : e.problems()) std::cerr << p << "\n";
    return 2;
  }
}

int settings_command(const Args& args) {
  Arguments a(args, {}, {"markdown", "env-example", "json-schema"});
  if (a.flag("markdown") + a.flag("env-example") + a.flag("json-schema") > 1) {
    throw UsageError("--markdown, --env-example and --json-schema exclude each other");
  }
  if (a.flag("json-schema")) {
    std::cout << connector_config_schema();
    return 0;
  }
  if (a.flag("markdown")) {
    std::cout << settings_markdown_table();
    return 0;
  }
  if (a.flag("env-example")) {
    std::cout << settings_env_example();
    return 0;
  }
  for (const auto& s : all_settings()) {
    std::cout << s.env << " (" << type_name(s) << ", default "
              << (s.default_value.empty() ? "unset" : std::string(s.default_value))
              << "): " << s.description << "\n";
  }
  return 0;
}

}  // namespace webhook::ctl
