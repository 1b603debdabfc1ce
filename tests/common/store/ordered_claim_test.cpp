// Ordered delivery per key (NewJob::order_key) on every store driver: one job of a key at a
// time in enqueue order, retries keeping their place, dead jobs skipped or holding the key,
// leases lost and taken back, several dispatchers on their own connections, and coalescing.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/store/job_store.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using testing::outcome_for;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

class OrderedClaimTest : public ::testing::TestWithParam<webhook::testing::Driver> {
 protected:
  // Commits one poll of `feed` whose jobs have `keys` (empty string: unordered) and returns
  // their ids in order.
  std::vector<std::string> enqueue_keys(const std::string& feed,
                                        const std::vector<std::string>& keys, int64_t now,
                                        bool dead_blocks = false, bool coalesce = false,
                                        int max_attempts = 4) {
    return commit_keys(*store_, feed, keys, now, dead_blocks, coalesce, max_attempts);
  }
  static std::vector<std::string> commit_keys(JobStore& store, const std::string& feed,
                                              const std::vector<std::string>& keys, int64_t now,
                                              bool dead_blocks, bool coalesce, int max_attempts) {
    PollCommit c =
        webhook::testing::make_poll(feed, static_cast<int>(keys.size()), now, store.cursor(feed));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i].empty()) c.jobs[i].order_key = keys[i];
      c.jobs[i].max_attempts = max_attempts;
      c.jobs[i].url = "http://sink/" + feed + "/" + keys[i] + "/" + std::to_string(i);
    }
    c.dead_blocks_key = dead_blocks;
    c.coalesce = coalesce;
    EXPECT_TRUE(store.commit_poll(c).has_value());
    std::vector<std::string> ids;
    for (const auto& j : c.jobs) ids.push_back(j.id);
    return ids;
  }
  std::set<std::string> claim_ids(int max, int64_t now, const std::string& worker = "w1") {
    std::set<std::string> ids;
    for (const auto& j : store_->claim(worker, max, 30s, now)) {
      ids.insert(j.id);
      claimed_[j.id] = j;
    }
    return ids;
  }
  void finish(const std::string& id, OutcomeKind kind, int64_t now, int64_t retry_at = 0) {
    auto r = store_->record_outcomes(
        std::vector{outcome_for(claimed_.at(id), "w1", kind, now,
                                kind == OutcomeKind::kDelivered ? 200 : 500, retry_at)},
        now);
    ASSERT_EQ(r.applied, 1) << id;
  }
  JobState state(const std::string& id) { return store_->job(id).value().job.state; }

  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
  std::map<std::string, ClaimedJob> claimed_;
};

TEST_P(OrderedClaimTest, ClaimTakesOneJobPerKeyInEnqueueOrderAndNeverHoldsUpOthers) {
  auto ids = enqueue_keys("f", {"a", "b", "a", "", "c", "b", "a", ""}, kNow);
  // The first of each key and every unordered job; a1, b1 and a2 wait.
  EXPECT_EQ(claim_ids(10, kNow), (std::set{ids[0], ids[1], ids[3], ids[4], ids[7]}));
  EXPECT_TRUE(claim_ids(10, kNow).empty());
  finish(ids[0], OutcomeKind::kDelivered, kNow + 1);
  EXPECT_EQ(claim_ids(10, kNow + 1), (std::set{ids[2]}));
  finish(ids[1], OutcomeKind::kDelivered, kNow + 2);
  finish(ids[2], OutcomeKind::kDelivered, kNow + 2);
  EXPECT_EQ(claim_ids(10, kNow + 2), (std::set{ids[5], ids[6]}));
  EXPECT_EQ(store_->job(ids[6])->job.order_key, "a");
  EXPECT_EQ(store_->job(ids[3])->job.order_key, std::nullopt);
}

TEST_P(OrderedClaimTest, ARetryKeepsItsPlaceAndTheLaterJobsOfItsKeyWait) {
  auto ids = enqueue_keys("f", {"a", "a", "b"}, kNow);
  EXPECT_EQ(claim_ids(10, kNow), (std::set{ids[0], ids[2]}));
  finish(ids[0], OutcomeKind::kRetry, kNow + 1, kNow + 60000);
  finish(ids[2], OutcomeKind::kDelivered, kNow + 1);
  // a0 is not due yet, and a1 must not overtake it.
  EXPECT_TRUE(claim_ids(10, kNow + 59999).empty());
  EXPECT_EQ(store_->next_due_at(), kNow + 60000);
  EXPECT_EQ(claim_ids(10, kNow + 60000), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kDelivered, kNow + 60001);
  EXPECT_EQ(claim_ids(10, kNow + 60001), (std::set{ids[1]}));
}

