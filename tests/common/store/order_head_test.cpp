// The order key's head marker (jobs.order_waits, schema 006) on every store driver: each way
// a key's head can end lets the next job go (delivered, dead under skip, attempts used up,
// a lease taken back as dead, cancelled, superseded), a dead head under block holds the key
// until it is requeued (and then goes first) or cancelled or pruned, a job requeued ahead of
// a running head makes that head wait after its retry (and its next job wait, however that
// head ended meanwhile), a key emptied and filled again starts with its new job, one batch
// of outcomes (or of leases taken back) finishing many heads moves each key as its own
// outcome says, and a poller enqueueing while dispatchers finish never strands a key.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/store/job_store.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using testing::outcome_for;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

struct Enqueue {
  bool dead_blocks = false;
  bool coalesce = false;
  int max_attempts = 4;
};

class OrderHeadTest : public ::testing::TestWithParam<webhook::testing::Driver> {
 protected:
  // Commits one poll of feed "f" with one job per key (empty: unordered); their ids in order.
  std::vector<std::string> enqueue(const std::vector<std::string>& keys, int64_t now,
                                   Enqueue how = {}) {
    return enqueue_on(*store_, keys, now, how);
  }
  static std::vector<std::string> enqueue_on(JobStore& store, const std::vector<std::string>& keys,
                                             int64_t now, Enqueue how) {
    PollCommit c =
        webhook::testing::make_poll("f", static_cast<int>(keys.size()), now, store.cursor("f"));
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!keys[i].empty()) c.jobs[i].order_key = keys[i];
      c.jobs[i].max_attempts = how.max_attempts;
    }
    c.dead_blocks_key = how.dead_blocks;
    c.coalesce = how.coalesce;
    EXPECT_TRUE(store.commit_poll(c).has_value());
    std::vector<std::string> ids;
    for (const auto& j : c.jobs) ids.push_back(j.id);
    return ids;
  }
  std::set<std::string> claim(int64_t now, std::chrono::milliseconds lease = 30s) {
    std::set<std::string> ids;
    for (const auto& j : store_->claim("w1", 10, lease, now)) {
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
  // Records one outcome per (id, kind) in one record_outcomes call; a retry is due at `now`.
  void finish_batch(const std::vector<std::pair<std::string, OutcomeKind>>& batch, int64_t now) {
    std::vector<Outcome> outcomes;
    for (const auto& [id, kind] : batch) {
      outcomes.push_back(outcome_for(claimed_.at(id), "w1", kind, now,
                                     kind == OutcomeKind::kDelivered ? 200 : 500, now));
    }
    ASSERT_EQ(store_->record_outcomes(outcomes, now).applied, static_cast<int>(batch.size()));
  }
  JobState state(const std::string& id) { return store_->job(id).value().job.state; }
  // Key "a" with jobs 0, 1, 2 (`how`): 0 dies (skip lets 1 go), 1 is claimed (with `lease`),
  // then 0 is requeued and claimed again, ahead of 1 still running.
  void requeue_ahead_of_running_head(std::vector<std::string>& ids, Enqueue how = {},
                                     std::chrono::milliseconds lease = 30s) {
    ids = enqueue({"a", "a", "a"}, kNow, how);
    EXPECT_EQ(claim(kNow), (std::set{ids[0]}));
    finish(ids[0], OutcomeKind::kDead, kNow + 1);
    EXPECT_EQ(claim(kNow + 1, lease), (std::set{ids[1]}));
    ASSERT_EQ(store_->requeue(std::vector{ids[0]}, kNow + 2), 1);
    EXPECT_EQ(claim(kNow + 2), (std::set{ids[0]}));
  }
  // A poller enqueueing batches of a few keys while two dispatchers claim and record; `mixed`:
  // outcomes are delivered, retried or dead, every other batch recorded on a second
  // connection.
  void enqueue_while_dispatching(bool mixed);

  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
  std::map<std::string, ClaimedJob> claimed_;
};

TEST_P(OrderHeadTest, EveryWayAHeadEndsLetsTheNextJobOfItsKeyGo) {
  // delivered, dead (skip), retried past its last attempt, taken back as dead
  auto ids = enqueue({"d", "d", "k", "k", "r", "r"}, kNow, {.max_attempts = 1});
  EXPECT_EQ(claim(kNow), (std::set{ids[0], ids[2], ids[4]}));
  auto lost = enqueue({"l", "l"}, kNow, {.max_attempts = 1});
  ASSERT_EQ(store_->claim("crashed", 10, 1ms, kNow).size(), 1u);
  finish(ids[0], OutcomeKind::kDelivered, kNow + 1);
  finish(ids[2], OutcomeKind::kDead, kNow + 1);
  finish(ids[4], OutcomeKind::kRetry, kNow + 1, kNow + 1);
  EXPECT_EQ(state(ids[4]), JobState::kDead);
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 2), 1);
  EXPECT_EQ(state(lost[0]), JobState::kDead);
  EXPECT_EQ(claim(kNow + 2), (std::set{ids[1], ids[3], ids[5], lost[1]}));
}

