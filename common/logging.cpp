#include "common/logging.h"

#include "common/utc_time.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iterator>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace webhook {
namespace {

using json = nlohmann::ordered_json;

// Attributes of the message being logged on this thread; set by log_event() around the
// synchronous spdlog call, read by the formatters.
thread_local const json* t_attributes = nullptr;
// The same, given as fields (log_fields); at most one of the two is set.
thread_local const std::span<const LogField>* t_fields = nullptr;

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

// Appends `text` as a JSON string. Plain printable ASCII (ids, hosts, paths, most messages)
// is copied as it is; anything else goes through nlohmann's serializer, which escapes it and
// replaces invalid UTF-8. The dispatcher logs a line per attempt: this keeps that cheap.
void append_json_string(std::string_view text, spdlog::memory_buf_t& dest) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    dest.push_back('"');
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('"');
    return;
  }
  const std::string quoted =
      json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace);
  dest.append(quoted.data(), quoted.data() + quoted.size());
}

// The same digits as fmt's "{}", without parsing a format string for each number: an
// attempt line has four of them, and format_to cost 900 instructions each.
template <typename Integer>
void append_integer(Integer value, spdlog::memory_buf_t& dest) {
  const fmt::format_int digits(value);
  dest.append(digits.data(), digits.data() + digits.size());
}

void append_json_value(const json& value, spdlog::memory_buf_t& dest) {
  if (value.is_string()) {
    append_json_string(value.get_ref<const std::string&>(), dest);
  } else if (value.is_number_unsigned()) {
    append_integer(value.get<uint64_t>(), dest);
  } else if (value.is_number_integer()) {
    append_integer(value.get<int64_t>(), dest);
  } else {
    const std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
  }
}

// Writes the line field by field instead of building a json document and dumping it: the
// same text, without copying every attribute.
class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string name, std::string process)
      : name_(std::move(name)), process_(std::move(process)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    constexpr std::string_view kTimestamp = "{\"timestamp\":";
    dest.append(kTimestamp.data(), kTimestamp.data() + kTimestamp.size());
    append_json_string(utc_timestamp(msg.time), dest);
    append_field("level", level_name(msg.level), dest);
    append_field("name", name_, dest);
    append_field("message", std::string_view(msg.payload.data(), msg.payload.size()), dest);
    constexpr std::string_view kAttributes = ",\"attributes\":{\"process\":";
    dest.append(kAttributes.data(), kAttributes.data() + kAttributes.size());
    if (t_fields != nullptr) {
      append_fields(*t_fields, dest);
      constexpr std::string_view kEnd = "}}\n";
      dest.append(kEnd.data(), kEnd.data() + kEnd.size());
      return;
    }
    // An attribute named "process" replaces ours in its place, as a json object would.
    const bool has_attributes = t_attributes != nullptr && t_attributes->is_object();
    auto own = has_attributes ? t_attributes->find("process") : json::const_iterator();
    if (has_attributes && own != t_attributes->end()) {
      append_json_value(*own, dest);
    } else {
      append_json_string(process_, dest);
    }
    if (has_attributes) {
      for (const auto& [key, value] : t_attributes->items()) {
        if (key == "process") continue;
        dest.push_back(',');
        append_json_string(key, dest);
        dest.push_back(':');
        append_json_value(value, dest);
      }
    }
    constexpr std::string_view kEnd = "}}\n";
    dest.append(kEnd.data(), kEnd.data() + kEnd.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(name_, process_);
  }

 private:
  // As for a json object: a "process" field takes our value's place (keys are distinct).
  void append_fields(std::span<const LogField> fields, spdlog::memory_buf_t& dest) const {
    const LogField* own = nullptr;
    for (const LogField& f : fields) {
      if (f.key == "process") own = &f;
    }
    if (own != nullptr) {
      append_field_value(*own, dest);
    } else {
      append_json_string(process_, dest);
    }
    for (const LogField& f : fields) {
      if (&f == own) continue;
      dest.push_back(',');
      append_json_string(f.key, dest);
      dest.push_back(':');
      append_field_value(f, dest);
    }
  }

  static void append_field_value(const LogField& f, spdlog::memory_buf_t& dest) {
    if (f.is_number) {
      append_integer(f.number, dest);
    } else {
      append_json_string(f.text, dest);
    }
  }

  static void append_field(std::string_view key, std::string_view value,
                           spdlog::memory_buf_t& dest) {
    dest.push_back(',');
    append_json_string(key, dest);
    dest.push_back(':');
    append_json_string(value, dest);
  }

  std::string name_;
  std::string process_;
};