TEST_P(OrderedClaimTest, ADeadJobIsSkippedByDefaultAndStaysVisible) {
  auto ids = enqueue_keys("f", {"a", "a"}, kNow);
  EXPECT_EQ(claim_ids(10, kNow), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kDead, kNow + 1);
  EXPECT_EQ(claim_ids(10, kNow + 1), (std::set{ids[1]}));
  EXPECT_EQ(state(ids[0]), JobState::kDead);
  EXPECT_TRUE(store_->blocked_keys(std::nullopt, 10).empty());
}

TEST_P(OrderedClaimTest, ADeadJobUnderBlockHoldsItsKeyUntilRequeuedOrCancelled) {
  auto ids = enqueue_keys("f", {"a", "a", "a", "b"}, kNow, /*dead_blocks=*/true);
  EXPECT_EQ(claim_ids(10, kNow), (std::set{ids[0], ids[3]}));
  finish(ids[0], OutcomeKind::kDead, kNow + 1);
  finish(ids[3], OutcomeKind::kDead, kNow + 1);
  EXPECT_TRUE(claim_ids(10, kNow + 1).empty());
  auto blocked = store_->blocked_keys(std::nullopt, 10);
  ASSERT_EQ(blocked.size(), 2u);
  EXPECT_EQ(blocked[0].feed, "f");
  EXPECT_EQ(blocked[0].order_key, "a");
  EXPECT_EQ(blocked[0].blocking_id, ids[0]);
  EXPECT_EQ(blocked[0].blocking_seq, store_->job(ids[0])->job.seq);
  EXPECT_EQ(blocked[0].dead_since, kNow + 1);
  EXPECT_EQ(blocked[0].last_error, "HTTP 500");
  EXPECT_EQ(blocked[0].waiting, 2);
  EXPECT_EQ(blocked[1].order_key, "b");
  EXPECT_EQ(blocked[1].waiting, 0);  // blocked all the same: its next job will wait
  EXPECT_TRUE(store_->blocked_keys(std::string("other"), 10).empty());
  EXPECT_EQ(store_->blocked_keys(std::nullopt, 1).size(), 1u);
  // A retried dead job goes first again, still ahead of the later ones.
  ASSERT_EQ(store_->requeue(std::vector{ids[0]}, kNow + 2), 1);
  EXPECT_EQ(store_->blocked_keys(std::nullopt, 10).size(), 1u);
  EXPECT_EQ(claim_ids(10, kNow + 2), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kDead, kNow + 3);
  EXPECT_TRUE(claim_ids(10, kNow + 3).empty());
  // Cancelling it lets the key go on.
  ASSERT_EQ(store_->cancel(std::vector{ids[0]}, kNow + 4), 1);
  EXPECT_EQ(state(ids[0]), JobState::kCancelled);
  EXPECT_EQ(claim_ids(10, kNow + 4), (std::set{ids[1]}));
  ASSERT_EQ(store_->blocked_keys(std::nullopt, 10).size(), 1u);
  EXPECT_EQ(store_->blocked_keys(std::nullopt, 10)[0].order_key, "b");
}

TEST_P(OrderedClaimTest, KeysAreKeptApartPerFeed) {
  auto f = enqueue_keys("f", {"a", "a"}, kNow);
  auto g = enqueue_keys("g", {"a", "a"}, kNow);
  EXPECT_EQ(claim_ids(10, kNow), (std::set{f[0], g[0]}));
}

TEST_P(OrderedClaimTest, ALostLeaseKeepsTheKeyHeldAndTheSameJobGoesAgain) {
  auto ids = enqueue_keys("f", {"a", "a"}, kNow);
  auto first = store_->claim("crashed", 10, 30s, kNow);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_TRUE(claim_ids(10, kNow + 29999, "w1").empty());
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 30000), 1);
  EXPECT_EQ(claim_ids(10, kNow + 30000), (std::set{ids[0]}));
  // The crashed dispatcher's late outcome is fenced off; the key still waits for the retry.
  auto stale = store_->record_outcomes(
      std::vector{outcome_for(first[0], "crashed", OutcomeKind::kDelivered, kNow + 30001)},
      kNow + 30001);
  EXPECT_EQ(stale.stale, 1);
  EXPECT_TRUE(claim_ids(10, kNow + 30001).empty());
  finish(ids[0], OutcomeKind::kDelivered, kNow + 30002);
  EXPECT_EQ(claim_ids(10, kNow + 30002), (std::set{ids[1]}));
}

