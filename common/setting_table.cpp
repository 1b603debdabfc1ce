#include "common/setting_table.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace webhook {
namespace {

using T = SettingType;
constexpr unsigned P = kPoller;
constexpr unsigned D = kDispatcher;
constexpr unsigned C = kCtl;
constexpr unsigned PD = kPoller | kDispatcher;
constexpr unsigned ALL = kAllPrograms;

// clang-format off
constexpr std::array kSettings = {
  // --- OpenCTI platform ---
  SettingSpec{"OPENCTI_URL", T::kString, "", P | C, P, false,
    "URL of the OpenCTI platform; the poller posts to `{OPENCTI_URL}/graphql`."},
  SettingSpec{"OPENCTI_TOKEN", T::kSecret, "", P | C, P, false,
    "API token of the OpenCTI user the poller acts as (sent as `Authorization: Bearer`). Never logged."},
  SettingSpec{"OPENCTI_SSL_VERIFY", T::kBoolean, "true", P | C, 0, false,
    "Verify the platform's TLS certificate (the Python client defaulted to false)."},
  SettingSpec{"OPENCTI_CA_FILE", T::kString, "", P | C, 0, false,
    "PEM file of CA certificates to trust for the platform, e.g. a private CA."},
  SettingSpec{"OPENCTI_CUSTOM_HEADERS", T::kString, "", P | C, 0, false,
    "Extra headers for every GraphQL request, as `name1:value1;name2:value2`."},
  SettingSpec{"OPENCTI_JSON_LOGGING", T::kBoolean, "", ALL, 0, false,
    "Log JSON lines (`timestamp`, `level`, `name`, `message`, `attributes`); unset: text on a terminal, JSON otherwise."},
  // --- connector identity and conventions ---
  SettingSpec{"CONNECTOR_ID", T::kUuid, "", P | C, 0, false,
    "UUIDv4 of this connector. Set: the poller registers with OpenCTI and pings it every 40 s (listed in Data > Ingestion > Connectors); unset: it does not."},
  SettingSpec{"CONNECTOR_NAME", T::kString, "Webhook", ALL, 0, false,
    "Connector name shown in OpenCTI and in the `name` field of JSON logs."},
  SettingSpec{"CONNECTOR_TYPE", T::kEnum, "STREAM", P | C, 0, false,
    "OpenCTI connector type sent when registering; the Python connector's `Template_Type` registers as `STREAM`.",
    "STREAM|EXTERNAL_IMPORT|INTERNAL_IMPORT_FILE|INTERNAL_ENRICHMENT|INTERNAL_ANALYSIS|INTERNAL_EXPORT_FILE|Template_Type"},
  SettingSpec{"CONNECTOR_SCOPE", T::kString, "", P | C, 0, false,
    "Comma-separated connector scope sent when registering (shown in OpenCTI); otherwise unused."},
  SettingSpec{"CONNECTOR_AUTO", T::kBoolean, "false", P | C, 0, false,
    "`auto` flag sent when registering, as OpenCTI connectors do; the poller does not act on it."},
  SettingSpec{"CONNECTOR_ONLY_CONTEXTUAL", T::kBoolean, "false", P | C, 0, false,
    "`only_contextual` flag sent when registering, as OpenCTI connectors do; the poller does not act on it."},
  SettingSpec{"CONNECTOR_CONFIDENCE_LEVEL", T::kString, "", P | C, 0, false,
    "Accepted for compatibility with the Python connector; unused."},
  SettingSpec{"CONNECTOR_LOG_LEVEL", T::kEnum, "info", ALL, 0, false,
    "Log level.", "debug|info|warn|warning|error"},
  SettingSpec{"CONNECTOR_EXPOSE_METRICS", T::kBoolean, "false", PD | C, 0, false,
    "Serve Prometheus metrics at `/metrics` and a health answer at `/healthz` from each process, on its own port."},
  SettingSpec{"CONNECTOR_METRICS_PORT", T::kInteger, "9095", P | C, 0, false,
    "Port of the poller's metrics endpoint.", {}, 1, 65535},
  SettingSpec{"CONNECTOR_METRICS_NAMESPACE", T::kString, "", PD | C, 0, false,
    "Prefix of every metric name, as in OpenCTI connectors."},
  SettingSpec{"CONNECTOR_METRICS_SUBSYSTEM", T::kString, "", PD | C, 0, false,
    "Second prefix of every metric name, after the namespace."},
  // --- the stream webhook connector's names ---
  SettingSpec{"CONNECTOR_CONSUMER_COUNT", T::kInteger, "", P | C, 0, false,
    "Accepted for compatibility with the stream webhook connector (its sending threads); unused: concurrency is `WEBHOOK_CONCURRENCY`.", {}, 1, 10000},
  SettingSpec{"METRICS_ENABLE", T::kBoolean, "", PD | C, 0, false,
    "The stream webhook connector's name for `CONNECTOR_EXPOSE_METRICS`, used when that one is not set."},
  SettingSpec{"METRICS_PORT", T::kInteger, "", P | C, 0, false,
    "The stream webhook connector's name for `CONNECTOR_METRICS_PORT`, used when that one is not set.", {}, 1, 65535},
  SettingSpec{"METRICS_ADDR", T::kString, "", PD | C, 0, false,
    "The stream webhook connector's name for `WEBHOOK_METRICS_HOST`, used when that one is not set."},
  // --- stream feeds (OpenCTI live streams) ---
  SettingSpec{"CONNECTOR_LIVE_STREAM_ID", T::kString, "", P | C, 0, false,
    "Id of an OpenCTI live stream (Data > Data sharing > Live streams). Set (and not `ChangeMe`): the `default` feed is a stream feed reading `{OPENCTI_URL}/stream/{id}`; it may not be set with `WEBHOOK_GRAPHQL_QUERY`."},
  SettingSpec{"CONNECTOR_LIVE_STREAM_LISTEN_DELETE", T::kBoolean, "true", P | C, 0, false,
    "Ask the stream for `delete` events too (the `listen-delete` header, as pycti)."},
  SettingSpec{"CONNECTOR_LIVE_STREAM_NO_DEPENDENCIES", T::kBoolean, "true", P | C, 0, false,
    "Ask the stream not to send the objects an event depends on (the `no-dependencies` header, as pycti)."},
  SettingSpec{"CONNECTOR_LIVE_STREAM_WITH_INFERENCES", T::kBoolean, "false", P | C, 0, false,
    "Ask the stream for inferred objects too (the `with-inferences` header, as pycti)."},
  SettingSpec{"CONNECTOR_LIVE_STREAM_START_TIMESTAMP", T::kInteger, "", P | C, 0, false,
    "Where a new stream feed starts, in epoch ms (stream id `<ms>-0`); unset: the connector state OpenCTI kept (with `CONNECTOR_ID`), else the start of what the platform keeps (`0-0`). Ignored once the feed has a cursor.", {}, 0, 9.0e15},
  SettingSpec{"CONNECTOR_LIVE_STREAM_RECOVER_ISO_DATE", T::kString, "", P | C, 0, false,
    "Passed as `?recover=` on a new stream feed's first connection, as pycti does: the platform first sends the current state of the stream's objects up to that date as `create` events; `false`/`no`/`none`: no recovery."},
  SettingSpec{"WEBHOOK_SOURCE", T::kString, "", P | C, 0, true,
    "What a feed reads: `graphql` (polls) or `stream` (a live stream, which needs a stream id); unset: `stream` when a stream id is set, else `graphql`."},
  SettingSpec{"WEBHOOK_STREAM_ID", T::kString, "", P | C, 0, true,
    "A feed's live stream id; unset: `CONNECTOR_LIVE_STREAM_ID`."},
  SettingSpec{"WEBHOOK_STREAM_EVENTS", T::kString, "create,update,delete,merge", P | C, 0, true,
    "Comma-separated event types of a stream feed that become jobs; heartbeats only move the cursor."},
  SettingSpec{"WEBHOOK_STREAM_BATCH_SIZE", T::kInteger, "500", P | C, 0, false,
    "A stream feed commits its jobs and cursor after this many events, or after `WEBHOOK_STREAM_BATCH_TIME`, whichever comes first.", {}, 1, 100000},
  SettingSpec{"WEBHOOK_STREAM_BATCH_TIME", T::kSeconds, "0.2", P | C, 0, false,
    "Longest time an event of a stream feed waits for its commit.", {}, 0.001, 60},
  SettingSpec{"WEBHOOK_STREAM_WATCHDOG", T::kSeconds, "45", P | C, 0, false,
    "A stream connection that brings no message for this long is closed and opened again from the cursor (pycti's watchdog).", {}, 0.05, 3600},
  SettingSpec{"WEBHOOK_STREAM_RECONNECT_MAX", T::kSeconds, "60", P | C, 0, false,
    "Longest wait before reconnecting a stream that keeps failing (1 s, 2 s, 4 s ... up to this).", {}, 0.01, 3600},
  SettingSpec{"WEBHOOK_POLLER_LEASE", T::kSeconds, "15", P | C, 0, false,
    "How long a poller's lease of a feed lasts: one poller per feed polls, renewing it every third of this; the others stand by and take the feed over within this time after its poller dies, hangs or is cut off.", {}, 1, 3600},
  // --- polling OpenCTI ---
  SettingSpec{"WEBHOOK_GRAPHQL_POLLING_INTERVAL", T::kSeconds, "60", P | C, 0, true,
    "Seconds between the starts of two polls.", {}, 0.01, 86400},
  SettingSpec{"WEBHOOK_GRAPHQL_QUERY", T::kTemplate, "", P | C, P, true,
    "GraphQL query of a polling feed, an f-string template; `LAST_POLL_TIME` is first replaced by the cursor in epoch ms. Not needed by a stream feed."},
  SettingSpec{"WEBHOOK_GRAPHQL_RETURNED_DATA_LOCATION", T::kTemplate, "", P | C, P, true,
    "Where a polling feed's items are in the answer, as Python subscripts: `['data']['works']['edges']`. Not needed by a stream feed."},
  SettingSpec{"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", T::kTemplate, "", P | C, 0, true,
    "Where `pageInfo { endCursor hasNextPage }` is in the answer; set it to follow pages with the `$after` variable."},
  SettingSpec{"WEBHOOK_GRAPHQL_MAX_PAGES", T::kInteger, "100", P | C, 0, true,
    "Most pages fetched in one poll when paginating.", {}, 1, 100000},
  SettingSpec{"WEBHOOK_GRAPHQL_TIMEOUT", T::kSeconds, "60", P | C, 0, false,
    "Timeout of one GraphQL request.", {}, 0.01, 3600},
  SettingSpec{"WEBHOOK_GRAPHQL_MAX_RESPONSE_BYTES", T::kInteger, "67108864", P | C, 0, false,
    "Largest GraphQL answer accepted; a larger one fails the poll.", {}, 1024, 4.0e9},
  SettingSpec{"WEBHOOK_GRAPHQL_MAX_POLL_BYTES", T::kInteger, "134217728", P | C, 0, true,
    "Most bytes of answers one poll reads, all pages together; past it the poll fails (each byte of JSON takes about ten in memory).", {}, 1024, 1.0e12},
  SettingSpec{"WEBHOOK_POLL_OVERLAP", T::kSeconds, "5", P | C, 0, true,
    "Each poll asks again for this much time before the cursor, skipping items already enqueued; 0 is the Python connector's window.", {}, 0, 86400},
  // --- the requests ---
  SettingSpec{"WEBHOOK_URL", T::kTemplate, "", PD | C, P, true,
    "URL to call per item, an f-string template with `item` bound to it."},
  SettingSpec{"WEBHOOK_ALLOWED_HOSTS", T::kString, "", PD | C, 0, true,
    "Comma-separated receivers a rendered `WEBHOOK_URL` may name, each `host` (any port) or `host:port`; a job for another host is `dead` with the reason, never sent, and the dispatcher follows no redirect to another host. Unset: any host."},
  SettingSpec{"WEBHOOK_METHOD", T::kEnum, "GET", P | C, 0, true,
    "HTTP method of the webhook calls; a stream feed's default is `POST`.", "GET|POST|PUT|PATCH|DELETE"},
  SettingSpec{"WEBHOOK_HEADERS", T::kJsonObject, "", P | C, 0, true,
    "Extra request headers, a JSON object of header name to template; a stream feed's default is `Content-Type` and `Accept` `application/json`."},
  SettingSpec{"WEBHOOK_BODY", T::kTemplate, "", P | C, 0, true,
    "Request body template; `{json.dumps(item)}` sends the item as JSON. Empty: no body; on a stream feed, the event's data exactly as received."},
  SettingSpec{"WEBHOOK_FILTER", T::kTemplate, "", P | C, 0, true,
    "A Python expression per item (and `event_id`, `event_type` on a stream feed); an item for which it is false is not enqueued and is counted as filtered. Unset: every item."},
  SettingSpec{"WEBHOOK_TYPE", T::kEnum, "URL", P | C, 0, false,
    "The stream webhook connector's webhook type; `URL` is its only value.", "URL"},
  SettingSpec{"WEBHOOK_AUTH_TYPE", T::kString, "NONE", PD | C, 0, true,
    "`TOKEN`: the dispatcher adds the header `WEBHOOK_HEADER: WEBHOOK_TOKEN` to every call, as the stream webhook connector did (both are then required); `NONE`: no such header."},
  SettingSpec{"WEBHOOK_HEADER", T::kString, "", PD | C, 0, true,
    "Name of the header that carries `WEBHOOK_TOKEN` when `WEBHOOK_AUTH_TYPE=TOKEN`."},
  SettingSpec{"WEBHOOK_TOKEN", T::kSecret, "", PD | C, 0, true,
    "The token sent in `WEBHOOK_HEADER` when `WEBHOOK_AUTH_TYPE=TOKEN`; added by the dispatcher when it sends, never stored in a job, an attempt, a log or a metric."},
  SettingSpec{"WEBHOOK_IGNORE_DUPLICATES", T::kBoolean, "false", P | C, 0, true,
    "Drop identical requests rendered in the same poll, calling each once."},
  // --- ordered delivery ---
  SettingSpec{"WEBHOOK_ORDER_KEY", T::kTemplate, "", P | C, 0, true,
    "Order key per item, an f-string template such as `{item['node']['id']}`: the feed's jobs with the same key are delivered one at a time in enqueue order, a retry keeping its place, while other keys go on. Unset: no ordering."},
  SettingSpec{"WEBHOOK_ORDER_ON_DEAD", T::kEnum, "skip", P | C, 0, true,
    "With an order key, what a `dead` job does to the later jobs of its key: `skip` lets them go on; `block` holds them until an operator retries or cancels it (`webhookctl blocked` lists such keys). Applies to jobs enqueued after a change.", "skip|block"},
  SettingSpec{"WEBHOOK_COALESCE", T::kBoolean, "false", P | C, 0, true,
    "With an order key, a new job of a key marks the key's earlier jobs that are pending and were never tried `superseded`, so only the latest is sent: for receivers that want the current state, not every change."},
  // --- delivery and retries ---
  SettingSpec{"WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", T::kSeconds, "60", PD | C, 0, true,
    "Seconds before retrying a failed call.", {}, 0, 86400 * 7},
  SettingSpec{"WEBHOOK_UNSUCCESSFUL_RETRY_ATTEMPTS", T::kInteger, "3", PD | C, 0, true,
    "Retries after the first try; then the job is `dead`.", {}, 0, 1000},
  SettingSpec{"WEBHOOK_RETRY_BACKOFF", T::kEnum, "fixed", D | C, 0, true,
    "`fixed` waits the retry interval every time; `exponential` doubles it per attempt with ±20% jitter.", "fixed|exponential"},
  SettingSpec{"WEBHOOK_RETRY_MAX_INTERVAL", T::kSeconds, "3600", D | C, 0, true,
    "Longest wait between attempts (exponential backoff, Retry-After).", {}, 0, 86400 * 7},
  SettingSpec{"WEBHOOK_PERMANENT_STATUSES", T::kStatusList, "", D | C, 0, true,
    "HTTP statuses that make a job `dead` at once, e.g. `400,404,410`."},
  SettingSpec{"WEBHOOK_MAX_JOB_AGE", T::kSeconds, "", D | C, 0, true,
    "A job older than this is `dead` instead of retried. Unset: no limit.", {}, 1, 86400 * 365},
  SettingSpec{"WEBHOOK_SECRET", T::kSecret, "", PD | C, 0, true,
    "Standard Webhooks signing secret (`whsec_` + base64); adds `webhook-timestamp` and `webhook-signature`. Never logged."},
  SettingSpec{"WEBHOOK_CONCURRENCY", T::kInteger, "16", D | C, 0, false,
    "Requests in flight at once.", {}, 1, 10000},
  SettingSpec{"WEBHOOK_HOST_CONCURRENCY", T::kInteger, "8", D | C, 0, false,
    "Requests in flight at once to one host.", {}, 1, 10000},
  SettingSpec{"WEBHOOK_TIMEOUT", T::kSeconds, "30", D | C, 0, false,
    "Timeout of one webhook request.", {}, 0.01, 3600},
  SettingSpec{"WEBHOOK_CONNECT_TIMEOUT", T::kSeconds, "10", D | C, 0, false,
    "Timeout for connecting to a receiver.", {}, 0.01, 3600},
  SettingSpec{"WEBHOOK_CROSS_ORIGIN_REDIRECTS", T::kBoolean, "false", D | C, 0, false,
    "Follow a 3xx answer to another origin (scheme, host or port), which then gets the configured headers (such as an API key), the body and the signature; `false`: the attempt fails with that 3xx status. Redirects within the origin are always followed."},
  SettingSpec{"WEBHOOK_SSL_VERIFY", T::kBoolean, "true", D | C, 0, false,
    "Verify receivers' TLS certificates."},
  SettingSpec{"WEBHOOK_CA_FILE", T::kString, "", D | C, 0, false,
    "PEM file of CA certificates to trust for receivers."},
  SettingSpec{"WEBHOOK_SHUTDOWN_GRACE", T::kSeconds, "10", D | C, 0, false,
    "On SIGTERM, how long requests in flight may finish before they are put back unanswered.", {}, 0, 3600},
  SettingSpec{"WEBHOOK_HISTORY_RETENTION_DAYS", T::kInteger, "30", D | C, 0, false,
    "Delivered, dead, cancelled and superseded jobs older than this many days are pruned with their attempts.", {}, 1, 36500},
  SettingSpec{"WEBHOOK_DISPATCHER_METRICS_PORT", T::kInteger, "9096", D | C, 0, false,
    "Port of the dispatcher's metrics endpoint.", {}, 1, 65535},
  SettingSpec{"WEBHOOK_METRICS_HOST", T::kString, "0.0.0.0", PD | C, 0, false,
    "Address the metrics endpoints listen on; `127.0.0.1` keeps them to the host."},
  SettingSpec{"WEBHOOK_HEALTH_MAX_HEARTBEAT_AGE", T::kSeconds, "60", D | C, 0, false,
    "The dispatcher is unhealthy when its heartbeat (written every 10 s) is older than this.", {}, 1, 86400},
  SettingSpec{"WEBHOOK_HEALTH_MAX_DUE_DELAY", T::kSeconds, "300", D | C, 0, false,
    "The dispatcher is unhealthy when a pending job has been due this long without being claimed.", {}, 0.01, 86400 * 7},
  SettingSpec{"WEBHOOK_HEALTH_MAX_PENDING_AGE", T::kSeconds, "900", D | C, 0, false,
    "The dispatcher is unhealthy when a job has been pending this long since it was enqueued (a receiver failing for long); 0 disables the rule.", {}, 0, 86400 * 365},
  // --- the delivery console (webhookctl serve) ---
  SettingSpec{"WEBHOOK_CONSOLE_LISTEN", T::kString, "127.0.0.1:9097", C, 0, false,
    "`HOST:PORT` the delivery console (`webhookctl serve`) listens on; keep it on loopback or behind a TLS reverse proxy."},
  SettingSpec{"WEBHOOK_CONSOLE_TOKEN", T::kSecret, "", C, 0, false,
    "Token the console's repair actions (retry, cancel, rewind) require; unset: the console is read-only. Never logged or shown."},
  // --- storage ---
  SettingSpec{"WEBHOOK_DATABASE_URL", T::kSecret, "", ALL, 0, false,
    "A PostgreSQL connection URI (`postgresql://user@host:5432/db?sslmode=require`; `PGPASSWORD`, `PGPASSFILE` and the other `PG*` variables are honoured). Set: both processes and webhookctl use that server and `WEBHOOK_DATABASE_PATH` is not read. Any password in it is kept secret."},
  SettingSpec{"WEBHOOK_DATABASE_PATH", T::kString, "data/webhook.db", ALL, 0, false,
    "The SQLite file both processes share (its folder is created if missing), when `WEBHOOK_DATABASE_URL` is not set."},
  SettingSpec{"WEBHOOK_DATABASE_SYNCHRONOUS", T::kEnum, "FULL", ALL, 0, false,
    "SQLite `synchronous` mode: `FULL` waits for the disk at every commit but a claim's; `NORMAL` is faster and can lose the last commits on power loss.", "FULL|NORMAL"},
};
// clang-format on

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string programs_text(unsigned programs) {
  std::string out;
  auto add = [&](unsigned bit, std::string_view name) {
    if ((programs & bit) == 0) return;
    if (!out.empty()) out += ", ";
    out += name;
  };
  add(kPoller, "poller");
  add(kDispatcher, "dispatcher");
  return out.empty() ? "webhookctl" : out;
}

}  // namespace

