// Process-wide logging on spdlog: plain text or OpenCTI's JSON-lines shape
// ({"timestamp","level","name","message","attributes"}). setup_logging() is called once
// from main before any other thread starts; the log_* functions are thread-safe.
#pragma once

#include <cstdint>
#include <span>
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

// One attribute for log_fields: a string or an integer, borrowed for the call.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), text(v) {}
  LogField(std::string_view k, int64_t n) : key(k), number(n), is_number(true) {}
  std::string_view key;
  std::string_view text;
  int64_t number = 0;
  bool is_number = false;
};

// The line log_event writes for a json object of these attributes (distinct keys) in this
// order, without building the object: for a line logged per delivery (the attempt log),
// where copying every key and value into a json document cost more than writing the line.
void log_fields(spdlog::level::level_enum level, std::string_view message,
                std::span<const LogField> fields);

// While one lives on a thread, the lines that thread logs are held and written together
// when it ends (or every 64 KiB), in one write instead of one each: the dispatcher's store
// thread opens one around a batch's attempt lines. Lines of other threads are not held.
// Nests; only the outermost writes. Create and destroy on the same thread.
class LogBatch {
 public:
  LogBatch();
  ~LogBatch();
  LogBatch(const LogBatch&) = delete;
  LogBatch& operator=(const LogBatch&) = delete;
};

}  // namespace webhook
