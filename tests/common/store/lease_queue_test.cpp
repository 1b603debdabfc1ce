// State transitions of the dispatcher's side of the store, legal and illegal, on a real file.
#include <gtest/gtest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include "common/store/fault_injecting_store.h"
#include "common/store/job_store.h"
#include "common/store/open_store.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/sync_counting_vfs.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using testing::enqueue;
using testing::outcome_for;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

class LeaseQueueTest : public ::testing::TestWithParam<webhook::testing::Driver> {
 protected:
  JobRow row(const std::string& id) {
    auto detail = store_->job(id);
    EXPECT_TRUE(detail.has_value()) << id;
    return detail ? detail->job : JobRow{};
  }
  std::vector<AttemptRow> attempts(const std::string& id) { return store_->job(id)->attempts; }

  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
};

TEST_P(LeaseQueueTest, ClaimTakesDueJobsOldestFirstUpToMax) {
  auto first = enqueue(*store_, "default", 3, kNow);
  auto second = enqueue(*store_, "default", 3, kNow + 10);
  auto jobs = store_->claim("w1", 4, 30s, kNow + 20);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[0].id, first[0]);
  EXPECT_EQ(jobs[2].id, first[2]);
  EXPECT_EQ(jobs[3].id, second[0]);
  EXPECT_EQ(jobs[0].lease_expires_at, kNow + 20 + 30000);
  EXPECT_EQ(jobs[0].url, "http://sink/default/0");
  EXPECT_EQ(jobs[0].headers["X-Item"], "0");
  EXPECT_EQ(jobs[0].attempts, 0);
  JobRow r = row(first[0]);
  EXPECT_EQ(r.state, JobState::kRunning);
  EXPECT_EQ(r.lease_owner, "w1");
}

TEST_P(LeaseQueueTest, ClaimSkipsJobsNotYetDue) {
  enqueue(*store_, "default", 1, kNow);
  EXPECT_TRUE(store_->claim("w1", 10, 30s, kNow - 1).empty());
  EXPECT_EQ(store_->next_due_at(), kNow);
  EXPECT_EQ(store_->claim("w1", 10, 30s, kNow).size(), 1u);
  EXPECT_EQ(store_->next_due_at(), std::nullopt);
}

TEST_P(LeaseQueueTest, LeasedJobIsNotClaimedAgainWhileItsLeaseHolds) {
  enqueue(*store_, "default", 2, kNow);
  auto a = store_->claim("w1", 10, 30s, kNow);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(store_->claim("w2", 10, 30s, kNow + 29999).empty());
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 29999), 0);
}

TEST_P(LeaseQueueTest, EachClaimGetsAFreshLeaseToken) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto a = store_->claim("w1", 1, 30s, kNow);
  ASSERT_EQ(store_->release("w1", ids, kNow + 1), 1);
  auto b = store_->claim("w1", 1, 30s, kNow + 2);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_GT(b[0].lease_token, a[0].lease_token);
  // The released claim's token no longer records anything.
  auto stale = store_->record_outcomes(
      std::vector{outcome_for(a[0], "w1", OutcomeKind::kDelivered, kNow + 3)}, kNow + 3);
  EXPECT_EQ(stale.stale, 1);
  EXPECT_EQ(row(ids[0]).state, JobState::kRunning);
}

TEST_P(LeaseQueueTest, DeliveredOutcomeFinishesTheJobWithOneAttempt) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  auto result = store_->record_outcomes(
      std::vector{outcome_for(jobs[0], "w1", OutcomeKind::kDelivered, kNow + 5)}, kNow + 50);
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.stale, 0);
  JobRow r = row(ids[0]);
  EXPECT_EQ(r.state, JobState::kDelivered);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.finished_at, kNow + 50);
  EXPECT_EQ(r.last_status, 200);
  EXPECT_EQ(r.lease_owner, "");
  auto a = attempts(ids[0]);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].number, 1);
  EXPECT_EQ(a[0].worker, "w1");
  EXPECT_EQ(a[0].http_status, 200);
  EXPECT_EQ(a[0].response_head, "response of " + ids[0]);
}

TEST_P(LeaseQueueTest, DeliveredJobCannotBeClaimedOrRecordedAgain) {
  enqueue(*store_, "default", 1, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  auto o = outcome_for(jobs[0], "w1", OutcomeKind::kDelivered, kNow);
  ASSERT_EQ(store_->record_outcomes(std::vector{o}, kNow).applied, 1);
  EXPECT_TRUE(store_->claim("w2", 10, 30s, kNow + 1'000'000).empty());
  auto again = store_->record_outcomes(std::vector{o}, kNow + 1);
  EXPECT_EQ(again.applied, 0);
  EXPECT_EQ(again.stale, 1);
  EXPECT_EQ(attempts(jobs[0].id).size(), 1u);
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 1'000'000), 0);
}

