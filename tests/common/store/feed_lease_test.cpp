// Feed leases on every driver (README "Standby pollers"): one holder per feed, renewals
// keep the epoch, every new tenure takes a greater one, a release frees the feed at once,
// and commit_poll / commit_stream under an epoch that no longer holds write nothing and
// say LeaseLostError, distinct from a cursor conflict. On PostgreSQL expiry is the
// server's clock, so the tests there let a short lease run out for real.
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <new>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "tests/support/forked_child.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::Driver;
using webhook::testing::fork_child;
using webhook::testing::make_poll;
using webhook::testing::wait_child;

constexpr int64_t kNow = 1'700'000'000'000;

class FeedLeaseTest : public ::testing::TestWithParam<Driver> {
 protected:
  bool postgres() const { return GetParam() == Driver::kPostgres; }

  // Waits (with a deadline) until `holder` can take `feed`: its current lease ran out. On
  // SQLite the caller's clock says when, so the clock is moved past the expiry instead.
  std::optional<int64_t> acquire_after_expiry(const std::string& feed, const std::string& holder,
                                              int64_t& now) {
    if (!postgres()) {
      now += 1001;
      return store_->acquire_feed_lease(feed, holder, 1s, now);
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto epoch = store_->acquire_feed_lease(feed, holder, 1s, now)) return epoch;
      usleep(20'000);
    }
    return std::nullopt;
  }

  int64_t jobs_of(const std::string& feed) {
    int64_t total = 0;
    for (const auto& s : store_->status()) {
      if (s.feed != feed) continue;
      for (const auto& [state, n] : s.counts) total += n;
    }
    return total;
  }

  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
};

TEST_P(FeedLeaseTest, OneHolderAtATimeRenewalsKeepTheEpochAndTakeoversRaiseIt) {
  int64_t now = kNow;
  auto first = store_->acquire_feed_lease("default", "host-a:1", 1s, now);
  ASSERT_TRUE(first);
  EXPECT_FALSE(store_->acquire_feed_lease("default", "host-b:2", 1s, now));
  // Another feed is another lease.
  EXPECT_TRUE(store_->acquire_feed_lease("other", "host-b:2", 1s, now));
  now += 500;
  EXPECT_EQ(store_->acquire_feed_lease("default", "host-a:1", 1s, now), first);

  auto second = acquire_after_expiry("default", "host-b:2", now);
  ASSERT_TRUE(second);
  EXPECT_GT(*second, *first);
  EXPECT_FALSE(store_->acquire_feed_lease("default", "host-a:1", 1s, now));

  auto leases = store_->feed_leases();
  ASSERT_EQ(leases.size(), 2u);
  EXPECT_EQ(leases[0].feed, "default");
  EXPECT_EQ(leases[0].holder, "host-b:2");
  EXPECT_EQ(leases[0].epoch, *second);
  EXPECT_GT(leases[0].expires_at, leases[0].renewed_at);
  EXPECT_EQ(leases[1].feed, "other");
}

TEST_P(FeedLeaseTest, TheSameHolderAfterItsLeaseRanOutStartsANewTenure) {
  int64_t now = kNow;
  auto first = store_->acquire_feed_lease("default", "host-a:1", 1s, now);
  ASSERT_TRUE(first);
  // The lease must run out first (else this is a renewal): on PostgreSQL, by the server's
  // clock, which a commit under the epoch tells (a failed poll's row until it is refused).
  if (postgres()) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    bool expired = false;
    while (!expired && std::chrono::steady_clock::now() < deadline) {
      PollCommit probe = make_poll("default", 0, now);
      probe.poll.ok = false;
      probe.new_cursor.reset();
      probe.lease_epoch = first;
      try {
        store_->commit_poll(probe);
        usleep(20'000);
      } catch (const LeaseLostError&) {
        expired = true;
      }
    }
    ASSERT_TRUE(expired);
  }
  auto again = acquire_after_expiry("default", "host-a:1", now);
  ASSERT_TRUE(again);
  EXPECT_GT(*again, *first);
}