// One batch of outcomes finishing the heads of many keys at once moves each key as its own
// outcome says: delivered or dead under skip let the next go, dead under block holds the
// key, a retry keeps its place (even behind a key finished in the same batch), a retry on
// its last attempt is dead and lets the next go; an unordered outcome changes no key.
TEST_P(OrderHeadTest, OneBatchFinishingManyHeadsMovesEachKeyAsItsOwnOutcomeSays) {
  auto plain = enqueue({"d", "d", "k", "k", "r", "r", ""}, kNow);
  auto held = enqueue({"b", "b"}, kNow, {.dead_blocks = true});
  auto last = enqueue({"x", "x"}, kNow, {.max_attempts = 1});
  ASSERT_EQ(claim(kNow), (std::set{plain[0], plain[2], plain[4], plain[6], held[0], last[0]}));
  finish_batch({{plain[0], OutcomeKind::kDelivered},
                {plain[2], OutcomeKind::kDead},
                {plain[4], OutcomeKind::kRetry},
                {plain[6], OutcomeKind::kDelivered},
                {held[0], OutcomeKind::kDead},
                {last[0], OutcomeKind::kRetry}},
               kNow + 1);
  EXPECT_EQ(state(last[0]), JobState::kDead);
  EXPECT_EQ(claim(kNow + 1), (std::set{plain[1], plain[3], plain[4], last[1]}));
  auto blocked = store_->blocked_keys(std::nullopt, 10);
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_EQ(blocked[0].blocking_id, held[0]);
  finish_batch({{plain[1], OutcomeKind::kDelivered},
                {plain[3], OutcomeKind::kDelivered},
                {plain[4], OutcomeKind::kDelivered},
                {last[1], OutcomeKind::kDelivered}},
               kNow + 2);
  EXPECT_EQ(claim(kNow + 2), (std::set{plain[5]}));
}

