#include "common/logging.h"

#include <sstream>

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
