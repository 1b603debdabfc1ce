#include "common/connector_config_schema.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/setting_table.h"

namespace webhook {
namespace {

using Json = nlohmann::ordered_json;

// The table's "no upper bound": a maximum equal to it is left out of the schema.
constexpr double kUnbounded = SettingSpec{}.max;

constexpr std::string_view kDescription =
    "Environment of one opencti-webhook container as OpenCTI's connector manager runs it: the "
    "poller and the dispatcher of one feed, named `default`, sharing one SQLite database in "
    "the container. The feed's query, data location and URL template are "
    "WEBHOOK_GRAPHQL_QUERY, WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION and WEBHOOK_URL. Several "
    "feeds, each with its own query, templates, interval and retry settings, are the `feeds:` "
    "list of config.yml, which has no environment form and which the manager cannot provide: "
    "deploy one connector per feed, or run the containers yourself with a config.yml (see the "
    "README, \"Several feeds\"). Booleans accept true/false/yes/no/1/0, seconds may have "
    "decimals.";

// A bound or a default as JSON: integral values as integers (9095, not 9095.0).
Json number(double v) {
  if (std::trunc(v) == v && std::fabs(v) < 9.0e15) return Json(static_cast<int64_t>(v));
  return Json(v);
}

Json typed_default(const SettingSpec& spec, std::string_view text) {
  switch (spec.type) {
    case SettingType::kBoolean:
      return Json(text == "true");
    case SettingType::kInteger:
    case SettingType::kSeconds: {
      double v = 0;
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || ptr != text.data() + text.size()) {
        throw std::logic_error("setting table: bad default of " + std::string(spec.env));
      }
      return number(v);
    }
    default:
      return Json(std::string(text));
  }
}

std::string_view json_type(const SettingSpec& spec) {
  switch (spec.type) {
    case SettingType::kBoolean:
      return "boolean";
    case SettingType::kInteger:
      return "integer";
    case SettingType::kSeconds:
      return "number";
    default:
      // Strings, templates, secrets, UUIDs, status lists, and JSON objects, which the
      // environment holds as text.
      return "string";
  }
}

// One property. Keywords are added in alphabetical order, as the catalog's files list them.
Json property(const SettingSpec& spec) {
  Json p = Json::object();
  if (spec.type == SettingType::kJsonObject) p["contentMediaType"] = "application/json";
  // A secret has no default: the manager would otherwise fill the form with it.
  std::string_view def =
      spec.env == "WEBHOOK_DATABASE_PATH" ? kImageDatabasePath : spec.default_value;
  if (!def.empty() && spec.type != SettingType::kSecret) p["default"] = typed_default(spec, def);
  p["description"] = std::string(spec.description);
  if (spec.type == SettingType::kEnum) {
    Json choices = Json::array();
    std::string_view rest = spec.choices;
    while (!rest.empty()) {
      auto bar = rest.find('|');
      choices.push_back(std::string(rest.substr(0, bar)));
      rest = bar == std::string_view::npos ? std::string_view{} : rest.substr(bar + 1);
    }
    p["enum"] = choices;
  }
  // The catalog's marking of a secret: the manager encrypts the value and never shows it.
  // No pattern on a secret (whsec_...): the platform validates the stored, encrypted text.
  if (spec.type == SettingType::kSecret) p["format"] = "password";
  if (spec.type == SettingType::kInteger || spec.type == SettingType::kSeconds) {
    if (spec.max < kUnbounded) p["maximum"] = number(spec.max);
    p["minimum"] = number(spec.min);
  }
  // Patterns rather than "format": "uuid": the platform compiles schemas with a fixed set of
  // formats (password, uri, duration, email, date-time, date) and refuses any other.
  if (spec.type == SettingType::kUuid) {
    p["pattern"] = "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$";
  }
  if (spec.type == SettingType::kStatusList) {
    p["pattern"] = "^ *[1-5][0-9]{2}( *, *[1-5][0-9]{2})* *$";
  }
  p["type"] = std::string(json_type(spec));
  if (spec.type == SettingType::kSecret) p["writeOnly"] = true;
  return p;
}

}  // namespace

std::string connector_config_schema() {
  Json schema = Json::object();
  schema["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  schema["$id"] = "https://www.filigran.io/connectors/opencti-webhook_config.schema.json";
  schema["description"] = std::string(kDescription);
  schema["type"] = "object";
  Json properties = Json::object();
  Json required = Json::array();
  for (const auto& spec : all_settings()) {
    properties[std::string(spec.env)] = property(spec);
    if (spec.required_by != 0) required.push_back(std::string(spec.env));
  }
  schema["properties"] = properties;
  schema["required"] = required;
  schema["additionalProperties"] = true;
  return schema.dump(2) + "\n";
}

}  // namespace webhook