// A job requeued ahead of its key's running head runs beside it; one batch finishing both
// counts both: the key's next job goes when both were delivered, and is held when the head
// behind died under `block`.
TEST_P(OrderHeadTest, OneBatchFinishingARequeuedJobAndTheRunningHeadBehindItCountsBoth) {
  // Per key: a job under skip (it dies, the next goes), then two under block.
  std::map<std::string, std::vector<std::string>> ids;
  for (const std::string key : {"a", "c"}) {
    ids[key] = enqueue({key}, kNow);
    for (const auto& id : enqueue({key, key}, kNow, {.dead_blocks = true})) {
      ids[key].push_back(id);
    }
  }
  ASSERT_EQ(claim(kNow), (std::set{ids["a"][0], ids["c"][0]}));
  finish_batch({{ids["a"][0], OutcomeKind::kDead}, {ids["c"][0], OutcomeKind::kDead}}, kNow + 1);
  ASSERT_EQ(claim(kNow + 1), (std::set{ids["a"][1], ids["c"][1]}));
  ASSERT_EQ(store_->requeue(std::vector{ids["a"][0], ids["c"][0]}, kNow + 2), 2);
  ASSERT_EQ(claim(kNow + 2), (std::set{ids["a"][0], ids["c"][0]}));
  finish_batch({{ids["a"][0], OutcomeKind::kDelivered},
                {ids["a"][1], OutcomeKind::kDead},
                {ids["c"][1], OutcomeKind::kDelivered},
                {ids["c"][0], OutcomeKind::kDelivered}},
               kNow + 3);
  EXPECT_EQ(claim(kNow + 3), (std::set{ids["c"][2]}));
  auto blocked = store_->blocked_keys(std::nullopt, 10);
  ASSERT_EQ(blocked.size(), 1u);
  EXPECT_EQ(blocked[0].blocking_id, ids["a"][1]);
  ASSERT_EQ(store_->cancel(std::vector{ids["a"][1]}, kNow + 4), 1);
  EXPECT_EQ(claim(kNow + 4), (std::set{ids["a"][2]}));
}

// Leases of several keys' heads taken back in one go: a head out of attempts is dead and lets
// its next job go (under skip) or holds its key (under block); one with attempts left keeps
// its place.
TEST_P(OrderHeadTest, TakingBackManyLeasesAtOnceMovesEachKeyAsItsAttemptsSay) {
  auto dies = enqueue({"d", "d"}, kNow, {.max_attempts = 1});
  auto held = enqueue({"b", "b"}, kNow, {.dead_blocks = true, .max_attempts = 1});
  auto again = enqueue({"r", "r"}, kNow, {.max_attempts = 2});
  ASSERT_EQ(store_->claim("crashed", 10, 1ms, kNow).size(), 3u);
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 1), 3);
  EXPECT_EQ(state(dies[0]), JobState::kDead);
  EXPECT_EQ(state(held[0]), JobState::kDead);
  EXPECT_EQ(state(again[0]), JobState::kPending);
  EXPECT_EQ(claim(kNow + 1), (std::set{dies[1], again[0]}));
  ASSERT_EQ(store_->blocked_keys(std::nullopt, 10).size(), 1u);
  EXPECT_EQ(store_->job(again[0]).value().attempts.size(), 1u);
}

TEST_P(OrderHeadTest, CancellingThePendingHeadLetsTheNextGoAndCancellingAWaitingJobDoesNot) {
  auto ids = enqueue({"a", "a", "a", "a"}, kNow);
  ASSERT_EQ(store_->cancel(std::vector{ids[1]}, kNow + 1), 1);  // waiting: the head stays
  EXPECT_EQ(claim(kNow + 1), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kDelivered, kNow + 2);
  // ids[1] is cancelled: ids[2] is next; cancelled before it is tried, ids[3] goes.
  ASSERT_EQ(store_->cancel(std::vector{ids[2]}, kNow + 3), 1);
  EXPECT_EQ(claim(kNow + 3), (std::set{ids[3]}));
}

TEST_P(OrderHeadTest, ADeadHeadUnderBlockRequeuedGoesFirstThenTheKeyGoesOn) {
  auto ids = enqueue({"a", "a", "a"}, kNow, {.dead_blocks = true});
  EXPECT_EQ(claim(kNow), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kDead, kNow + 1);
  EXPECT_TRUE(claim(kNow + 1).empty());
  // A retry of the dead head leaves it dead and the key held: nothing changed.
  EXPECT_EQ(store_->blocked_keys(std::nullopt, 10).size(), 1u);
  ASSERT_EQ(store_->requeue(std::vector{ids[0]}, kNow + 2), 1);
  EXPECT_EQ(claim(kNow + 2), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kRetry, kNow + 3, kNow + 3);
  EXPECT_EQ(claim(kNow + 3), (std::set{ids[0]}));  // its retry, still ahead of ids[1]
  finish(ids[0], OutcomeKind::kDelivered, kNow + 4);
  EXPECT_EQ(claim(kNow + 4), (std::set{ids[1]}));
  finish(ids[1], OutcomeKind::kDelivered, kNow + 5);
  EXPECT_EQ(claim(kNow + 5), (std::set{ids[2]}));
}

