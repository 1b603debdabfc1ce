// Process-wide logging on spdlog: plain text or OpenCTI's JSON-lines shape
// ({"timestamp","level","name","message","attributes"}). setup_logging() is called once
// from main before any other thread starts; the log_* functions are thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace webhook {

struct LogOptions {
  std::string level = "info";  // debug | info | warn | warning | error
  bool json = false;
  std::string connector_name = "Webhook";  // the JSON `name` field
  std::string process;                     // poller | dispatcher | webhookctl
};

// Installs the default logger, writing to `sink` (stderr when null). JSON lines carry
// `process` in their attributes.
void setup_logging(const LogOptions& options, spdlog::sink_ptr sink = nullptr);

// What OPENCTI_JSON_LOGGING unset means: JSON unless stderr is a terminal.
bool default_json_logging();

// Logs `message` with structured attributes: JSON attributes, or ` key=value` pairs in text.
// Never pass secrets: attributes are written as given.
void log_event(spdlog::level::level_enum level, std::string_view message,
               const nlohmann::ordered_json& attributes);

}  // namespace webhook