TEST_P(LeaseQueueTest, JobLeasedByOneWorkerCannotBeCompletedByAnother) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  auto result = store_->record_outcomes(
      std::vector{outcome_for(jobs[0], "w2", OutcomeKind::kDelivered, kNow)}, kNow);
  EXPECT_EQ(result.stale, 1);
  EXPECT_EQ(row(ids[0]).state, JobState::kRunning);
  EXPECT_EQ(store_->release("w2", ids, kNow), 0);
  EXPECT_EQ(row(ids[0]).lease_owner, "w1");
}

TEST_P(LeaseQueueTest, OutcomeUnderAnOldTokenCannotOverwriteTheLaterAttempt) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto old = store_->claim("w1", 1, 1s, kNow);
  ASSERT_EQ(store_->reclaim_expired_leases(kNow + 1000), 1);
  auto fresh = store_->claim("w1", 1, 30s, kNow + 1001);  // same worker name, new claim
  ASSERT_EQ(fresh.size(), 1u);
  ASSERT_NE(fresh[0].lease_token, old[0].lease_token);
  std::vector<Outcome> batch{outcome_for(old[0], "w1", OutcomeKind::kDead, kNow + 1002),
                             outcome_for(fresh[0], "w1", OutcomeKind::kDelivered, kNow + 1003)};
  auto result = store_->record_outcomes(batch, kNow + 1004);
  EXPECT_EQ(result.applied, 1);
  EXPECT_EQ(result.stale, 1);
  JobRow r = row(ids[0]);
  EXPECT_EQ(r.state, JobState::kDelivered);
  EXPECT_EQ(r.attempts, 2);  // the interrupted one and the delivery
  auto a = attempts(ids[0]);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].error, "interrupted: lease expired");
  EXPECT_EQ(a[1].http_status, 200);
}

TEST_P(LeaseQueueTest, RetrySchedulesThePendingJobAndChargesAnAttempt) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  store_->record_outcomes(
      std::vector{outcome_for(jobs[0], "w1", OutcomeKind::kRetry, kNow, 503, kNow + 60000)},
      kNow + 10);
  JobRow r = row(ids[0]);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.next_attempt_at, kNow + 60000);
  EXPECT_EQ(r.last_status, 503);
  EXPECT_EQ(r.last_error, "HTTP 500");
  EXPECT_FALSE(r.finished_at.has_value());
  EXPECT_TRUE(store_->claim("w1", 1, 30s, kNow + 59999).empty());
  auto again = store_->claim("w1", 1, 30s, kNow + 60000);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 1);
}

TEST_P(LeaseQueueTest, RetryPastTheLastAttemptIsRecordedDead) {
  PollCommit commit = testing::make_poll("default", 1, kNow);
  commit.jobs[0].max_attempts = 2;
  ASSERT_TRUE(store_->commit_poll(commit));
  const std::string id = commit.jobs[0].id;
  for (int i = 0; i < 2; ++i) {
    auto jobs = store_->claim("w1", 1, 30s, kNow + i);
    ASSERT_EQ(jobs.size(), 1u) << i;
    store_->record_outcomes(
        std::vector{outcome_for(jobs[0], "w1", OutcomeKind::kRetry, kNow + i, 500, kNow + i)},
        kNow + i);
  }
  JobRow r = row(id);
  EXPECT_EQ(r.state, JobState::kDead);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.finished_at, kNow + 1);
  EXPECT_TRUE(store_->claim("w1", 1, 30s, kNow + 1'000'000).empty());
}

TEST_P(LeaseQueueTest, DeadOutcomeEndsTheJob) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  store_->record_outcomes(std::vector{outcome_for(jobs[0], "w1", OutcomeKind::kDead, kNow, 410)},
                          kNow);
  EXPECT_EQ(row(ids[0]).state, JobState::kDead);
  EXPECT_TRUE(store_->claim("w1", 1, 30s, kNow + 1'000'000).empty());
}

TEST_P(LeaseQueueTest, ExpiredLeaseGoesBackToPendingWithAnInterruptedAttempt) {
  auto ids = enqueue(*store_, "default", 2, kNow);
  store_->claim("w1", 1, 10s, kNow);
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 9999), 0);
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 10000), 1);
  JobRow r = row(ids[0]);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last_error, "interrupted: lease expired");
  auto a = attempts(ids[0]);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].worker, "w1");
  EXPECT_EQ(a[0].duration_ms, 10000);
  EXPECT_EQ(row(ids[1]).state, JobState::kPending);  // never claimed, untouched
}

