// The real webhook-poller registering with a fake OpenCTI: registration and its first ping,
// a platform unreachable at start, a ping the platform refuses, a registration that stalls
// (polls go on, SIGTERM still ends the process), and no registration without CONNECTOR_ID.
#include <gtest/gtest.h>

#include <signal.h>

#include <map>

#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::ChildProcess;
using webhook::testing::eventually;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
constexpr const char* kId = "0b6e5cc4-4a4b-4bd5-9c4f-3d5b1f2a6e11";
// Reading the database opens a connection: not every 10 ms.
constexpr std::chrono::seconds kWait{20};
constexpr std::chrono::milliseconds kStep{100};

std::map<std::string, std::string> poller_env(const FakeOpencti& fake, const TempDir& dir,
                                              bool with_id = true) {
  std::map<std::string, std::string> env =
      poller_process_env(fake, dir,
                         {{"CONNECTOR_NAME", "Webhook SOC"},
                          {"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0.2"},
                          {"WEBHOOK_GRAPHQL_TIMEOUT", "2"}});
  if (with_id) env["CONNECTOR_ID"] = kId;
  return env;
}

void add_work(FakeOpencti& fake, const std::string& id) {
  SystemClock clock;
  int64_t now = clock.now_ms();
  fake.records().add("works", FakeRecords::work(id, "Import", {"done"}, now - 1000, now));
}

// Jobs the poller committed so far (0 while the database does not exist yet).
std::size_t job_count(const TempDir& dir) {
  if (!std::filesystem::exists(dir.file("webhook.db"))) return 0;
  return open_store(dir.file("webhook.db"))->list_jobs({}).size();
}

bool any_mutation(const FakeOpencti& fake) {
  for (const auto& request : fake.requests()) {
    if (request.query.find("mutation") != std::string::npos) return true;
  }
  return false;
}

// SIGTERM, a clean exit, and no token anywhere in what the process wrote.
void stop_and_check(ChildProcess& poller, const FakeOpencti& fake) {
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(20)), 0) << poller.output();
  EXPECT_EQ(poller.output().find(fake.token()), std::string::npos);
}

TEST(PollerRegistration, RegistersThenPingsTheFeedCursorsWhilePolling) {
  FakeOpencti fake;
  TempDir dir;
  add_work(fake, "w1");
  ChildProcess poller({kPoller}, poller_env(fake, dir), dir.file("poller.log"));
  ASSERT_TRUE(eventually([&] { return fake.connectors().call_count("pingConnector") >= 1; }))
      << poller.output();
  auto connector = fake.connectors().find(kId);
  ASSERT_TRUE(connector.has_value());
  EXPECT_EQ(connector->name, "Webhook SOC");
  EXPECT_EQ(connector->type, "STREAM");
  EXPECT_TRUE(fake.connectors().active(kId));
  ASSERT_TRUE(connector->state.has_value());
  Json state = Json::parse(*connector->state);
  ASSERT_TRUE(state["feeds"].contains("default")) << state;
  EXPECT_TRUE(state["feeds"]["default"].contains("last_poll_time")) << state;
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 1; }, kWait, kStep)) << poller.output();
  EXPECT_NE(poller.output().find("registered with OpenCTI as a connector"), std::string::npos);
  stop_and_check(poller, fake);
  EXPECT_EQ(fake.connectors().call_count("registerConnector"), 1u);
}

TEST(PollerRegistration, APlatformUnreachableAtStartIsRegisteredWithOnceItComesUp) {
  FakeOpencti fake;
  TempDir dir;
  add_work(fake, "w1");
  fake.stop();  // the port stays known: the platform comes back on it
  ChildProcess poller({kPoller}, poller_env(fake, dir), dir.file("poller.log"));
  ASSERT_TRUE(eventually([&] {
    return poller.output().find("cannot register with OpenCTI as a connector") != std::string::npos;
  })) << poller.output();
  fake.start();
  EXPECT_TRUE(eventually([&] { return fake.connectors().call_count("pingConnector") >= 1; }))
      << poller.output();
  EXPECT_TRUE(fake.connectors().active(kId));
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 1; }, kWait, kStep)) << poller.output();
  EXPECT_TRUE(poller.running());
  stop_and_check(poller, fake);
}

TEST(PollerRegistration, AStalledRegistrationHoldsNoPollBackAndSigtermStillEndsIt) {
  FakeOpencti fake;
  TempDir dir;
  FakeFailure stall = FakeFailure::stalled(std::chrono::minutes(5));
  stall.field = "registerConnector";
  fake.fail_next(stall);
  ChildProcess poller({kPoller}, poller_env(fake, dir), dir.file("poller.log"));
  add_work(fake, "w1");
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 1; }, kWait, kStep)) << poller.output();
  add_work(fake, "w2");
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 2; }, kWait, kStep)) << poller.output();
  // The registration is still waiting for its answer while those polls went through.
  EXPECT_EQ(fake.connectors().call_count("registerConnector"), 0u);
  std::size_t asked = 0;
  for (const auto& request : fake.requests()) asked += request.field == "registerConnector";
  EXPECT_EQ(asked, 1u);
  stop_and_check(poller, fake);
}

TEST(PollerRegistration, APingThePlatformRefusesIsLoggedAndRetriedWhilePollingGoesOn) {
  FakeOpencti fake;
  TempDir dir;
  FakeFailure refusal = FakeFailure::graphql_errors("FORBIDDEN_ACCESS", "Ping refused for test");
  refusal.field = "pingConnector";
  fake.fail_next(refusal);
  ChildProcess poller({kPoller}, poller_env(fake, dir), dir.file("poller.log"));
  add_work(fake, "w1");
  EXPECT_TRUE(eventually([&] { return fake.connectors().call_count("pingConnector") >= 1; }))
      << poller.output();
  std::string out = poller.output();
  EXPECT_NE(out.find("ping to OpenCTI failed"), std::string::npos) << out;
  EXPECT_NE(out.find("FORBIDDEN_ACCESS: Ping refused for test"), std::string::npos) << out;
  EXPECT_EQ(fake.connectors().call_count("registerConnector"), 2u);
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 1; }, kWait, kStep)) << poller.output();
  stop_and_check(poller, fake);
}

TEST(PollerRegistration, WithoutConnectorIdNothingIsRegistered) {
  FakeOpencti fake;
  TempDir dir;
  add_work(fake, "w1");
  ChildProcess poller({kPoller}, poller_env(fake, dir, /*with_id=*/false), dir.file("poller.log"));
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 1; }, kWait, kStep)) << poller.output();
  add_work(fake, "w2");
  EXPECT_TRUE(eventually([&] { return job_count(dir) == 2; }, kWait, kStep)) << poller.output();
  stop_and_check(poller, fake);
  EXPECT_FALSE(any_mutation(fake));
  EXPECT_TRUE(fake.connectors().calls().empty());
}

TEST(PollerRegistration, AConnectorIdThatIsNotAUuidStopsTheStartWithAClearError) {
  FakeOpencti fake;
  TempDir dir;
  auto env = poller_env(fake, dir);
  env["CONNECTOR_ID"] = "my-webhook";
  auto r = webhook::testing::run_command({kPoller}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("CONNECTOR_ID (environment): expected a UUID"), std::string::npos) << r.err;
  EXPECT_FALSE(any_mutation(fake));
}

}  // namespace
}  // namespace webhook::poller::testing