TEST_P(OrderedClaimTest, ReleasedJobsKeepTheirPlace) {
  auto ids = enqueue_keys("f", {"a", "a"}, kNow);
  EXPECT_EQ(claim_ids(10, kNow), (std::set{ids[0]}));
  ASSERT_EQ(store_->release("w1", std::vector{ids[0]}, kNow + 1), 1);
  EXPECT_EQ(claim_ids(10, kNow + 1), (std::set{ids[0]}));
}

TEST_P(OrderedClaimTest, CoalescingSupersedesOnlyEarlierUntriedPendingJobsOfTheKey) {
  // Within one commit: a0 is replaced by a1 at once.
  auto c1 = enqueue_keys("f", {"a", "a", "b"}, kNow, false, /*coalesce=*/true);
  EXPECT_EQ(state(c1[0]), JobState::kSuperseded);
  EXPECT_EQ(store_->job(c1[0])->job.finished_at, kNow);
  EXPECT_EQ(state(c1[1]), JobState::kPending);
  EXPECT_EQ(claim_ids(10, kNow), (std::set{c1[1], c1[2]}));
  // a1 is in flight: never superseded; a2 waits and is replaced by a3.
  auto c2 = enqueue_keys("f", {"a"}, kNow + 1, false, true);
  auto c3 = enqueue_keys("f", {"a"}, kNow + 2, false, true);
  EXPECT_EQ(state(c1[1]), JobState::kRunning);
  EXPECT_EQ(state(c2[0]), JobState::kSuperseded);
  EXPECT_EQ(state(c3[0]), JobState::kPending);
  // a1 failed once: tried, so it is kept; a3, never tried, is replaced by a4.
  finish(c1[1], OutcomeKind::kRetry, kNow + 3, kNow + 3);
  auto c4 = enqueue_keys("f", {"a"}, kNow + 4, false, true);
  EXPECT_EQ(state(c1[1]), JobState::kPending);
  EXPECT_EQ(state(c3[0]), JobState::kSuperseded);
  EXPECT_EQ(claim_ids(10, kNow + 4), (std::set{c1[1]}));
  finish(c1[1], OutcomeKind::kDelivered, kNow + 5);
  EXPECT_EQ(claim_ids(10, kNow + 5), (std::set{c4[0]}));
  // The history shows them, and the counts have the state.
  JobFilter filter;
  filter.state = JobState::kSuperseded;
  EXPECT_EQ(store_->list_jobs(filter).size(), 3u);
  auto status = store_->status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].counts.at(JobState::kSuperseded), 3);
  // Superseded jobs are finished: pruned with the rest of the history, never requeued.
  EXPECT_EQ(store_->requeue(std::vector{c1[0]}, kNow + 6), 0);
}

TEST_P(OrderedClaimTest, WithoutCoalescingOrWithADeadJobNothingIsSuperseded) {
  auto plain = enqueue_keys("f", {"a", "a"}, kNow);
  EXPECT_EQ(state(plain[0]), JobState::kPending);
  // A job that could not be rendered replaces nothing.
  PollCommit c = webhook::testing::make_poll("f", 1, kNow + 1, store_->cursor("f"));
  c.jobs[0].order_key = "a";
  c.jobs[0].dead = true;
  c.jobs[0].last_error = "WEBHOOK_URL: KeyError: 'id'";
  c.coalesce = true;
  ASSERT_TRUE(store_->commit_poll(c));
  EXPECT_EQ(state(plain[0]), JobState::kPending);
  EXPECT_EQ(state(plain[1]), JobState::kPending);
  EXPECT_EQ(state(c.jobs[0].id), JobState::kDead);
}

