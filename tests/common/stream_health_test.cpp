// Health of a stream feed, judged from its connection history and the poller's heartbeat.
#include <gtest/gtest.h>

#include "common/health_check.h"
#include "tests/support/store_fixtures.h"

namespace webhook {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

PollerHealthRule stream_rule() {
  PollerHealthRule rule{"events", std::chrono::milliseconds(60000)};
  rule.stream = true;
  rule.stream_allowance = std::chrono::milliseconds(180000);
  return rule;
}

TEST(StreamHealth, NoConnectionYetIsUnhealthy) {
  testing::TestDatabase db(testing::Driver::kSqlite);
  auto store = db.open();
  HealthReport r = check_poller_health(*store, {stream_rule()}, kNow);
  EXPECT_FALSE(r.healthy);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].find("no connection to the stream yet"), std::string::npos);
}

TEST(StreamHealth, AnOpenConnectionIsHealthyWhileThePollerHeartbeats) {
  testing::TestDatabase db(testing::Driver::kSqlite);
  auto store = db.open();
  store->open_stream_connection("events", kNow - 600000, "0-0");
  store->heartbeat("poller", "stream:1:events", kNow - 5000);
  EXPECT_TRUE(check_poller_health(*store, {stream_rule()}, kNow).healthy);
  // The poller was killed: the row stays open, the heartbeat ages.
  HealthReport r = check_poller_health(*store, {stream_rule()}, kNow + 600000);
  EXPECT_FALSE(r.healthy);
  EXPECT_NE(r.problems[0].find("last sign of life"), std::string::npos) << r.problems[0];
}

TEST(StreamHealth, ReconnectingIsHealthyForAWhileThenNot) {
  testing::TestDatabase db(testing::Driver::kSqlite);
  auto store = db.open();
  int64_t id = store->open_stream_connection("events", kNow - 1000, "0-0");
  store->close_stream_connection(id, kNow, 401, "HTTP 401 (the token is refused)");
  EXPECT_TRUE(check_poller_health(*store, {stream_rule()}, kNow + 1000).healthy);
  HealthReport r = check_poller_health(*store, {stream_rule()}, kNow + 200000);
  EXPECT_FALSE(r.healthy);
  EXPECT_NE(r.problems[0].find("HTTP 401"), std::string::npos) << r.problems[0];
}

}  // namespace
}  // namespace webhook