std::span<const SettingSpec> all_settings() { return kSettings; }

const SettingSpec* find_setting(std::string_view env) {
  for (const auto& s : kSettings) {
    if (s.env == env) return &s;
  }
  return nullptr;
}

std::string yaml_path(const SettingSpec& spec) {
  auto underscore = spec.env.find('_');
  return lower(spec.env.substr(0, underscore)) + "." + lower(spec.env.substr(underscore + 1));
}

std::string feed_key(const SettingSpec& spec) {
  return lower(spec.env.substr(spec.env.find('_') + 1));
}

std::string_view type_name(const SettingSpec& spec) {
  switch (spec.type) {
    case SettingType::kString:
      return "string";
    case SettingType::kSecret:
      return "secret";
    case SettingType::kTemplate:
      return "template";
    case SettingType::kInteger:
      return "integer";
    case SettingType::kSeconds:
      return "seconds";
    case SettingType::kBoolean:
      return "boolean";
    case SettingType::kEnum:
      return "one of";
    case SettingType::kJsonObject:
      return "JSON object";
    case SettingType::kStatusList:
      return "status list";
    case SettingType::kUuid:
      return "UUID";
  }
  return "?";
}

// An enumeration's choices as the README and the env example show them: a/b/c.
static std::string choices_text(const SettingSpec& spec) {
  std::string choices(spec.choices);
  for (auto& c : choices) {
    if (c == '|') c = '/';
  }
  return choices;
}

