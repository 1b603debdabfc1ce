#include "ctl/queue_access.h"

#include <cctype>

namespace webhook::ctl {

Config load_queue_config(const Arguments& args) {
  std::optional<std::string> file = args.value("config");
  bool explicit_file = file.has_value();
  if (!file) file = "config.yml";
  return Config::load(kCtl, process_environment(), file, explicit_file);
}

QueueAccess open_queue(const Arguments& args, const Config& config) {
  store::SqliteOptions options;
  options.path = args.value("database").value_or(config.string("WEBHOOK_DATABASE_PATH"));
  options.synchronous = config.string("WEBHOOK_DATABASE_SYNCHRONOUS");
  for (char& c : options.synchronous)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  options.create_if_missing = false;
  QueueAccess access;
  access.retention_days = config.integer("WEBHOOK_HISTORY_RETENTION_DAYS");
  access.store = store::open_sqlite_store(options);
  return access;
}

QueueAccess open_queue(const Arguments& args) { return open_queue(args, load_queue_config(args)); }

}  // namespace webhook::ctl
