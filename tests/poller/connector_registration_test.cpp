// ConnectorRegistration against the fake OpenCTI in-process, on a ManualClock: what is
// registered and pinged, the 40 s schedule, and how failures are logged and retried.
#include "poller/connector_registration.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include <spdlog/sinks/ostream_sink.h>

#include "common/logging.h"
#include "poller/poll_loop.h"
#include "poller/registration_thread.h"
#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::eventually;

constexpr const char* kId = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

// Captures the log as text for one test and puts the default logger back afterwards.
class CapturedLogs {
 public:
  CapturedLogs() {
    setup_logging({"debug", false, "Webhook", "poller"},
                  std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_));
  }
  ~CapturedLogs() { setup_logging({"info", false, "Webhook", "poller"}); }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
};

// A PollerTestEnv with CONNECTOR_ID set, and a registration pinging the given state.
class Registration {
 public:
  explicit Registration(Overrides overrides = {}) : env_(with_id(std::move(overrides))) {
    env_.start();
    client_ = std::make_unique<GraphqlClient>(GraphqlOptions::from_config(env_.config()));
    auto identity = ConnectorIdentity::from_config(env_.config());
    registration_ = std::make_unique<ConnectorRegistration>(
        *identity, *client_, [this] { return state_; }, env_.clock());
  }

  PollerTestEnv& env() { return env_; }
  FakeOpencti& fake() { return env_.fake(); }
  ManualClock& clock() { return env_.clock(); }
  ConnectorRegistration& registration() { return *registration_; }
  void set_state(Json state) { state_ = std::move(state); }

 private:
  static Overrides with_id(Overrides overrides) {
    overrides.emplace("CONNECTOR_ID", kId);
    return overrides;
  }

  PollerTestEnv env_;
  std::unique_ptr<GraphqlClient> client_;
  std::unique_ptr<ConnectorRegistration> registration_;
  Json state_ = {{"feeds", {{"default", {{"last_poll_time", 1749999990000}}}}}};
};

TEST(ConnectorRegistration, RegistersWithTheSchemaFieldsThenPingsTheStateAtOnce) {
  Registration r({{"CONNECTOR_NAME", "Webhook SOC"},
                  {"CONNECTOR_SCOPE", "Report, Indicator,,"},
                  {"CONNECTOR_AUTO", "true"}});
  int64_t start = r.clock().now_ms();
  int64_t next = r.registration().run_due();

  auto calls = r.fake().connectors().calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].mutation, "registerConnector");
  EXPECT_EQ(calls[0].arguments["input"], (Json{{"id", kId},
                                               {"name", "Webhook SOC"},
                                               {"type", "STREAM"},
                                               {"scope", {"Report", "Indicator"}},
                                               {"auto", true},
                                               {"only_contextual", false}}));
  EXPECT_EQ(calls[1].mutation, "pingConnector");
  EXPECT_EQ(calls[1].arguments["id"], kId);
  EXPECT_EQ(Json::parse(calls[1].arguments["state"].get<std::string>()),
            (Json{{"feeds", {{"default", {{"last_poll_time", 1749999990000}}}}}}));

  auto connector = r.fake().connectors().find(kId);
  ASSERT_TRUE(connector.has_value());
  EXPECT_EQ(connector->type, "STREAM");
  EXPECT_TRUE(r.fake().connectors().active(kId));
  EXPECT_TRUE(r.registration().registered());
  EXPECT_EQ(next, start + kConnectorPingInterval.count());
}

TEST(ConnectorRegistration, PingsEveryFortySecondsWithTheCurrentStateSoTheConnectorStaysActive) {
  Registration r;
  r.registration().run_due();
  for (int i = 0; i < 10; ++i) {
    r.clock().advance(kConnectorPingInterval.count() - 1);
    r.registration().run_due();
    EXPECT_EQ(r.fake().connectors().call_count("pingConnector"), static_cast<size_t>(i + 1));
    r.set_state({{"feeds", {{"default", {{"last_poll_time", i}}}}}});
    r.clock().advance(1);
    EXPECT_EQ(r.registration().run_due(), r.clock().now_ms() + kConnectorPingInterval.count());
    EXPECT_EQ(r.fake().connectors().call_count("pingConnector"), static_cast<size_t>(i + 2));
    EXPECT_TRUE(r.fake().connectors().active(kId));
  }
  EXPECT_EQ(r.fake().connectors().call_count("registerConnector"), 1u);
  auto connector = r.fake().connectors().find(kId);
  ASSERT_TRUE(connector.has_value());
  EXPECT_EQ(Json::parse(*connector->state),
            (Json{{"feeds", {{"default", {{"last_poll_time", 9}}}}}}));

  // Without pings for five minutes the platform shows it inactive: the pings are what count.
  r.clock().advance(5 * 60 * 1000);
  EXPECT_FALSE(r.fake().connectors().active(kId));
  r.registration().run_due();
  EXPECT_TRUE(r.fake().connectors().active(kId));
}