TEST_P(LeaseQueueTest, ExpiredLeaseOnTheLastAttemptMakesTheJobDead) {
  PollCommit commit = testing::make_poll("default", 1, kNow);
  commit.jobs[0].max_attempts = 1;
  ASSERT_TRUE(store_->commit_poll(commit));
  store_->claim("w1", 1, 10s, kNow);
  EXPECT_EQ(store_->reclaim_expired_leases(kNow + 10000), 1);
  JobRow r = row(commit.jobs[0].id);
  EXPECT_EQ(r.state, JobState::kDead);
  EXPECT_EQ(r.finished_at, kNow + 10000);
}

TEST_P(LeaseQueueTest, ReleaseGivesJobsBackWithoutChargingAnAttempt) {
  auto ids = enqueue(*store_, "default", 3, kNow);
  auto jobs = store_->claim("w1", 3, 30s, kNow);
  std::vector<std::string> two{ids[0], ids[1]};
  EXPECT_EQ(store_->release("w1", two, kNow + 5), 2);
  EXPECT_EQ(row(ids[0]).state, JobState::kPending);
  EXPECT_EQ(row(ids[0]).attempts, 0);
  EXPECT_TRUE(attempts(ids[0]).empty());
  EXPECT_EQ(row(ids[2]).state, JobState::kRunning);
  EXPECT_EQ(store_->release("w1", two, kNow + 6), 0);  // not running any more
  EXPECT_EQ(store_->claim("w2", 5, 30s, kNow + 7).size(), 2u);
}

TEST_P(LeaseQueueTest, ResponseHeadIsCutAtFourKibibytesOnACharacterBoundary) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  Outcome o = outcome_for(jobs[0], "w1", OutcomeKind::kDelivered, kNow);
  o.response_head = std::string(4095, 'a') + "\xC3\xA9" + std::string(100, 'b');
  store_->record_outcomes(std::vector{o}, kNow);
  EXPECT_EQ(attempts(ids[0])[0].response_head, std::string(4095, 'a'));
}

TEST_P(LeaseQueueTest, RecordAndClaimRecordsTheOutcomesThenClaimsTheNextJobs) {
  auto ids = enqueue(*store_, "default", 4, kNow);
  auto first = store_->claim("w1", 2, 30s, kNow);
  ASSERT_EQ(first.size(), 2u);
  std::vector<Outcome> outcomes{outcome_for(first[0], "w1", OutcomeKind::kDelivered, kNow + 5),
                                outcome_for(first[1], "w2", OutcomeKind::kDelivered, kNow + 5)};
  RecordAndClaim done = store_->record_and_claim(outcomes, "w1", 10, 30s, kNow + 10);
  EXPECT_EQ(done.recorded.applied, 1);
  EXPECT_EQ(done.recorded.stale, 1);  // w2 never held that lease
  EXPECT_EQ(row(ids[0]).state, JobState::kDelivered);
  EXPECT_EQ(row(ids[1]).state, JobState::kRunning);
  ASSERT_EQ(done.claimed.size(), 2u);  // the two never claimed, oldest first
  EXPECT_EQ(done.claimed[0].id, ids[2]);
  EXPECT_EQ(done.claimed[1].id, ids[3]);
  EXPECT_EQ(done.claimed[0].lease_expires_at, kNow + 10 + 30000);
  EXPECT_EQ(row(ids[3]).lease_owner, "w1");
}

