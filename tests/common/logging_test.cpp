#include "common/logging.h"

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

namespace webhook {
namespace {

using json = nlohmann::ordered_json;

class LoggingTest : public ::testing::Test {
 protected:
  void setup(LogOptions options) {
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    setup_logging(options, sink_);
  }
  void TearDown() override { setup_logging({.process = "test"}); }

  std::ostringstream out_;
  spdlog::sink_ptr sink_;
};

TEST_F(LoggingTest, JsonLinesHaveOpenCtiConnectorShape) {
  setup({.level = "info", .json = true, .connector_name = "My Webhook", .process = "poller"});
  log_event(spdlog::level::warn, "poll failed", {{"feed", "default"}, {"status", 502}});
  std::string line = out_.str();
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  json parsed = json::parse(line);
  std::vector<std::string> keys;
  for (const auto& [k, v] : parsed.items()) keys.push_back(k);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"timestamp", "level", "name", "message", "attributes"}));
  EXPECT_EQ(parsed["level"], "WARNING");
  EXPECT_EQ(parsed["name"], "My Webhook");
  EXPECT_EQ(parsed["message"], "poll failed");
  EXPECT_EQ(parsed["attributes"]["process"], "poller");
  EXPECT_EQ(parsed["attributes"]["feed"], "default");
  EXPECT_EQ(parsed["attributes"]["status"], 502);
  std::string ts = parsed["timestamp"];
  ASSERT_EQ(ts.size(), 24u) << ts;  // 2026-11-28T12:00:00.000Z
  EXPECT_EQ(ts[10], 'T');
  EXPECT_EQ(ts.back(), 'Z');
}

TEST_F(LoggingTest, JsonAttributesOfEveryKindSurviveTheRoundTrip) {
  setup({.json = true, .connector_name = "Name \"quoted\"", .process = "dispatcher"});
  const json attributes = {{"plain", "abc/def?x=1"},
                           {"escaped", "quote \" backslash \\ newline \n tab \t"},
                           {"unicode", "caf\xc3\xa9 \xe2\x9c\x93"},
                           {"negative", -42},
                           {"big", 18446744073709551615ULL},
                           {"real", 1.5},
                           {"flag", true},
                           {"nothing", nullptr},
                           {"nested", {{"a", 1}, {"b", json::array({"x", 2})}}},
                           {"process", "overridden"}};
  log_event(spdlog::level::info, "message with \"quotes\"\n", attributes);
  const json parsed = json::parse(out_.str());
  EXPECT_EQ(parsed["name"], "Name \"quoted\"");
  EXPECT_EQ(parsed["message"], "message with \"quotes\"\n");
  // "process" first, where the formatter puts its own, then the attributes in their order.
  json expected = {{"process", "overridden"}};
  for (const auto& [key, value] : attributes.items()) {
    if (key != "process") expected[key] = value;
  }
  EXPECT_EQ(parsed["attributes"].dump(), expected.dump());
}

// log_fields writes the line log_event writes for the same attributes, in JSON and in text:
// the attempt log's format does not depend on which of the two built it.
TEST_F(LoggingTest, FieldsWriteTheSameLineAsTheirJsonObject) {
  // No newline: a text line would be cut in two by it, and this test reads line by line.
  const std::string escaped = "quote \" backslash \\ tab \t";
  const std::string invalid = "bad \xff byte";
  const std::vector<LogField> fields = {{"job", "job-1"},       {"process", "overridden"},
                                        {"escaped", escaped},   {"unicode", "caf\xc3\xa9"},
                                        {"invalid", invalid},   {"negative", int64_t{-42}},
                                        {"attempt", int64_t{3}}};
  json attributes = json::object();
  for (const LogField& f : fields) {
    if (f.is_number) {
      attributes[std::string(f.key)] = f.number;
    } else {
      attributes[std::string(f.key)] = std::string(f.text);
    }
  }
  // The timestamp is the only part that may differ between two lines.
  const auto after_timestamp = [](const std::string& line, size_t skip) {
    return line.substr(skip);
  };
  for (bool as_json : {true, false}) {
    setup({.json = as_json, .process = "dispatcher"});
    log_event(spdlog::level::info, "webhook attempt", attributes);
    log_fields(spdlog::level::info, "webhook attempt", fields);
    log_fields(spdlog::level::debug, "below the level", fields);
    std::istringstream lines(out_.str());
    std::string from_json, from_fields, extra;
    ASSERT_TRUE(std::getline(lines, from_json));
    ASSERT_TRUE(std::getline(lines, from_fields));
    EXPECT_FALSE(std::getline(lines, extra)) << "a line below the level was written: " << extra;
    // {"timestamp":"2026-11-28T12:00:00.000Z" is 39 characters; the text line's is 24.
    const size_t skip = as_json ? 39 : 24;
    EXPECT_EQ(after_timestamp(from_fields, skip), after_timestamp(from_json, skip)) << as_json;
    out_.str("");
  }
}

