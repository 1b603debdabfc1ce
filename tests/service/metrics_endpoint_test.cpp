#include "service/metrics_endpoint.h"

#include <httplib.h>

#include <gtest/gtest.h>

namespace webhook::service {
namespace {

Environment dispatcher_env(Environment extra = {}) {
  // Test servers listen on loopback only.
  Environment env{{"WEBHOOK_URL", "http://127.0.0.1/{item}"},
                  {"WEBHOOK_METRICS_HOST", "127.0.0.1"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

Config load(const Environment& env) { return Config::load(kDispatcher, env, std::nullopt); }

HealthReport healthy() { return {}; }

// A port nobody listens on right now.
int free_port() {
  metrics::MetricsRegistry registry;
  MetricsServer probe(registry, healthy, "127.0.0.1", 0);
  return probe.port();
}

TEST(MetricsEndpointTest, OffUnlessExposeMetricsIsTrue) {
  Config config = load(dispatcher_env());
  auto registry = make_metrics_registry(config);
  EXPECT_EQ(start_metrics_endpoint(config, "WEBHOOK_DISPATCHER_METRICS_PORT", *registry, healthy),
            nullptr);
}

TEST(MetricsEndpointTest, ServesOnTheConfiguredPortWithTheConfiguredPrefix) {
  int port = free_port();
  Config config = load(dispatcher_env({{"CONNECTOR_EXPOSE_METRICS", "true"},
                                       {"WEBHOOK_DISPATCHER_METRICS_PORT", std::to_string(port)},
                                       {"CONNECTOR_METRICS_NAMESPACE", "opencti"},
                                       {"CONNECTOR_METRICS_SUBSYSTEM", "webhook"}}));
  auto registry = make_metrics_registry(config);
  registry->gauge("webhook_jobs_in_flight", "In flight.").get().set(2);
  auto server =
      start_metrics_endpoint(config, "WEBHOOK_DISPATCHER_METRICS_PORT", *registry, healthy);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->port(), port);

  httplib::Client client("127.0.0.1", port);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("\nopencti_webhook_webhook_jobs_in_flight 2\n"), std::string::npos)
      << res->body;
}

TEST(MetricsEndpointTest, AnInvalidNamespaceNamesTheSetting) {
  Config config = load(dispatcher_env({{"CONNECTOR_METRICS_NAMESPACE", "open cti"}}));
  try {
    make_metrics_registry(config);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("CONNECTOR_METRICS_NAMESPACE"), std::string::npos);
  }
}

}  // namespace
}  // namespace webhook::service