TEST(ConnectorRegistration, AnUnreachablePlatformIsRetriedWithBackoffUntilItRegisters) {
  CapturedLogs logs;
  Registration r;
  r.fake().stop();
  int64_t start = r.clock().now_ms();
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) {
    int64_t next = r.registration().run_due();
    delays.push_back(next - r.clock().now_ms());
    r.clock().set(next);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 32000, 40000, 40000}));
  EXPECT_FALSE(r.registration().registered());

  r.fake().start();
  r.registration().run_due();
  EXPECT_TRUE(r.registration().registered());
  EXPECT_EQ(r.fake().connectors().call_count("registerConnector"), 1u);
  EXPECT_EQ(r.fake().connectors().call_count("pingConnector"), 1u);
  EXPECT_GT(r.clock().now_ms(), start);

  std::string text = logs.text();
  EXPECT_NE(text.find("cannot register with OpenCTI as a connector"), std::string::npos) << text;
  EXPECT_NE(text.find("cannot get an answer from OpenCTI"), std::string::npos) << text;
  EXPECT_NE(text.find("registered with OpenCTI as a connector"), std::string::npos) << text;
  EXPECT_EQ(text.find(r.fake().token()), std::string::npos);
}

TEST(ConnectorRegistration, ARefusedRegistrationLogsThePlatformsErrorAndIsRetried) {
  CapturedLogs logs;
  Registration r;
  FakeFailure refusal = FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "You are not allowed");
  refusal.field = "registerConnector";
  r.fake().fail_next(refusal, 2);
  EXPECT_EQ(r.registration().run_due() - r.clock().now_ms(), 1000);
  r.clock().advance(1000);
  EXPECT_EQ(r.registration().run_due() - r.clock().now_ms(), 2000);
  EXPECT_FALSE(r.registration().registered());
  r.clock().advance(2000);
  r.registration().run_due();
  EXPECT_TRUE(r.registration().registered());
  EXPECT_EQ(r.fake().connectors().call_count("registerConnector"), 1u);
  std::string text = logs.text();
  EXPECT_NE(text.find("FORBIDDEN_ACCESS: You are not allowed"), std::string::npos) << text;
  EXPECT_EQ(text.find(r.fake().token()), std::string::npos);
}

TEST(ConnectorRegistration, APingThePlatformRefusesIsLoggedThenRegistrationAndPingAreRetried) {
  CapturedLogs logs;
  Registration r;
  FakeFailure refusal = FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "Ping refused");
  refusal.field = "pingConnector";
  r.fake().fail_next(refusal);
  int64_t next = r.registration().run_due();
  EXPECT_EQ(next - r.clock().now_ms(), 1000);
  EXPECT_FALSE(r.registration().registered());
  EXPECT_EQ(r.fake().connectors().call_count("pingConnector"), 0u);

  r.clock().set(next);
  r.registration().run_due();
  EXPECT_TRUE(r.registration().registered());
  EXPECT_EQ(r.fake().connectors().call_count("registerConnector"), 2u);
  EXPECT_EQ(r.fake().connectors().call_count("pingConnector"), 1u);
  std::string text = logs.text();
  EXPECT_NE(text.find("ping to OpenCTI failed"), std::string::npos) << text;
  EXPECT_NE(text.find("FORBIDDEN_ACCESS: Ping refused"), std::string::npos) << text;
  EXPECT_EQ(text.find(r.fake().token()), std::string::npos);
}

TEST(ConnectorRegistration, AConnectorDeletedOnThePlatformRegistersAgain) {
  Registration r;
  r.registration().run_due();
  r.fake().connectors().forget_all();
  r.clock().advance(kConnectorPingInterval.count());
  int64_t next = r.registration().run_due();  // FUNCTIONAL_ERROR: no connector with this id
  EXPECT_FALSE(r.fake().connectors().find(kId).has_value());
  r.clock().set(next);
  r.registration().run_due();
  auto connector = r.fake().connectors().find(kId);
  ASSERT_TRUE(connector.has_value());
  EXPECT_EQ(connector->pings, 1);
  EXPECT_TRUE(r.fake().connectors().active(kId));
}

TEST(ConnectorRegistration, PingsThatCannotReachThePlatformBackOffWithoutRegisteringAgain) {
  Registration r;
  r.registration().run_due();
  r.fake().stop();
  r.clock().advance(kConnectorPingInterval.count());
  std::vector<int64_t> delays;
  for (int i = 0; i < 3; ++i) {
    int64_t next = r.registration().run_due();
    delays.push_back(next - r.clock().now_ms());
    r.clock().set(next);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1000, 2000, 4000}));
  EXPECT_TRUE(r.registration().registered());
  r.fake().start();
  r.registration().run_due();
  EXPECT_EQ(r.fake().connectors().call_count("registerConnector"), 1u);
  EXPECT_EQ(r.fake().connectors().call_count("pingConnector"), 2u);
}