// Inside a LogBatch a thread's lines are held and written together, in order and whole, when
// the outermost batch ends; another thread's lines are not held meanwhile.
TEST_F(LoggingTest, BatchWritesItsLinesTogetherWhenItEnds) {
  setup({.json = true, .process = "dispatcher"});
  {
    LogBatch outer;
    log_fields(spdlog::level::info, "first", std::vector<LogField>{{"n", int64_t{1}}});
    {
      LogBatch inner;
      log_event(spdlog::level::info, "second", {{"n", 2}});
    }
    EXPECT_EQ(out_.str(), "") << "written before the outermost batch ended";
    std::thread other([] { log_event(spdlog::level::info, "other thread", json::object()); });
    other.join();
    EXPECT_NE(out_.str().find("other thread"), std::string::npos);
    out_.str("");
  }
  std::istringstream lines(out_.str());
  std::vector<std::string> messages;
  for (std::string line; std::getline(lines, line);) {
    messages.push_back(json::parse(line)["message"]);
  }
  EXPECT_EQ(messages, (std::vector<std::string>{"first", "second"}));
  // Outside a batch, each line is written at once.
  out_.str("");
  log_event(spdlog::level::info, "alone", json::object());
  EXPECT_NE(out_.str().find("alone"), std::string::npos);
}

TEST_F(LoggingTest, InvalidUtf8InAttributesIsReplacedNotThrown) {
  setup({.json = true, .process = "poller"});
  log_event(spdlog::level::info, "bad", {{"path", "/a\xff"}});
  const json parsed = json::parse(out_.str());
  EXPECT_EQ(parsed["attributes"]["path"], "/a\xef\xbf\xbd");  // U+FFFD
}

TEST_F(LoggingTest, PlainSpdlogCallsAreJsonToo) {
  setup({.json = true, .process = "dispatcher"});
  spdlog::info("started with \"quotes\"");
  json parsed = json::parse(out_.str());
  EXPECT_EQ(parsed["message"], "started with \"quotes\"");
  EXPECT_EQ(parsed["attributes"], json({{"process", "dispatcher"}}));
}

TEST_F(LoggingTest, TextLinesCarryProcessAndAttributes) {
  setup({.json = false, .process = "poller"});
  log_event(spdlog::level::info, "poll ok", {{"feed", "works"}, {"items", 3}});
  std::string line = out_.str();
  EXPECT_NE(line.find(" INFO [poller] poll ok feed=works items=3\n"), std::string::npos) << line;
}

TEST_F(LoggingTest, LevelFiltersMessagesBelowIt) {
  setup({.level = "warning", .json = false, .process = "poller"});
  spdlog::info("hidden");
  spdlog::debug("hidden too");
  spdlog::error("shown");
  EXPECT_EQ(out_.str().find("hidden"), std::string::npos);
  EXPECT_NE(out_.str().find("shown"), std::string::npos);
}

TEST_F(LoggingTest, InvalidUtf8IsReplacedNotThrown) {
  setup({.json = true, .process = "poller"});
  EXPECT_NO_THROW(spdlog::info("bad \xff byte"));
  EXPECT_NO_THROW(json::parse(out_.str()));
}

}  // namespace
}  // namespace webhook
