// How webhookctl's queue commands reach the job store: the database path from --database,
// else WEBHOOK_DATABASE_PATH (environment or config.yml, default data/webhook.db); an
// existing file only (an operator's typo must not create an empty queue). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "common/config.h"
#include "common/store/job_store.h"
#include "ctl/arguments.h"

namespace webhook::ctl {

// Options every queue command accepts, besides its own.
inline const std::set<std::string> kQueueOptions = {"database", "config"};

struct QueueAccess {
  std::unique_ptr<store::JobStore> store;
  int64_t retention_days = 30;  // WEBHOOK_HISTORY_RETENTION_DAYS
};

// webhookctl's configuration: --config FILE, else config.yml if present, and the
// environment. Throws ConfigError for a bad setting.
Config load_queue_config(const Arguments& args);

// Opens the store named by `args` and `config`. Throws std::runtime_error for a missing or
// unreadable database.
QueueAccess open_queue(const Arguments& args, const Config& config);

// Both of the above. Throws ConfigError for a bad setting and std::runtime_error for a
// missing or unreadable database.
QueueAccess open_queue(const Arguments& args);

}  // namespace webhook::ctl