class TextFormatter final : public spdlog::formatter {
 public:
  explicit TextFormatter(std::string process) : process_(std::move(process)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string text = utc_timestamp(msg.time) + " " + level_name(msg.level) + " [" + process_ +
                       "] " + std::string(msg.payload.data(), msg.payload.size());
    if (t_fields != nullptr) {
      for (const LogField& f : *t_fields) {
        text += " " + std::string(f.key) + "=" +
                (f.is_number ? std::to_string(f.number) : std::string(f.text));
      }
    } else if (t_attributes != nullptr && t_attributes->is_object()) {
      append_attributes(*t_attributes, text);
    }
    text.push_back('\n');
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextFormatter>(process_);
  }

 private:
  static void append_attributes(const json& attributes, std::string& text) {
    for (const auto& [k, v] : attributes.items()) {
      text += " " + k + "=" +
              (v.is_string() ? v.get<std::string>()
                             : v.dump(-1, ' ', false, json::error_handler_t::replace));
    }
  }

  std::string process_;
};

// Lines logged on this thread inside a LogBatch, not yet written.
thread_local int t_batch_depth = 0;
thread_local std::string t_batch_lines;
constexpr size_t kMaxBatchBytes = 64 * 1024;

// Formats every line itself and hands the finished text to `inner` (which prints it as it
// is), so that lines held by a LogBatch go out in one call. Thread-safe: one mutex around
// the inner sink; the held lines are the logging thread's own.
class BatchingSink final : public spdlog::sinks::sink {
 public:
  explicit BatchingSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {
    inner_->set_formatter(
        std::make_unique<spdlog::pattern_formatter>("%v", spdlog::pattern_time_type::utc, ""));
  }

  void log(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    {
      std::lock_guard lock(mutex_);
      formatter_->format(msg, line);
    }
    if (t_batch_depth > 0) {
      t_batch_lines.append(line.data(), line.size());
      if (t_batch_lines.size() >= kMaxBatchBytes) write_held();
      return;
    }
    write(msg, std::string_view(line.data(), line.size()));
  }

  // The logger flushes after every line; a held line is flushed when its batch is written.
  void flush() override {
    if (t_batch_depth > 0) return;
    std::lock_guard lock(mutex_);
    inner_->flush();
  }

  void set_pattern(const std::string& pattern) override {
    set_formatter(std::make_unique<spdlog::pattern_formatter>(pattern));
  }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    std::lock_guard lock(mutex_);
    formatter_ = std::move(formatter);
  }

  void write_held() {
    if (t_batch_lines.empty()) return;
    write(spdlog::details::log_msg("", spdlog::level::info, ""), t_batch_lines);
    t_batch_lines.clear();
  }

 private:
  void write(const spdlog::details::log_msg& like, std::string_view text) {
    spdlog::details::log_msg whole(like);
    whole.payload = spdlog::string_view_t(text.data(), text.size());
    std::lock_guard lock(mutex_);
    inner_->log(whole);
    inner_->flush();
  }

  spdlog::sink_ptr inner_;
  std::mutex mutex_;
  std::unique_ptr<spdlog::formatter> formatter_ = std::make_unique<spdlog::pattern_formatter>();
};

// The sink of the logger setup_logging installed last, which LogBatch writes through.
std::mutex g_sink_mutex;
std::shared_ptr<BatchingSink> g_sink;

std::shared_ptr<BatchingSink> current_sink() {
  std::lock_guard lock(g_sink_mutex);
  return g_sink;
}

}  // namespace

LogBatch::LogBatch() { ++t_batch_depth; }

LogBatch::~LogBatch() {
  if (--t_batch_depth > 0) return;
  if (auto sink = current_sink()) {
    sink->write_held();
  } else {
    t_batch_lines.clear();
  }
}

bool default_json_logging() { return isatty(STDERR_FILENO) == 0; }

void setup_logging(const LogOptions& options, spdlog::sink_ptr sink) {
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto batching = std::make_shared<BatchingSink>(std::move(sink));
  {
    std::lock_guard lock(g_sink_mutex);
    g_sink = batching;
  }
  auto logger = std::make_shared<spdlog::logger>(options.process, batching);
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

void log_fields(spdlog::level::level_enum level, std::string_view message,
                std::span<const LogField> fields) {
  if (!spdlog::should_log(level)) return;
  t_fields = &fields;
  spdlog::log(level, "{}", message);
  t_fields = nullptr;
}

}  // namespace webhook
