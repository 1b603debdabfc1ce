#include "ctl/queue_access.h"

#include "common/config.h"
#include "common/store/open_store.h"
#include "common/store_config.h"

namespace webhook::ctl {

Config load_queue_config(const Arguments& args) {
  std::optional<std::string> file = args.value("config");
  bool explicit_file = file.has_value();
  if (!file) file = "config.yml";
  return Config::load(kCtl, process_environment(), file, explicit_file);
}

QueueAccess open_queue(const Arguments& args, const Config& config) {
  store::StoreOptions options = store_options_from_config(config);
  if (auto database = args.value("database")) set_database(options, *database);
  options.create_if_missing = false;
  try {
    store::check_store_options(options);  // a URL libpq cannot read is a bad setting: exit 2
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  QueueAccess access;
  access.retention_days = config.integer("WEBHOOK_HISTORY_RETENTION_DAYS");
  access.store = store::open_store(options);
  return access;
}

QueueAccess open_queue(const Arguments& args) { return open_queue(args, load_queue_config(args)); }

}  // namespace webhook::ctl