TEST_P(OrderHeadTest, PruningADeadJobUnderBlockLetsItsKeyGoOn) {
  auto ids = enqueue({"a", "a"}, kNow, {.dead_blocks = true});
  EXPECT_EQ(claim(kNow), (std::set{ids[0]}));
  finish(ids[0], OutcomeKind::kDead, kNow + 1);
  EXPECT_TRUE(claim(kNow + 1).empty());
  EXPECT_EQ(store_->prune(kNow + 2, 10).jobs, 1);
  EXPECT_TRUE(store_->blocked_keys(std::nullopt, 10).empty());
  EXPECT_EQ(claim(kNow + 2), (std::set{ids[1]}));
}

TEST_P(OrderHeadTest, TheSettingIsTheJobsOwnAJobEnqueuedUnderSkipPassesADeadBlockingJob) {
  auto first = enqueue({"a"}, kNow, {.dead_blocks = true});
  EXPECT_EQ(claim(kNow), (std::set{first[0]}));
  finish(first[0], OutcomeKind::kDead, kNow + 1);
  auto skip = enqueue({"a"}, kNow + 2);
  EXPECT_EQ(claim(kNow + 2), (std::set{skip[0]}));
  finish(skip[0], OutcomeKind::kDelivered, kNow + 3);
  auto block = enqueue({"a"}, kNow + 4, {.dead_blocks = true});
  EXPECT_TRUE(claim(kNow + 4).empty());
  ASSERT_EQ(store_->cancel(std::vector{first[0]}, kNow + 5), 1);
  EXPECT_EQ(claim(kNow + 5), (std::set{block[0]}));
}

TEST_P(OrderHeadTest, AJobThatCouldNotBeRenderedUnderBlockHoldsItsKey) {
  PollCommit c = webhook::testing::make_poll("f", 2, kNow);
  for (auto& j : c.jobs) j.order_key = "a";
  c.jobs[0].dead = true;
  c.jobs[0].last_error = "WEBHOOK_BODY: KeyError: 'x'";
  c.dead_blocks_key = true;
  ASSERT_TRUE(store_->commit_poll(c));
  EXPECT_TRUE(claim(kNow).empty());
  ASSERT_EQ(store_->cancel(std::vector{c.jobs[0].id}, kNow + 1), 1);
  EXPECT_EQ(claim(kNow + 1), (std::set{c.jobs[1].id}));
}

// Skip lets a later job go past a dead one; requeueing the dead one puts it back ahead,
// while the later one runs: that one's retry then waits for it.
TEST_P(OrderHeadTest, AJobRequeuedAheadOfARunningHeadGoesFirstAndTheHeadsRetryWaits) {
  std::vector<std::string> ids;
  ASSERT_NO_FATAL_FAILURE(requeue_ahead_of_running_head(ids));
  finish(ids[1], OutcomeKind::kRetry, kNow + 3, kNow + 3);
  EXPECT_TRUE(claim(kNow + 3).empty());
  finish(ids[0], OutcomeKind::kDelivered, kNow + 4);
  EXPECT_EQ(claim(kNow + 4), (std::set{ids[1]}));
  finish(ids[1], OutcomeKind::kDelivered, kNow + 5);
  EXPECT_EQ(claim(kNow + 5), (std::set{ids[2]}));
}

