// The JSON Schema (draft 2020-12) of opencti-webhook's environment settings that OpenCTI's
// connector catalog reads from __metadata__/connector_config_schema.json, generated from the
// setting table so that the catalog, the README's table and docker/.env.example never
// disagree. Pure functions of static data; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace webhook {

// Where the container image keeps the database (docker/Dockerfile's ENV). The connector
// manager passes every default of the schema to the container as an environment variable,
// so the schema must give the image's path, not the table's working-directory default.
inline constexpr std::string_view kImageDatabasePath = "/var/lib/opencti-webhook/webhook.db";

// The schema as the catalog's files are written: 2-space indentation, settings in the
// table's order, each property's keywords in alphabetical order, a final newline.
std::string connector_config_schema();

}  // namespace webhook
