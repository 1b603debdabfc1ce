// Which job store the configuration names: the one place that turns the database settings
// (WEBHOOK_DATABASE_PATH, WEBHOOK_DATABASE_SYNCHRONOUS) into StoreOptions for
// store::open_store(), so the poller, the dispatcher and webhookctl always agree.
// Stateless; thread-safe.
#pragma once

#include "common/config.h"
#include "common/store/open_store.h"

namespace webhook {

store::StoreOptions store_options_from_config(const Config& config);

// Points `options` at `database`, an operator's --database: a postgresql:// or postgres://
// URI names the server store, anything else a file.
void set_database(store::StoreOptions& options, const std::string& database);

}  // namespace webhook