// The running head delivered while the job requeued ahead of it runs ends out of turn: the
// key's next job still waits for the requeued one, then goes (on PostgreSQL the store frees
// the key's head again after such an outcome, which must not pass the requeued job).
TEST_P(OrderHeadTest, AHeadDeliveredWhileAJobRequeuedAheadOfItRunsLetsTheNextGoAfterThatOne) {
  std::vector<std::string> ids;
  ASSERT_NO_FATAL_FAILURE(requeue_ahead_of_running_head(ids));
  finish(ids[1], OutcomeKind::kDelivered, kNow + 3);
  EXPECT_TRUE(claim(kNow + 3).empty());
  EXPECT_EQ(store_->next_due_at(), std::nullopt);
  finish(ids[0], OutcomeKind::kDelivered, kNow + 4);
  EXPECT_EQ(claim(kNow + 4), (std::set{ids[2]}));
}

// The same with the running head's lease taken back, out of attempts (dead, under skip).
TEST_P(OrderHeadTest, AHeadTakenBackWhileAJobRequeuedAheadOfItRunsLetsTheNextGoAfterThatOne) {
  std::vector<std::string> ids;
  ASSERT_NO_FATAL_FAILURE(requeue_ahead_of_running_head(ids, {.max_attempts = 1}, 1ms));
  ASSERT_EQ(store_->reclaim_expired_leases(kNow + 3), 1);
  EXPECT_EQ(state(ids[1]), JobState::kDead);
  EXPECT_TRUE(claim(kNow + 3).empty());
  finish(ids[0], OutcomeKind::kDelivered, kNow + 4);
  EXPECT_EQ(claim(kNow + 4), (std::set{ids[2]}));
}

TEST_P(OrderHeadTest, RequeueingSeveralDeadJobsOfAKeyAtOnceKeepsThemInOrder) {
  auto ids = enqueue({"a", "a", "a", "a"}, kNow);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(claim(kNow + i), (std::set{ids[i]}));
    finish(ids[i], OutcomeKind::kDead, kNow + i);
  }
  EXPECT_EQ(claim(kNow + 3), (std::set{ids[3]}));
  ASSERT_EQ(store_->requeue_dead(std::nullopt, kNow + 4), 3);
  EXPECT_EQ(claim(kNow + 4), (std::set{ids[0]}));
  for (int i = 0; i < 3; ++i) {
    finish(ids[i], OutcomeKind::kDelivered, kNow + 5 + i);
    if (i < 2) {
      EXPECT_EQ(claim(kNow + 5 + i), (std::set{ids[i + 1]}));
    }
  }
  finish(ids[3], OutcomeKind::kDelivered, kNow + 8);
  EXPECT_TRUE(claim(kNow + 8).empty());
}

TEST_P(OrderHeadTest, CoalescingTheUntriedHeadMakesTheNewJobTheHead) {
  auto old = enqueue({"a", "a", "b"}, kNow);
  auto latest = enqueue({"a"}, kNow + 1, {.coalesce = true});
  EXPECT_EQ(state(old[0]), JobState::kSuperseded);
  EXPECT_EQ(state(old[1]), JobState::kSuperseded);
  EXPECT_EQ(claim(kNow + 1), (std::set{latest[0], old[2]}));
  // While it runs, the next one waits (and is not superseded: it is the latest).
  auto next = enqueue({"a"}, kNow + 2, {.coalesce = true});
  EXPECT_TRUE(claim(kNow + 2).empty());
  finish(latest[0], OutcomeKind::kDelivered, kNow + 3);
  EXPECT_EQ(claim(kNow + 3), (std::set{next[0]}));
}

TEST_P(OrderHeadTest, AKeyEmptiedAndFilledAgainStartsWithItsNewJob) {
  auto first = enqueue({"a"}, kNow);
  EXPECT_EQ(claim(kNow), (std::set{first[0]}));
  finish(first[0], OutcomeKind::kDelivered, kNow + 1);
  auto second = enqueue({"a", "a"}, kNow + 2);
  EXPECT_EQ(claim(kNow + 2), (std::set{second[0]}));
  EXPECT_EQ(store_->next_due_at(), std::nullopt);  // second[1] waits: nothing is due
  finish(second[0], OutcomeKind::kDelivered, kNow + 3);
  EXPECT_EQ(store_->next_due_at(), kNow + 2);
}

