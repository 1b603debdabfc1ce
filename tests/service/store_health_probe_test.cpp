#include "service/store_health_probe.h"

#include <httplib.h>

#include <gtest/gtest.h>

#include "service/metrics_server.h"
#include "tests/support/temp_dir.h"

namespace webhook::service {
namespace {

using testing::TempDir;

store::StoreOptions options_for(const std::string& path) {
  store::StoreOptions options;
  options.path = path;
  return options;
}

TEST(StoreHealthProbeTest, HealthzFollowsTheDispatcherHeartbeatInTheDatabase) {
  TempDir dir;
  auto options = options_for(dir.file("webhook.db"));
  auto writer = store::open_store(options);  // the process's own connection
  ManualClock clock;
  StoreHealthProbe probe(
      options,
      [](store::JobStore& s, int64_t now) {
        return check_dispatcher_health(s, DispatcherHealthRule{}, now);
      },
      clock);
  metrics::MetricsRegistry registry;
  MetricsServer server(registry, probe, "127.0.0.1", 0);
  httplib::Client client("127.0.0.1", server.port());

  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("no dispatcher heartbeat"), std::string::npos) << res->body;

  writer->heartbeat("dispatcher", "host-1", clock.now_ms());
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;

  clock.advance(10 * 60'000);  // the loop stopped beating
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503) << res->body;
}

TEST(StoreHealthProbeTest, AnUnopenableDatabaseIsUnhealthy) {
  TempDir dir;
  ManualClock clock;
  // A directory where the file should be: opening fails, /healthz says why.
  std::filesystem::create_directories(dir.path() / "webhook.db");
  StoreHealthProbe probe(
      options_for(dir.file("webhook.db")),
      [](store::JobStore& s, int64_t now) { return check_poller_health(s, {}, now); }, clock);
  metrics::MetricsRegistry registry;
  MetricsServer server(registry, probe, "127.0.0.1", 0);
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("health check failed"), std::string::npos) << res->body;
}

}  // namespace
}  // namespace webhook::service
