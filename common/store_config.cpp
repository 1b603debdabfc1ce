#include "common/store_config.h"

#include <cctype>

namespace webhook {

store::StoreOptions store_options_from_config(const Config& config) {
  store::StoreOptions options;
  options.url = config.string("WEBHOOK_DATABASE_URL");
  options.path = config.string("WEBHOOK_DATABASE_PATH");
  options.durability = config.string("WEBHOOK_DATABASE_SYNCHRONOUS");
  for (char& c : options.durability)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return options;
}

void set_database(store::StoreOptions& options, const std::string& database) {
  if (database.starts_with("postgresql://") || database.starts_with("postgres://")) {
    options.url = database;
  } else {
    options.url.clear();
    options.path = database;
  }
}

}  // namespace webhook