// A poller commits jobs of a few keys while dispatchers on their own connections deliver
// them: a dispatcher finishing a key's last job and a poller enqueueing the key's next one at
// the same moment must leave that next job free to go, or it would wait forever.
TEST_P(OrderHeadTest, EnqueueingWhileDispatchersFinishNeverStrandsAKey) {
  enqueue_while_dispatching(false);
}

// The same with outcomes of every kind, some recorded through another connection than the
// claim's (a store that does not know the job is ordered must still move its key's head as
// safely): every job ends delivered or dead, none left waiting.
TEST_P(OrderHeadTest, EnqueueingWhileDispatchersRetryKillOrDeliverElsewhereNeverStrandsAKey) {
  enqueue_while_dispatching(true);
}

void OrderHeadTest::enqueue_while_dispatching(bool mixed) {
  constexpr int kBatches = 60;
  constexpr int kKeys = 5;
  std::atomic<bool> polling{true};
  std::atomic<int64_t> clock{kNow};
  std::mutex mutex;
  std::map<std::string, std::string> key_of;
  std::vector<std::string> all;
  std::thread poller([&] {
    auto store = db_.open();
    for (int b = 0; b < kBatches; ++b) {
      std::vector<std::string> keys;
      for (int k = 0; k < kKeys; ++k) keys.push_back("k" + std::to_string((b + k) % (kKeys + 2)));
      auto ids = enqueue_on(*store, keys, clock.fetch_add(1), {.max_attempts = 1000});
      std::lock_guard lock(mutex);
      for (std::size_t i = 0; i < ids.size(); ++i) key_of[ids[i]] = keys[i];
      all.insert(all.end(), ids.begin(), ids.end());
    }
    polling = false;
  });
  std::atomic<int> finished{0};
  auto dispatcher = [&](int number) {
    auto store = db_.open();
    auto elsewhere = db_.open();
    const std::string worker = "w" + std::to_string(number);
    int idle = 0;
    for (int turn = 0; polling.load() || idle < 2000; ++turn) {
      const int64_t now = clock.fetch_add(1);
      auto jobs = store->claim(worker, 3, 1h, now);
      if (jobs.empty()) {
        ++idle;
        std::this_thread::yield();
        continue;
      }
      idle = 0;
      std::vector<Outcome> outcomes;
      int finishing = 0;
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        // Mixed: by turn and place, delivered, retried (due at once) or dead.
        const int pick = mixed ? static_cast<int>((turn + i) % 5) : 0;
        const OutcomeKind kind = pick == 3   ? OutcomeKind::kRetry
                                 : pick == 4 ? OutcomeKind::kDead
                                             : OutcomeKind::kDelivered;
        outcomes.push_back(outcome_for(jobs[i], worker, kind, now,
                                       kind == OutcomeKind::kDelivered ? 200 : 500, now));
        if (kind != OutcomeKind::kRetry) ++finishing;
      }
      auto& recorder = mixed && turn % 2 == 1 ? *elsewhere : *store;
      ASSERT_EQ(recorder.record_outcomes(outcomes, now).applied, static_cast<int>(outcomes.size()));
      finished += finishing;
    }
  };
  std::thread d1(dispatcher, 1), d2(dispatcher, 2);
  poller.join();
  d1.join();
  d2.join();
  EXPECT_EQ(finished.load(), kBatches * kKeys);
  for (const auto& id : all) {
    const JobState s = state(id);
    if (mixed) {
      EXPECT_TRUE(s == JobState::kDelivered || s == JobState::kDead) << key_of[id];
    } else {
      EXPECT_EQ(s, JobState::kDelivered) << key_of[id];
    }
  }
}