TEST_P(FeedLeaseTest, AReleasedLeaseIsFreeAtOnceAndOnlyItsHolderReleasesIt) {
  int64_t now = kNow;
  auto epoch = store_->acquire_feed_lease("default", "host-a:1", 60s, now);
  ASSERT_TRUE(epoch);
  EXPECT_FALSE(store_->release_feed_lease("default", "host-b:2", *epoch, now));
  EXPECT_FALSE(store_->release_feed_lease("default", "host-a:1", *epoch + 1, now));
  EXPECT_TRUE(store_->release_feed_lease("default", "host-a:1", *epoch, now + 10));
  EXPECT_FALSE(store_->release_feed_lease("default", "host-a:1", *epoch, now + 10));
  auto next = store_->acquire_feed_lease("default", "host-b:2", 60s, now + 10);
  ASSERT_TRUE(next);
  EXPECT_GT(*next, *epoch);
}

TEST_P(FeedLeaseTest, ACommitUnderTheCurrentEpochIsWritten) {
  auto epoch = store_->acquire_feed_lease("default", "host-a:1", 60s, kNow);
  ASSERT_TRUE(epoch);
  PollCommit commit = make_poll("default", 2, kNow);
  commit.lease_epoch = epoch;
  EXPECT_TRUE(store_->commit_poll(commit));
  EXPECT_EQ(store_->cursor("default"), kNow);

  StreamCommit batch;
  batch.feed = "live";
  batch.new_cursor = "1-0";
  batch.now = kNow;
  auto live = store_->acquire_feed_lease("live", "host-a:1", 60s, kNow);
  ASSERT_TRUE(live);
  batch.lease_epoch = live;
  EXPECT_TRUE(store_->commit_stream(batch));
  EXPECT_EQ(store_->stream_cursor("live"), "1-0");
}

TEST_P(FeedLeaseTest, ACommitOfAnOldEpochWritesNothingAndSaysTheLeaseWasLost) {
  int64_t now = kNow;
  auto old_epoch = store_->acquire_feed_lease("default", "host-a:1", 1s, now);
  ASSERT_TRUE(old_epoch);
  auto successor = acquire_after_expiry("default", "host-b:2", now);
  ASSERT_TRUE(successor);

  PollCommit stale = make_poll("default", 3, now);
  stale.lease_epoch = old_epoch;
  EXPECT_THROW(store_->commit_poll(stale), LeaseLostError);
  // A failed poll's row is the poller's writing too: fenced alike.
  PollCommit failed = make_poll("default", 0, now);
  failed.poll.ok = false;
  failed.new_cursor.reset();
  failed.lease_epoch = old_epoch;
  EXPECT_THROW(store_->commit_poll(failed), LeaseLostError);
  EXPECT_EQ(store_->cursor("default"), std::nullopt);
  EXPECT_EQ(jobs_of("default"), 0);
  EXPECT_TRUE(store_->list_polls("default", 10).empty());
  EXPECT_TRUE(store_->seen_since("default", 0).empty());

  // The successor's commit is written; a cursor conflict stays a conflict, not a lost lease.
  PollCommit current = make_poll("default", 1, now);
  current.lease_epoch = successor;
  EXPECT_TRUE(store_->commit_poll(current));
  PollCommit behind = make_poll("default", 1, now + 1);  // expects no cursor: conflict
  behind.lease_epoch = successor;
  EXPECT_EQ(store_->commit_poll(behind), std::nullopt);
  EXPECT_EQ(jobs_of("default"), 1);
}