TEST_P(LeaseQueueTest, RecordAndClaimWithNothingToClaimOnlyRecords) {
  auto ids = enqueue(*store_, "default", 2, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  RecordAndClaim done = store_->record_and_claim(
      std::vector{outcome_for(jobs[0], "w1", OutcomeKind::kDelivered, kNow)}, "w1", 0, 30s, kNow);
  EXPECT_EQ(done.recorded.applied, 1);
  EXPECT_TRUE(done.claimed.empty());
  EXPECT_EQ(row(ids[1]).state, JobState::kPending);
}

TEST_P(LeaseQueueTest, RecordAndClaimThatFailsWritesNothing) {
  auto ids = enqueue(*store_, "default", 3, kNow);
  auto jobs = store_->claim("w1", 1, 30s, kNow);
  auto failing = FaultInjectingStore::open(db_.options());
  failing->at("record_outcomes:first_applied", FaultInjectingStore::fail());
  const std::vector outcomes{outcome_for(jobs[0], "w1", OutcomeKind::kDelivered, kNow)};
  EXPECT_THROW(failing->record_and_claim(outcomes, "w1", 10, 30s, kNow), std::runtime_error);
  EXPECT_EQ(row(ids[0]).state, JobState::kRunning);
  EXPECT_TRUE(attempts(ids[0]).empty());
  EXPECT_EQ(row(ids[1]).state, JobState::kPending);
  // The same connection works again once the fault is gone.
  failing->clear();
  auto done = failing->record_and_claim(outcomes, "w1", 10, 30s, kNow);
  EXPECT_EQ(done.recorded.applied, 1);
  EXPECT_EQ(done.claimed.size(), 2u);
  EXPECT_EQ(row(ids[0]).state, JobState::kDelivered);
}

// Batches are written many attempts per statement: each must land on its own job, with its
// own values and number, whatever its place in the batch, and stale ones not at all.
TEST_P(LeaseQueueTest, ALargeBatchGivesEachJobItsOwnAttempt) {
  auto ids = enqueue(*store_, "default", 75, kNow);
  auto first = store_->claim("w1", 75, 30s, kNow);
  ASSERT_EQ(first.size(), 75u);
  // Every job gets a first attempt (a retry), so the batch below writes attempt number 2.
  std::vector<Outcome> retries;
  for (const auto& job : first) {
    retries.push_back(outcome_for(job, "w1", OutcomeKind::kRetry, kNow, 503, kNow + 1));
  }
  ASSERT_EQ(store_->record_outcomes(retries, kNow).applied, 75);
  auto second = store_->claim("w1", 75, 30s, kNow + 1);
  ASSERT_EQ(second.size(), 75u);
  std::vector<Outcome> batch;
  for (std::size_t i = 0; i < second.size(); ++i) {
    Outcome o = outcome_for(second[i], "w1", OutcomeKind::kDelivered, kNow + 2);
    o.duration_ms = static_cast<int64_t>(i);
    if (i == 40) o.response_head = std::string(5000, 'x');
    if (i == 10) o.lease_token = first[10].lease_token;  // stale: an earlier claim's token
    batch.push_back(std::move(o));
  }
  RecordResult result = store_->record_outcomes(batch, kNow + 2);
  EXPECT_EQ(result.applied, 74);
  EXPECT_EQ(result.stale, 1);
  for (std::size_t i = 0; i < second.size(); ++i) {
    auto a = attempts(second[i].id);
    if (i == 10) {
      EXPECT_EQ(a.size(), 1u);
      EXPECT_EQ(row(second[i].id).state, JobState::kRunning);
      continue;
    }
    ASSERT_EQ(a.size(), 2u) << i;
    EXPECT_EQ(a[1].number, 2) << i;
    EXPECT_EQ(a[1].duration_ms, static_cast<int64_t>(i));
    EXPECT_EQ(a[1].http_status, 200);
    EXPECT_EQ(a[1].response_head, i == 40 ? std::string(4096, 'x') : "response of " + second[i].id);
    EXPECT_EQ(row(second[i].id).state, JobState::kDelivered) << i;
  }
}

// Attempt numbers come from the claim (attempt_seq), not from a look into attempts: they
// must keep counting across a lost lease and an operator's requeue, which resets `attempts`.
TEST_P(LeaseQueueTest, AttemptNumbersKeepCountingAcrossALostLeaseAndARequeue) {
  auto ids = enqueue(*store_, "default", 1, kNow);
  ASSERT_EQ(store_->claim("w1", 1, 1s, kNow).size(), 1u);
  ASSERT_EQ(store_->reclaim_expired_leases(kNow + 2000), 1);  // attempt 1: interrupted
  auto second = store_->claim("w1", 1, 30s, kNow + 2000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempt_number, 2);
  store_->record_outcomes(
      std::vector{outcome_for(second[0], "w1", OutcomeKind::kDead, kNow + 2001, 410)}, kNow + 2001);
  ASSERT_EQ(store_->requeue(ids, kNow + 3000), 1);
  EXPECT_EQ(row(ids[0]).attempts, 0);
  auto third = store_->claim("w1", 1, 30s, kNow + 3000);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].attempt_number, 3);
  store_->record_outcomes(
      std::vector{outcome_for(third[0], "w1", OutcomeKind::kDelivered, kNow + 3001)}, kNow + 3001);
  auto a = attempts(ids[0]);
  ASSERT_EQ(a.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(a[i].number, i + 1);
  EXPECT_EQ(a[0].error, "interrupted: lease expired");
  EXPECT_EQ(a[1].http_status, 410);
  EXPECT_EQ(a[2].http_status, 200);
}

