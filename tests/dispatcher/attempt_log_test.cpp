#include "dispatcher/attempt_log.h"

#include <gtest/gtest.h>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"
#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Reply;
using testing::Script;
using testing::TestReceiver;

// Captures JSON log lines for one test and puts the default logger back afterwards.
class CapturedLogs {
 public:
  explicit CapturedLogs(const std::string& level) {
    setup_logging({level, true, "Webhook", "dispatcher"},
                  std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_));
  }
  ~CapturedLogs() { setup_logging({"info", false, "Webhook", "dispatcher"}); }
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> out;
    std::istringstream in(stream_.str());
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
};

TEST(AttemptLog, OneInfoLinePerAttemptWithoutQueryStringOrSecret) {
  TestReceiver receiver;
  receiver.set_script("/hooks/in", Script::fail_first(1, Reply::status_only(503)));
  DispatchHarness harness;
  JobSpec spec{receiver.url("/hooks/in?token=QUERY-SECRET")};
  const std::string id = enqueue_one(harness.store(), spec);
  auto settings = test_settings();
  settings.fallback.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  settings.fallback.retry.interval = std::chrono::milliseconds(0);
  {
    CapturedLogs logs("info");
    ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
    std::vector<nlohmann::json> attempts;
    for (const auto& line : logs.lines()) {
      if (line["message"] == "webhook attempt") attempts.push_back(line["attributes"]);
    }
    ASSERT_EQ(attempts.size(), 2u) << logs.text();
    EXPECT_EQ(attempts[0]["job"], id);
    EXPECT_EQ(attempts[0]["feed"], "default");
    EXPECT_EQ(attempts[0]["host"], "127.0.0.1:" + std::to_string(receiver.port()));
    EXPECT_EQ(attempts[0]["path"], "/hooks/in");
    EXPECT_EQ(attempts[0]["attempt"], 1);
    EXPECT_EQ(attempts[0]["status"], 503);
    EXPECT_EQ(attempts[0]["state"], "pending");
    EXPECT_TRUE(attempts[0].contains("next_attempt_at"));
    EXPECT_TRUE(attempts[0].contains("duration_ms"));
    EXPECT_EQ(attempts[1]["status"], 200);
    EXPECT_EQ(attempts[1]["state"], "delivered");
    EXPECT_EQ(logs.text().find("QUERY-SECRET"), std::string::npos);
    EXPECT_EQ(logs.text().find("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::string::npos);
  }
  // At debug the full URL is there (and still never the secret).
  enqueue_one(harness.store(), spec);
  CapturedLogs logs("debug");
  ASSERT_EQ(harness.run_once(settings), dispatcher::LoopExit::kFinished);
  EXPECT_NE(logs.text().find("QUERY-SECRET"), std::string::npos);
  EXPECT_EQ(logs.text().find("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), std::string::npos);
}

TEST(AttemptLog, IsoTimeIsUtcWithMilliseconds) {
  EXPECT_EQ(dispatcher::iso_time(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(dispatcher::iso_time(1700000000250), "2023-11-14T22:13:20.250Z");
}

}  // namespace
}  // namespace webhook::dispatcher_test