TEST_P(FeedLeaseTest, AStreamBatchOfAnOldEpochWritesNothing) {
  int64_t now = kNow;
  auto old_epoch = store_->acquire_feed_lease("live", "host-a:1", 1s, now);
  ASSERT_TRUE(old_epoch);
  const int64_t connection = store_->open_stream_connection("live", now, "0-0");
  ASSERT_TRUE(acquire_after_expiry("live", "host-b:2", now));
  StreamCommit batch;
  batch.feed = "live";
  batch.connection_id = connection;
  batch.new_cursor = "5-0";
  batch.events = 1;
  batch.now = now;
  batch.jobs.push_back(make_poll("live", 1, now).jobs.front());
  batch.lease_epoch = old_epoch;
  EXPECT_THROW(store_->commit_stream(batch), LeaseLostError);
  EXPECT_EQ(store_->stream_cursor("live"), std::nullopt);
  EXPECT_EQ(jobs_of("live"), 0);
  auto connections = store_->list_stream_connections("live", 10);
  ASSERT_EQ(connections.size(), 1u);
  EXPECT_EQ(connections[0].events, 0);
}

TEST_P(FeedLeaseTest, ACommitWhoseLeaseExpiredUntakenWritesNothing) {
  const int64_t now = kNow;
  auto epoch = store_->acquire_feed_lease("default", "host-a:1", 1s, now);
  ASSERT_TRUE(epoch);
  // Failed polls (no cursor, no job) under the epoch until the lease runs out: on SQLite at
  // once (their time is past the expiry), on PostgreSQL when the server's clock passes it.
  int probes = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool lost = false;
  while (!lost && std::chrono::steady_clock::now() < deadline) {
    PollCommit probe = make_poll("default", 0, now + 1001);
    probe.poll.ok = false;
    probe.new_cursor.reset();
    probe.lease_epoch = epoch;
    try {
      ASSERT_TRUE(store_->commit_poll(probe));
      ++probes;
      usleep(20'000);
    } catch (const LeaseLostError&) {
      lost = true;
    }
  }
  ASSERT_TRUE(lost);
  if (!postgres()) {
    EXPECT_EQ(probes, 0);
  }
  PollCommit late = make_poll("default", 2, now + 1001);
  late.lease_epoch = epoch;
  EXPECT_THROW(store_->commit_poll(late), LeaseLostError);
  EXPECT_EQ(store_->cursor("default"), std::nullopt);
  EXPECT_EQ(jobs_of("default"), 0);
  EXPECT_EQ(store_->list_polls("default", 100).size(), static_cast<std::size_t>(probes));
}

// Several processes, each with its own connection, try to take one free feed at the same
// moment: exactly one gets it.
TEST_P(FeedLeaseTest, OfSeveralProcessesTryingAtOnceExactlyOneWins) {
  constexpr int kContenders = 6;
  constexpr int kRounds = 5;
  void* shared = mmap(nullptr, sizeof(std::atomic<int>) * 2, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* ready = new (shared) std::atomic<int>(0);
  auto* winners = new (static_cast<std::atomic<int>*>(shared) + 1) std::atomic<int>(0);
  store_.reset();  // no connection shared with the children
  for (int round = 0; round < kRounds; ++round) {
    ready->store(0);
    winners->store(0);
    const std::string feed = "feed-" + std::to_string(round);
    std::vector<pid_t> children;
    for (int c = 0; c < kContenders; ++c) {
      children.push_back(fork_child([&, c] {
        auto store = db_.open();
        store->cursor("warm-up");  // connected and migrated before the start
        ready->fetch_add(1);
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (ready->load() < kContenders && std::chrono::steady_clock::now() < deadline) {
        }
        if (store->acquire_feed_lease(feed, "contender:" + std::to_string(c), 60s, kNow)) {
          winners->fetch_add(1);
        }
        return 0;
      }));
    }
    for (pid_t pid : children) EXPECT_EQ(wait_child(pid), 0);
    EXPECT_EQ(winners->load(), 1) << feed;
  }
  munmap(shared, sizeof(std::atomic<int>) * 2);
  auto leases = db_.open()->feed_leases();
  ASSERT_EQ(leases.size(), static_cast<std::size_t>(kRounds));
  for (const auto& lease : leases) EXPECT_EQ(lease.epoch, 1) << lease.feed;
}

INSTANTIATE_TEST_SUITE_P(Drivers, FeedLeaseTest, ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