TEST(ConnectorRegistration, AStateThatCannotBeReadSendsTheLastOneAgain) {
  PollerTestEnv env(Overrides{{"CONNECTOR_ID", kId}});
  env.start();
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  int reads = 0;
  ConnectorRegistration registration(
      *ConnectorIdentity::from_config(env.config()), client,
      [&reads]() -> Json {
        if (++reads > 1) throw std::runtime_error("database is locked");
        return {{"feeds", {{"default", {{"last_poll_time", 5}}}}}};
      },
      env.clock());
  registration.run_due();
  env.clock().advance(kConnectorPingInterval.count());
  registration.run_due();
  auto calls = env.fake().connectors().calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].arguments["state"], calls[1].arguments["state"]);
  EXPECT_EQ(registration.pings(), 2);
}

TEST(ConnectorRegistration, RunPingsOnItsScheduleUntilAStopEndsItsWait) {
  // The system clock and a short interval: the thread really sleeps between pings.
  PollerTestEnv env(Overrides{{"CONNECTOR_ID", kId}});
  env.start();
  SystemClock clock;
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  ConnectorRegistration registration(
      *ConnectorIdentity::from_config(env.config()), client, [] { return Json::object(); }, clock,
      std::chrono::milliseconds(20));
  class FlagStop final : public StopToken {
   public:
    bool stop_requested() const override { return stop_; }
    bool wait_for(std::chrono::milliseconds timeout) override {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, timeout, [this] { return stop_.load(); });
      return stop_;
    }
    void stop() {
      {
        std::lock_guard lock(mutex_);
        stop_ = true;
      }
      cv_.notify_all();
    }

   private:
    std::mutex mutex_;
    std::condition_variable cv_;
    std::atomic<bool> stop_{false};
  } stop;
  std::thread thread([&] { registration.run(stop); });
  EXPECT_TRUE(eventually([&] { return env.fake().connectors().call_count("pingConnector") >= 3; }));
  stop.stop();
  thread.join();  // returns: the stop ended the wait (or abandoned the ping in flight)
  EXPECT_GE(registration.pings(), 2);
  EXPECT_EQ(env.fake().connectors().call_count("registerConnector"), 1u);
}

TEST(ConnectorRegistration, TheStateIsEveryFeedsCursorFromTheStore) {
  PollerTestEnv env(Overrides{{"CONNECTOR_ID", kId}});
  env.start();
  EXPECT_EQ(feed_cursors_state(env.store(), {"default"}),
            (Json{{"feeds", {{"default", {{"last_poll_time", nullptr}}}}}}));
  ASSERT_TRUE(env.poller().poll().ok());
  auto cursor = env.store().cursor("default");
  ASSERT_TRUE(cursor.has_value());
  EXPECT_EQ(feed_cursors_state(env.store(), {"default", "other"}),
            (Json{{"feeds",
                   {{"default", {{"last_poll_time", *cursor}}},
                    {"other", {{"last_poll_time", nullptr}}}}}}));
}

TEST(ConnectorIdentity, ComesFromTheConnectorSettingsAndOnlyWithAConnectorId) {
  PollerTestEnv without;
  without.start();
  EXPECT_FALSE(ConnectorIdentity::from_config(without.config()).has_value());

  PollerTestEnv with({{"CONNECTOR_ID", "7C9E6679-7425-40DE-944B-E07FC1F90AE7"},
                      {"CONNECTOR_TYPE", "internal_enrichment"},
                      {"CONNECTOR_ONLY_CONTEXTUAL", "yes"}});
  with.start();
  auto identity = ConnectorIdentity::from_config(with.config());
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->id, kId);
  EXPECT_EQ(identity->name, "Webhook");
  EXPECT_EQ(identity->type, "INTERNAL_ENRICHMENT");
  EXPECT_TRUE(identity->scope.empty());
  EXPECT_FALSE(identity->auto_run);
  EXPECT_TRUE(identity->only_contextual);

  // The Python connector's README asks for this placeholder: it registers as a stream.
  PollerTestEnv python(Overrides{{"CONNECTOR_ID", kId}, {"CONNECTOR_TYPE", "Template_Type"}});
  python.start();
  EXPECT_EQ(ConnectorIdentity::from_config(python.config())->type, "STREAM");
}

TEST(ConnectorIdentity, ABadIdOrTypeIsRefusedNamingTheSetting) {
  PollerTestEnv env({{"CONNECTOR_ID", "webhook-connector-1"}, {"CONNECTOR_TYPE", "WORKER"}});
  try {
    env.start();
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.problems().size(), 2u);
    EXPECT_NE(e.problems()[0].find("CONNECTOR_ID (environment): expected a UUID"),
              std::string::npos)
        << e.problems()[0];
    EXPECT_NE(e.problems()[0].find("'webhook-connector-1'"), std::string::npos);
    EXPECT_NE(e.problems()[1].find("CONNECTOR_TYPE (environment): expected one of STREAM,"),
              std::string::npos)
        << e.problems()[1];
  }
}

}  // namespace
}  // namespace webhook::poller::testing