// The dispatcher learns of the poller's commits through wait_for_work: it says "claim" when
// another connection committed since the last claim, and otherwise times out or stops at
// the caller's interrupt.
TEST_P(LeaseQueueTest, WaitForWorkWakesWhenAnotherConnectionCommits) {
  auto other = db_.open();
  EXPECT_TRUE(store_->wait_for_work(0ms, -1)) << "nothing claimed yet: look";
  EXPECT_TRUE(store_->claim("w1", 1, 30s, kNow).empty());
  EXPECT_FALSE(store_->wait_for_work(0ms, -1));
  EXPECT_FALSE(store_->wait_for_work(50ms, -1)) << "nobody committed";
  int interrupt = eventfd(1, EFD_CLOEXEC);  // readable from the start
  ASSERT_GE(interrupt, 0);
  EXPECT_FALSE(store_->wait_for_work(std::chrono::minutes(5), interrupt)) << "interrupted";
  ::close(interrupt);
  // A commit on another connection, before or while this one waits: either way, claim.
  std::thread poller([&] { enqueue(*other, "default", 1, kNow); });
  EXPECT_TRUE(store_->wait_for_work(std::chrono::minutes(5), -1));
  poller.join();
  EXPECT_EQ(store_->claim("w1", 1, 30s, kNow).size(), 1u);
  EXPECT_FALSE(store_->wait_for_work(0ms, -1)) << "its own claim is no news";
}

TEST_P(LeaseQueueTest, HeartbeatKeepsTheLatestTimePerProcess) {
  EXPECT_EQ(store_->last_heartbeat("dispatcher"), std::nullopt);
  store_->heartbeat("dispatcher", "d1", kNow);
  store_->heartbeat("dispatcher", "d2", kNow + 5);
  store_->heartbeat("dispatcher", "d1", kNow + 9);
  store_->heartbeat("poller", "p1", kNow + 1);
  EXPECT_EQ(store_->last_heartbeat("dispatcher"), kNow + 9);
  EXPECT_EQ(store_->last_heartbeat("poller"), kNow + 1);
  EXPECT_THROW(store_->heartbeat("somebody", "x", kNow), std::runtime_error);
}

INSTANTIATE_TEST_SUITE_P(Drivers, LeaseQueueTest,
                         ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

// At synchronous=FULL, a claim alone commits without an fsync (losing it to a machine crash
// only puts its jobs back to pending); every commit with outcomes, and every poll, waits for
// the disk, including the first one after a claim.
TEST(LeaseQueueDurabilityTest, OnlyClaimsWithoutOutcomesSkipTheFsync) {
  webhook::testing::SyncCountingVfs vfs;  // the default VFS before the store opens its files
  webhook::testing::TempDir dir;
  StoreOptions options;
  options.path = dir.file("q.db");
  options.durability = "FULL";
  auto store = open_store(options);
  enqueue(*store, "default", 4, kNow);
  EXPECT_GE(vfs.wal_syncs(), 1) << "the poll's commit";

  vfs.reset();
  auto first = store->claim("w1", 2, 30s, kNow);
  ASSERT_EQ(first.size(), 2u);
  auto claimed_alone = store->record_and_claim({}, "w1", 1, 30s, kNow);
  ASSERT_EQ(claimed_alone.claimed.size(), 1u);
  EXPECT_EQ(vfs.wal_syncs(), 0);

  store->record_outcomes(std::vector{outcome_for(first[0], "w1", OutcomeKind::kDelivered, kNow)},
                         kNow + 1);
  EXPECT_GE(vfs.wal_syncs(), 1) << "outcomes alone";

  vfs.reset();
  auto both = store->record_and_claim(
      std::vector{outcome_for(first[1], "w1", OutcomeKind::kDelivered, kNow)}, "w1", 1, 30s,
      kNow + 2);
  EXPECT_EQ(both.recorded.applied, 1);
  EXPECT_EQ(both.claimed.size(), 1u);
  EXPECT_GE(vfs.wal_syncs(), 1) << "outcomes with a claim";

  vfs.reset();
  store->claim("w1", 1, 30s, kNow + 3);  // nothing left to claim: no write either
  enqueue(*store, "default", 1, kNow + 4);
  EXPECT_GE(vfs.wal_syncs(), 1) << "a poll right after a claim";
  auto poll = store->claim("w1", 1, 30s, kNow + 5);
  ASSERT_EQ(poll.size(), 1u);
  vfs.reset();
  store->heartbeat("dispatcher", "w1", kNow + 6);
  EXPECT_GE(vfs.wal_syncs(), 1) << "a heartbeat right after a claim";
}

}  // namespace
}  // namespace webhook::store
