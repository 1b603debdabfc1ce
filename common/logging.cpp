#include "common/logging.h"

#include "common/utc_time.h"

#include <unistd.h>

#include <chrono>
#include <ctime>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace webhook {
namespace {

using json = nlohmann::ordered_json;

// Attributes of the message being logged on this thread; set by log_event() around the
// synchronous spdlog call, read by the formatters.
thread_local const json* t_attributes = nullptr;

std::string utc_timestamp(spdlog::log_clock::time_point tp) {
  return format_utc_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count());
}

std::string level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return "DEBUG";
    case spdlog::level::info:
      return "INFO";
    case spdlog::level::warn:
      return "WARNING";
    case spdlog::level::err:
      return "ERROR";
    case spdlog::level::critical:
      return "CRITICAL";
    default:
      return "INFO";
  }
}

class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string name, std::string process)
      : name_(std::move(name)), process_(std::move(process)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    json line;
    line["timestamp"] = utc_timestamp(msg.time);
    line["level"] = level_name(msg.level);
    line["name"] = name_;
    line["message"] = std::string(msg.payload.data(), msg.payload.size());
    json attributes = json::object();
    attributes["process"] = process_;
    if (t_attributes != nullptr && t_attributes->is_object()) {
      for (const auto& [k, v] : t_attributes->items()) attributes[k] = v;
    }
    line["attributes"] = std::move(attributes);
    std::string text = line.dump(-1, ' ', false, json::error_handler_t::replace);
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(name_, process_);
  }

 private:
  std::string name_;
  std::string process_;
};

class TextFormatter final : public spdlog::formatter {
 public:
  explicit TextFormatter(std::string process) : process_(std::move(process)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text = utc_timestamp(msg.time) + " " + level_name(msg.level) + " [" + process_ +
                       "] " + std::string(msg.payload.data(), msg.payload.size());
    if (t_attributes != nullptr && t_attributes->is_object()) {
      for (const auto& [k, v] : t_attributes->items()) {
        text += " " + k + "=" +
                (v.is_string() ? v.get<std::string>()
                               : v.dump(-1, ' ', false, json::error_handler_t::replace));
      }
    }
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>(process_);
  }

 private:
  std::string process_;
};

}  // namespace

bool default_json_logging() { return isatty(STDERR_FILENO) == 0; }

void setup_logging(const LogOptions& options, spdlog::sink_ptr sink) {
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(options.process, sink);
  if (options.json) {
    logger->set_formatter(std::make_unique<JsonFormatter>(options.connector_name, options.process));
  } else {
    logger->set_formatter(std::make_unique<TextFormatter>(options.process));
  }
  std::string level = options.level == "warning" ? "warn" : options.level;
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

void log_event(spdlog::level::level_enum level, std::string_view message,
               const nlohmann::ordered_json& attributes) {
  t_attributes = &attributes;
  spdlog::log(level, "{}", message);
  t_attributes = nullptr;
}

}  // namespace webhook
