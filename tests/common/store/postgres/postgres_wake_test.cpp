// PostgreSQL-only checks of how the dispatcher's connection hears of new work: through
// LISTEN/NOTIFY alone, with the slow poll (the fallback for a lost notification) set far
// beyond every deadline here, so that a notification not seen fails the test instead of
// being covered up by the poll. A commit on another connection wakes a waiting store, also
// when it came while the store was busy with other statements, and also after the server
// restarted under it (LISTEN renewed on the new connection).
#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "common/store/postgres/postgres_store.h"
#include "tests/support/child_process.h"
#include "tests/support/postgres_cluster.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::enqueue;
using webhook::testing::eventually;
using webhook::testing::PostgresCluster;

constexpr int64_t kNow = 1'700'000'000'000;
// Longer than any wait below: the slow poll never answers for a notification.
constexpr auto kNeverPoll = std::chrono::hours(10);
constexpr auto kDeadline = std::chrono::minutes(2);  // what a lost wake-up would run into

std::unique_ptr<JobStore> open_listening(const std::string& url) {
  PostgresOptions options;
  options.url = url;
  options.slow_poll = kNeverPoll;
  return open_postgres_store(options);
}

TEST(PostgresWakeTest, ACommitOnAnotherConnectionWakesAWaitingStore) {
  const std::string url = PostgresCluster::shared().fresh_database();
  auto dispatcher = open_listening(url);
  auto poller = open_listening(url);
  EXPECT_TRUE(dispatcher->wait_for_work(0ms, -1)) << "nothing claimed yet: look";
  EXPECT_TRUE(dispatcher->claim("w1", 10, 30s, kNow).empty());
  EXPECT_FALSE(dispatcher->wait_for_work(0ms, -1)) << "nobody committed";
  for (int round = 0; round < 3; ++round) {
    std::thread commit([&] { enqueue(*poller, "default", 1, kNow); });
    EXPECT_TRUE(dispatcher->wait_for_work(kDeadline, -1)) << "round " << round;
    commit.join();
    EXPECT_EQ(dispatcher->claim("w1", 10, 30s, kNow).size(), 1u);
    EXPECT_FALSE(dispatcher->wait_for_work(0ms, -1)) << "its own claim is no news";
  }
}

TEST(PostgresWakeTest, ACommitWhileTheStoreRanOtherStatementsIsNotLost) {
  const std::string url = PostgresCluster::shared().fresh_database();
  auto dispatcher = open_listening(url);
  auto poller = open_listening(url);
  EXPECT_TRUE(dispatcher->claim("w1", 10, 30s, kNow).empty());
  enqueue(*poller, "default", 2, kNow);
  // The notification reaches the dispatcher's socket while it does other work: libpq takes
  // it in with those results, and the next wait must still count it.
  dispatcher->heartbeat("dispatcher", "w1", kNow);
  EXPECT_EQ(dispatcher->next_due_at(), kNow);
  EXPECT_TRUE(dispatcher->wait_for_work(kDeadline, -1));
}

TEST(PostgresWakeTest, AnInterruptEndsTheWaitWithoutWork) {
  const std::string url = PostgresCluster::shared().fresh_database();
  auto dispatcher = open_listening(url);
  EXPECT_TRUE(dispatcher->claim("w1", 10, 30s, kNow).empty());
  int interrupt = eventfd(0, EFD_CLOEXEC);
  ASSERT_GE(interrupt, 0);
  std::thread ring([&] {
    const uint64_t one = 1;
    EXPECT_EQ(::write(interrupt, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  });
  EXPECT_FALSE(dispatcher->wait_for_work(kDeadline, interrupt));
  ring.join();
  ::close(interrupt);
}

TEST(PostgresWakeTest, TheStoreListensAgainAfterTheServerRestarted) {
  PostgresCluster cluster;  // its own: restarting the shared one would cut other tests off
  const std::string url = cluster.fresh_database();
  auto dispatcher = open_listening(url);
  auto poller = open_listening(url);
  EXPECT_TRUE(dispatcher->claim("w1", 10, 30s, kNow).empty());
  cluster.restart();
  // The first calls after the restart fail (the old connections are gone); the store
  // reconnects, with backoff, at a later call.
  ASSERT_TRUE(eventually(
      [&] {
        try {
          dispatcher->claim("w1", 10, 30s, kNow);
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      30s));
  std::thread commit([&] {
    EXPECT_TRUE(eventually(
        [&] {
          try {
            enqueue(*poller, "default", 1, kNow);
            return true;
          } catch (const std::exception&) {
            return false;
          }
        },
        30s));
  });
  EXPECT_TRUE(dispatcher->wait_for_work(kDeadline, -1));
  commit.join();
  EXPECT_EQ(dispatcher->claim("w1", 10, 30s, kNow).size(), 1u);
}

}  // namespace
}  // namespace webhook::store
