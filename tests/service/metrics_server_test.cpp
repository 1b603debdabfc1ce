#include "service/metrics_server.h"

#include <httplib.h>

#include <atomic>

#include <gtest/gtest.h>

namespace webhook::service {
namespace {

HealthReport healthy() { return {}; }

TEST(MetricsServerTest, ServesTheRegistryInTheExpositionFormat) {
  metrics::MetricsRegistry registry("opencti", "");
  registry.counter("webhook_polls_total", "Polls.", {"feed", "result"})
      .with({"works", "ok"})
      .inc(7);
  MetricsServer server(registry, healthy, "127.0.0.1", 0);

  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("opencti_webhook_polls_total{feed=\"works\",result=\"ok\"} 7\n"),
            std::string::npos)
      << res->body;

  // A scrape sees updates made after the server started.
  registry.counter("webhook_polls_total", "Polls.", {"feed", "result"}).with({"works", "ok"}).inc();
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("result=\"ok\"} 8\n"), std::string::npos) << res->body;
}

TEST(MetricsServerTest, HealthzFollowsTheProbe) {
  metrics::MetricsRegistry registry;
  std::atomic<bool> ok{true};
  MetricsServer server(
      registry,
      [&] {
        HealthReport r;
        if (!ok) {
          r.healthy = false;
          r.problems = {"feed works: no successful poll yet"};
        }
        return r;
      },
      "127.0.0.1", 0);
  httplib::Client client("127.0.0.1", server.port());

  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");

  ok = false;
  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->body, "unhealthy\nfeed works: no successful poll yet\n");
}

TEST(MetricsServerTest, AProbeThatThrowsIsUnhealthy) {
  metrics::MetricsRegistry registry;
  MetricsServer server(
      registry, []() -> HealthReport { throw std::runtime_error("database is locked"); },
      "127.0.0.1", 0);
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("database is locked"), std::string::npos);
}

TEST(MetricsServerTest, OtherPathsAreNotFound) {
  metrics::MetricsRegistry registry;
  MetricsServer server(registry, healthy, "127.0.0.1", 0);
  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(MetricsServerTest, APortInUseIsAClearError) {
  metrics::MetricsRegistry registry;
  MetricsServer first(registry, healthy, "127.0.0.1", 0);
  try {
    MetricsServer second(registry, healthy, "127.0.0.1", first.port());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())),
              std::string::npos)
        << e.what();
  }
}

TEST(MetricsServerTest, DestructionRightAfterStartFreesThePort) {
  metrics::MetricsRegistry registry;
  for (int i = 0; i < 20; ++i) {
    int port = 0;
    {
      MetricsServer server(registry, healthy, "127.0.0.1", 0);
      port = server.port();
    }
    // The destructor returned (it did not hang on a listener not yet started) and closed
    // the socket, so the port can be bound again.
    MetricsServer again(registry, healthy, "127.0.0.1", port);
    EXPECT_EQ(again.port(), port);
  }
}

}  // namespace
}  // namespace webhook::service
