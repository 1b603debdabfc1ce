// The one table of every setting opencti-webhook reads: its environment name, type,
// default, which programs read it and what it means. The config loader, `webhookctl
// check-config` and the README's configuration table are all derived from it.
// Immutable static data; safe to read from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace webhook {

// Bit mask of the programs a setting concerns.
enum Program : unsigned {
  kPoller = 1u << 0,
  kDispatcher = 1u << 1,
  kCtl = 1u << 2,
};
inline constexpr unsigned kAllPrograms = kPoller | kDispatcher | kCtl;

enum class SettingType {
  kString,
  kSecret,      // a string that is never printed, also not in errors
  kTemplate,    // a string compiled by the template language (checked by the programs)
  kInteger,     // 64-bit, within [min, max]
  kSeconds,     // decimal seconds ("0.2" allowed), within [min, max], held as milliseconds
  kBoolean,     // true/false/yes/no/1/0 in any case
  kEnum,        // one of `choices`, separated by '|', matched case-insensitively
  kJsonObject,  // a JSON object (in config.yml also a YAML mapping)
  kStatusList,  // comma-separated HTTP status codes
  kUuid,        // 8-4-4-4-12 hexadecimal digits, held in lower case
};

struct SettingSpec {
  std::string_view env;  // environment name, e.g. WEBHOOK_URL
  SettingType type;
  std::string_view default_value;  // as it would be written; empty means "not set"
  unsigned programs;               // who reads it
  unsigned required_by;            // programs that refuse to start without it
  bool per_feed;                   // may be given per entry of `feeds:` in config.yml
  std::string_view description;    // one line, for the README and check-config
  std::string_view choices = {};   // kEnum: "a|b|c"
  double min = 0;                  // kInteger, kSeconds
  double max = 9.0e15;
};

// Every setting, in the order the README lists them.
std::span<const SettingSpec> all_settings();

// The setting named `env`, or nullptr.
const SettingSpec* find_setting(std::string_view env);

// config.yml location of a setting: OPENCTI_URL -> "opencti.url",
// WEBHOOK_GRAPHQL_QUERY -> "webhook.graphql_query" (OpenCTI's connector convention).
std::string yaml_path(const SettingSpec& spec);

// The key of a per-feed setting inside a `feeds:` entry: WEBHOOK_URL -> "url".
std::string feed_key(const SettingSpec& spec);

// Readable name of a type, as the README and error messages show it.
std::string_view type_name(const SettingSpec& spec);

// The README's configuration table (GitHub markdown), generated from all_settings().
std::string settings_markdown_table();

// docker/.env.example: every setting with a comment, its type and its default, required
// ones as empty assignments to fill in, the others commented out at their default.
std::string settings_env_example();

}  // namespace webhook