// A job cancelled while it waited is skipped by the walk that looks for a new job's place; put
// back by a requeue, it must go before the job enqueued after its cancel, not after it
// (schema/sqlite/007_order_successors.sql: the head's successor is set again).
TEST_P(OrderHeadTest, AJobCancelledAndRequeuedGoesBeforeAJobEnqueuedInBetween) {
  auto first = enqueue({"a", "a"}, kNow);
  ASSERT_EQ(store_->cancel(std::vector{first[1]}, kNow + 1), 1);
  auto later = enqueue({"a"}, kNow + 2);
  ASSERT_EQ(store_->requeue(std::vector{first[1]}, kNow + 3), 1);
  EXPECT_EQ(claim(kNow + 3), (std::set{first[0]}));
  finish(first[0], OutcomeKind::kDelivered, kNow + 4);
  EXPECT_EQ(claim(kNow + 4), (std::set{first[1]}));
  finish(first[1], OutcomeKind::kDelivered, kNow + 5);
  EXPECT_EQ(claim(kNow + 5), (std::set{later[0]}));
}

// One record_outcomes call ends the turn of several keys' heads in as many ways: each key
// goes on, or not, as it would with one outcome at a time.
TEST_P(OrderHeadTest, OneBatchOfOutcomesMovesEachKeysHeadAsItsOutcomeSays) {
  auto skip = enqueue({"delivered", "delivered", "retried", "retried", "dead", "dead"}, kNow);
  auto block = enqueue({"blocked", "blocked"}, kNow, {.dead_blocks = true});
  EXPECT_EQ(claim(kNow), (std::set{skip[0], skip[2], skip[4], block[0]}));
  const int64_t at = kNow + 1;
  auto r = store_->record_outcomes(
      std::vector{outcome_for(claimed_.at(skip[0]), "w1", OutcomeKind::kDelivered, at, 200),
                  outcome_for(claimed_.at(skip[2]), "w1", OutcomeKind::kRetry, at, 503, at),
                  outcome_for(claimed_.at(skip[4]), "w1", OutcomeKind::kDead, at, 410),
                  outcome_for(claimed_.at(block[0]), "w1", OutcomeKind::kDead, at, 410)},
      at);
  ASSERT_EQ(r.applied, 4);
  // The retried head goes again before its key's next job; the blocked key waits.
  EXPECT_EQ(claim(at), (std::set{skip[1], skip[2], skip[5]}));
  ASSERT_EQ(store_->blocked_keys(std::nullopt, 10).size(), 1u);
  EXPECT_EQ(store_->blocked_keys(std::nullopt, 10)[0].order_key, "blocked");
  finish(skip[2], OutcomeKind::kDelivered, at + 1);
  EXPECT_EQ(claim(at + 1), (std::set{skip[3]}));
}

// A key with a long history: the jobs finished in their turn end the walk back from a new
// job, the ones finished out of turn (cancelled while waiting) do not, so a new job behind an
// unfinished head still waits however the jobs before it ended.
TEST_P(OrderHeadTest, ANewJobWaitsBehindAnUnfinishedHeadPastJobsCancelledWhileWaiting) {
  for (int i = 0; i < 30; ++i) {
    auto one = enqueue({"a"}, kNow + i);
    EXPECT_EQ(claim(kNow + i), (std::set{one[0]}));
    finish(one[0], OutcomeKind::kDelivered, kNow + i);
  }
  const int64_t at = kNow + 100;
  auto ids = enqueue({"a", "a", "a"}, at);
  ASSERT_EQ(store_->cancel(std::vector{ids[1], ids[2]}, at), 2);
  auto next = enqueue({"a"}, at + 1);
  EXPECT_EQ(claim(at + 1), (std::set{ids[0]}));
  EXPECT_TRUE(claim(at + 1).empty());
  finish(ids[0], OutcomeKind::kDelivered, at + 2);
  EXPECT_EQ(claim(at + 2), (std::set{next[0]}));
  finish(next[0], OutcomeKind::kDelivered, at + 3);
  auto last = enqueue({"a"}, at + 4);  // nothing of its key is unfinished: it goes at once
  EXPECT_EQ(claim(at + 4), (std::set{last[0]}));
}

INSTANTIATE_TEST_SUITE_P(Drivers, OrderHeadTest, ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
