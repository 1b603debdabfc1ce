// What a process reports while its PostgreSQL server is away: StoreConnectivity (and so the
// webhook_store_up gauge and webhook_store_reconnects_total counter) turns unreachable when
// a connection is cut off or cannot connect, and reachable again with one reconnect counted
// per connection that came back, even while another connection sits idle since its failure. Against
// a real cluster, stopped and started under the store.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "common/metrics_registry.h"
#include "common/process_metrics.h"
#include "common/store/open_store.h"
#include "common/store/postgres/pg_connection.h"
#include "common/store/store_connectivity.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::eventually;
using webhook::testing::PostgresCluster;

// True when the call reached the server.
bool reaches(JobStore& store) {
  try {
    store.next_due_at();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::string metrics_text(const metrics::MetricsRegistry& registry) { return registry.render(); }

TEST(PostgresConnectivityTest, AnOutageIsReportedOnceAndTheReconnectCounted) {
  PostgresCluster cluster;  // its own: this test stops it
  StoreOptions options;
  options.url = cluster.fresh_database();
  metrics::MetricsRegistry registry;
  metrics::StoreMetrics store_metrics(registry);
  StoreConnectivity& connectivity = StoreConnectivity::process();
  const int64_t reconnects_before = connectivity.reconnects();

  auto store = open_store(options);
  ASSERT_TRUE(reaches(*store));
  EXPECT_TRUE(connectivity.reachable());
  EXPECT_NE(metrics_text(registry).find("webhook_store_up 1\n"), std::string::npos);

  cluster.stop();
  EXPECT_FALSE(reaches(*store));
  EXPECT_FALSE(connectivity.reachable());
  // Further failed attempts (with backoff) are the same outage: no reconnect.
  ASSERT_FALSE(eventually([&] { return reaches(*store); }, 500ms));
  EXPECT_FALSE(connectivity.reachable());
  const std::string down = metrics_text(registry);
  EXPECT_NE(down.find("webhook_store_up 0\n"), std::string::npos) << down;
  EXPECT_EQ(connectivity.reconnects(), reconnects_before);

  cluster.start();
  ASSERT_TRUE(eventually([&] { return reaches(*store); }, 30s));
  EXPECT_TRUE(connectivity.reachable());
  EXPECT_EQ(connectivity.reconnects(), reconnects_before + 1);
  const std::string up = metrics_text(registry);
  EXPECT_NE(up.find("webhook_store_up 1\n"), std::string::npos) << up;
  EXPECT_NE(
      up.find("webhook_store_reconnects_total " + std::to_string(reconnects_before + 1) + "\n"),
      std::string::npos)
      << up;
}

TEST(PostgresConnectivityTest, AServerDownAtStartIsUnreachableUntilItComesUp) {
  PostgresCluster cluster;
  StoreOptions options;
  options.url = cluster.fresh_database();
  cluster.stop();
  StoreConnectivity& connectivity = StoreConnectivity::process();
  {
    auto store = open_store(options);  // opens: connecting waits for the first call
    EXPECT_TRUE(connectivity.reachable()) << "nothing tried yet";
    EXPECT_FALSE(reaches(*store));
    EXPECT_FALSE(connectivity.reachable());
    cluster.start();
    ASSERT_TRUE(eventually([&] { return reaches(*store); }, 30s));
    EXPECT_TRUE(connectivity.reachable());
  }
  // A connection left idle since its failure does not keep the process unreachable once
  // another one reached the server.
  cluster.stop();
  auto idle = open_store(options);
  EXPECT_FALSE(reaches(*idle));
  EXPECT_FALSE(connectivity.reachable());
  cluster.start();
  auto other = open_store(options);
  ASSERT_TRUE(eventually([&] { return reaches(*other); }, 30s));
  EXPECT_TRUE(connectivity.reachable());
}

TEST(PostgresConnectivityTest, ConnectionsGiveUpASilentLinkUnlessTheUrlSaysOtherwise) {
  PostgresCluster& cluster = PostgresCluster::shared();
  const std::string url = cluster.fresh_database();
  PgConnection defaults(url, "");
  EXPECT_EQ(defaults.option_in_use("tcp_user_timeout"), "30000");
  EXPECT_EQ(defaults.option_in_use("keepalives_idle"), "10");
  EXPECT_EQ(defaults.option_in_use("keepalives_interval"), "5");
  EXPECT_EQ(defaults.option_in_use("keepalives_count"), "3");
  EXPECT_EQ(defaults.option_in_use("connect_timeout"), "10");
  PgConnection chosen(url + "?tcp_user_timeout=60000&keepalives_idle=30", "");
  EXPECT_EQ(chosen.option_in_use("tcp_user_timeout"), "60000");
  EXPECT_EQ(chosen.option_in_use("keepalives_idle"), "30");
  EXPECT_EQ(chosen.option_in_use("keepalives_count"), "3");
}

}  // namespace
}  // namespace webhook::store