// Several dispatchers, each on its own connection, claim and record at once while one of
// them crashes now and then (its leases run out and are taken back): no two jobs of a key
// are ever out at once, each key's jobs are claimed in enqueue order (a retry or a lost
// lease claims the same job again), and every job is delivered.
TEST_P(OrderedClaimTest, SeveralDispatchersKeepEveryKeyInOrderAcrossLostLeases) {
  constexpr int kKeys = 30;
  constexpr int kPerKey = 8;
  std::vector<std::string> keys;
  for (int i = 0; i < kPerKey; ++i) {
    for (int k = 0; k < kKeys; ++k) keys.push_back("k" + std::to_string(k));
  }
  keys.push_back("");
  auto ids = enqueue_keys("f", keys, kNow, false, false, /*max_attempts=*/1000);
  std::map<std::string, std::pair<std::string, int>> place;  // id -> key, index in key
  for (std::size_t i = 0; i < ids.size(); ++i) {
    place[ids[i]] = {keys[i], static_cast<int>(i / kKeys)};
  }

  std::atomic<int64_t> clock{kNow};
  std::atomic<int> delivered{0};
  std::mutex mutex;
  std::set<std::string> out;                       // keys with a job claimed, not finished
  std::map<std::string, std::vector<int>> claims;  // key -> claimed indexes, in order
  std::vector<std::string> violations;
  const int total = static_cast<int>(ids.size());

  auto dispatcher = [&](int number) {
    auto store = db_.open();
    std::mt19937 random(static_cast<unsigned>(number) * 7919u);
    const bool crashes = number == 0;
    const std::string worker = "w" + std::to_string(number);
    int idle = 0;
    while (delivered.load() < total && idle < 20000) {
      const int64_t now = clock.fetch_add(1);
      store->reclaim_expired_leases(now);
      const bool crash_now = crashes && random() % 4 == 0;
      // A crashing claim's lease runs out at once on the shared clock: another dispatcher
      // may take it back, deliver it and claim the key's next job before this thread notes
      // its claim. Claimed and noted under the lock, claims are noted in the order they
      // committed. (Other claims hold their jobs until their outcome, noted after this.)
      std::unique_lock lock(mutex, std::defer_lock);
      if (crash_now) lock.lock();
      auto jobs = store->claim(worker, 4, crash_now ? 1ms : 1h, now);
      if (jobs.empty()) {
        ++idle;
        if (lock.owns_lock()) lock.unlock();
        std::this_thread::yield();
        continue;
      }
      idle = 0;
      {
        if (!lock.owns_lock()) lock.lock();
        for (const auto& j : jobs) {
          const auto& [key, index] = place.at(j.id);
          if (key.empty()) continue;
          if (!out.insert(key).second) violations.push_back("two jobs of " + key + " out");
          auto& seen = claims[key];
          if (!seen.empty() && index < seen.back()) {
            violations.push_back(key + ": job " + std::to_string(index) + " after " +
                                 std::to_string(seen.back()));
          }
          seen.push_back(index);
        }
        // The crashed dispatcher never answers; the store takes its leases back.
        if (crash_now) {
          for (const auto& j : jobs) out.erase(place.at(j.id).first);
          continue;
        }
        lock.unlock();
      }
      std::vector<Outcome> outcomes;
      int delivering = 0;
      for (const auto& j : jobs) {
        const bool fail = random() % 3 == 0;
        outcomes.push_back(outcome_for(j, worker,
                                       fail ? OutcomeKind::kRetry : OutcomeKind::kDelivered, now,
                                       fail ? 503 : 200, now));
        if (!fail) ++delivering;
      }
      {
        // Finished before the outcome commits: the next job of the key may be claimed as
        // soon as it does.
        std::lock_guard lock(mutex);
        for (const auto& j : jobs) out.erase(place.at(j.id).first);
      }
      auto r = store->record_outcomes(outcomes, clock.fetch_add(1));
      if (r.applied != static_cast<int>(outcomes.size())) {
        std::lock_guard lock(mutex);
        violations.push_back("outcomes not applied: " + std::to_string(r.stale) + " stale");
      }
      delivered += delivering;
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back(dispatcher, i);
  for (auto& t : threads) t.join();

  EXPECT_TRUE(violations.empty()) << violations.front();
  EXPECT_EQ(delivered.load(), total);
  for (const auto& id : ids) EXPECT_EQ(state(id), JobState::kDelivered) << id;
  for (const auto& [key, seen] : claims) {
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end())) << key;
    EXPECT_EQ(seen.back(), kPerKey - 1) << key;
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, OrderedClaimTest,
                         ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