std::string settings_markdown_table() {
  std::string out =
      "| Environment variable | config.yml | Type | Default | Read by | Description |\n"
      "| --- | --- | --- | --- | --- | --- |\n";
  for (const auto& s : kSettings) {
    std::string type(type_name(s));
    if (s.type == SettingType::kEnum) type += " `" + choices_text(s) + "`";
    // Strings are built by appending: GCC 12 at -O3 reports a false -Wrestrict on
    // `"literal" + std::string(...)`, which breaks the Release (bench) build.
    std::string def = s.default_value.empty()
                          ? std::string(s.required_by ? "**required**" : "(unset)")
                          : std::string("`").append(s.default_value).append("`");
    std::string yaml = std::string("`").append(yaml_path(s)).append("`");
    if (s.per_feed) yaml += " (per feed)";
    out += "| `" + std::string(s.env) + "` | " + yaml + " | " + type + " | " + def + " | " +
           programs_text(s.programs) + " | " + std::string(s.description) + " |\n";
  }
  return out;
}

std::string settings_env_example() {
  std::string out =
      "# opencti-webhook settings: the env_file of docker/docker-compose.yml (copy to\n"
      "# docker/.env) and the EnvironmentFile of the systemd units\n"
      "# (/etc/opencti-webhook/webhook.env). Generated from the setting table by\n"
      "# `webhookctl settings --env-example` (`make env-example`); do not edit it here.\n"
      "#\n"
      "# Fill in the required settings and uncomment what you change; an empty value counts\n"
      "# as unset. One line per value. systemd reads quotes as shell does, so put a value\n"
      "# that contains ' or \" (templates, data locations) in double quotes there; Docker's\n"
      "# env_file takes the line as written. Templates are often easier in config.yml.\n";
  for (const auto& s : kSettings) {
    std::string type(type_name(s));
    if (s.type == SettingType::kEnum) type += " " + choices_text(s);
    out += "\n# " + std::string(s.description) + "\n# " + type;
    if (s.required_by != 0) {
      out += ", required by " + programs_text(s.required_by) + "\n";
      out += std::string(s.env) + "=\n";
      continue;
    }
    out += s.default_value.empty() ? ", unset by default"
                                   : ", default " + std::string(s.default_value);
    out += "; read by " + programs_text(s.programs) + "\n";
    out.append("#").append(s.env).append("=").append(s.default_value).append("\n");
  }
  return out;
}

}  // namespace webhook
