// Loads opencti-webhook's settings from the environment and an optional config.yml, checks
// them against the setting table, and answers typed questions about them. A Config is
// immutable once loaded and safe to share between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/setting_table.h"

namespace webhook {

using Environment = std::map<std::string, std::string, std::less<>>;

// The process environment as a map.
Environment process_environment();

// Thrown by Config::load with one line per problem, each naming the setting. Secrets show
// as `***`.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::vector<std::string> problems_;
};

// What a feed reads: GraphQL polls, or an OpenCTI live stream (SSE).
enum class FeedSource { kGraphql, kStream };

// How one feed polls and delivers. The environment's WEBHOOK_* settings describe the single
// feed `default`; config.yml may instead list several under `feeds:`.
struct FeedConfig {
  std::string name;
  FeedSource source = FeedSource::kGraphql;
  std::string stream_id;                   // a stream feed's live stream
  std::vector<std::string> stream_events;  // WEBHOOK_STREAM_EVENTS: event types enqueued
  std::string filter;                      // WEBHOOK_FILTER, an expression; empty: none
  std::string graphql_query;               // template, before LAST_POLL_TIME replacement
  std::string data_location;               // subscripts, e.g. ['data']['works']['edges']
  std::string page_info_location;          // empty: no pagination
  int64_t max_pages = 100;
  int64_t max_poll_bytes = 128ll << 20;  // all pages of one poll together
  std::chrono::milliseconds polling_interval{60000};
  std::chrono::milliseconds poll_overlap{5000};
  std::string url;  // template
  std::string method = "GET";
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();  // name -> template
  std::string body;                                                   // template; empty: no body
  bool ignore_duplicates = false;
  std::string order_key;           // template; empty: unordered
  bool order_dead_blocks = false;  // WEBHOOK_ORDER_ON_DEAD=block
  bool coalesce = false;
  std::chrono::milliseconds retry_interval{60000};
  int64_t retry_attempts = 3;           // retries after the first try
  std::string retry_backoff = "fixed";  // fixed | exponential
  std::chrono::milliseconds retry_max_interval{3600000};
  std::vector<int> permanent_statuses;
  std::optional<std::chrono::milliseconds> max_job_age;
  std::optional<std::string> secret;  // Standard Webhooks secret, whsec_...
  // WEBHOOK_ALLOWED_HOSTS, lower case: "host" (any port) or "host:port". Empty: any host.
  std::vector<std::string> allowed_hosts;
  // WEBHOOK_AUTH_TYPE=TOKEN: the dispatcher adds `auth_header: auth_token` when it sends;
  // never stored in a job.
  std::string auth_header;
  std::optional<std::string> auth_token;
  // Whether method, headers and body were set (a stream feed's defaults differ).
  bool method_set = false;
  bool headers_set = false;
  bool body_set = false;
  // A stream feed without WEBHOOK_BODY sends the event's data text as received.
  bool body_is_event_data = false;
};

class Config {
 public:
  // Reads every setting `programs` use from `env` and, when `yaml_file` is given and exists,
  // from that file (the environment wins). `require_file` makes a missing file an error
  // (an explicit --config). Throws ConfigError listing every problem at once.
  static Config load(unsigned programs, const Environment& env,
                     const std::optional<std::string>& yaml_file, bool require_file = false);

  // Typed access. REQUIRES: `name` is in the setting table with the matching type
  // (otherwise std::logic_error: a programming error, not a user's).
  bool is_set(std::string_view name) const;
  std::string string(std::string_view name) const;  // kString, kSecret, kTemplate, kEnum, kUuid
  int64_t integer(std::string_view name) const;
  std::chrono::milliseconds duration(std::string_view name) const;
  std::optional<std::chrono::milliseconds> optional_duration(std::string_view name) const;
  bool boolean(std::string_view name) const;
  std::optional<bool> optional_boolean(std::string_view name) const;
  const nlohmann::ordered_json& json(std::string_view name) const;
  std::vector<int> status_list(std::string_view name) const;

  const std::vector<FeedConfig>& feeds() const { return feeds_; }

  // Non-fatal remarks found while loading (unknown keys, unused settings), for the log.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // One line per setting: name, value (secrets as ***), and where it came from.
  std::vector<std::string> describe() const;

 private:
  struct Value {
    std::string text;    // as given (after trimming)
    std::string source;  // "environment", "config.yml", "default"
    nlohmann::ordered_json parsed;
  };
  const Value* find(std::string_view name, SettingType expected) const;
  static Config load_unguarded(unsigned programs, const Environment& env,
                               const std::optional<std::string>& yaml_file, bool require_file);

  std::map<std::string, Value, std::less<>> values_;
  std::vector<FeedConfig> feeds_;
  std::vector<std::string> warnings_;
};

// WEBHOOK_ALLOWED_HOSTS as a list: entries trimmed, lower-cased, empty ones dropped.
std::vector<std::string> parse_allowed_hosts(std::string_view text);

// Parses a boolean the way every setting does: true/false/yes/no/1/0 in any case.
std::optional<bool> parse_boolean(std::string_view text);

}  // namespace webhook
