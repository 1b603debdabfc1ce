// PostgreSQL only (SQLite runs one write transaction at a time): two dispatchers finishing
// two running jobs of one order key at the same moment. An operator's requeue of a key's
// dead job r while a later job h of the key runs makes both run at once, h now marked
// waiting behind r. Whichever of the two outcomes' transactions row-locks h first, the other
// waits for it, and when both committed the key's next job x must be free to go: neither
// transaction sees the other's outcome in its snapshot, so a head move that trusts it alone
// strands x. Each test makes the race happen, deterministically: one transaction is held
// open at a fault point after its statement, the other provably waits on its row lock
// (pg_stat_activity), then the first commits.
#include <gtest/gtest.h>

#include <functional>

#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "common/store/fault_injecting_store.h"
#include "common/store/job_store.h"
#include "common/store/postgres/pg_connection.h"
#include "tests/support/child_process.h"
#include "tests/support/hold_gate.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using webhook::testing::Driver;
using webhook::testing::eventually;
using webhook::testing::outcome_for;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr auto kDeadline = 60s;

class PostgresOrderRaceTest : public ::testing::Test {
 protected:
  // Key "a": r dead (under skip, so h goes on), then h claimed by `holder` (with `lease`), r
  // requeued and claimed by `finisher`; x waits behind both.
  void start(JobStore& holder, std::chrono::milliseconds lease, JobStore& finisher) {
    PollCommit c = webhook::testing::make_poll("f", 3, kNow);
    for (auto& j : c.jobs) {
      j.order_key = "a";
      j.max_attempts = 1;  // h's lease taken back makes it dead
    }
    ASSERT_TRUE(setup_->commit_poll(c).has_value());
    r_ = c.jobs[0].id;
    h_ = c.jobs[1].id;
    x_ = c.jobs[2].id;
    auto first = setup_->claim("w0", 10, 30s, kNow);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(setup_
                  ->record_outcomes(
                      std::vector{outcome_for(first[0], "w0", OutcomeKind::kDead, kNow, 410)}, kNow)
                  .applied,
              1);
    auto h = holder.claim("wB", 10, lease, kNow + 1);
    ASSERT_EQ(h.size(), 1u);
    ASSERT_EQ(h[0].id, h_);
    h_job_ = h[0];
    ASSERT_EQ(setup_->requeue(std::vector{r_}, kNow + 2), 1);
    auto r = finisher.claim("wA", 10, 30s, kNow + 3);
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].id, r_);
    r_job_ = r[0];
    ASSERT_TRUE(setup_->claim("w0", 10, 30s, kNow + 3).empty()) << "x waits behind r and h";
  }

  // True once a backend of this database waits on a lock that the one transaction left open
  // in it (the held one, idle in transaction) holds.
  bool waits_for_held_transaction() {
    return eventually(
        [&] {
          PgResult r = observer_.exec(
              "reading lock waits",
              "SELECT count(*) FROM pg_stat_activity AS w WHERE w.datname = current_database() "
              "AND w.wait_event_type = 'Lock' AND pg_blocking_pids(w.pid) = ARRAY(SELECT pid "
              "FROM pg_stat_activity WHERE datname = current_database() "
              "AND state = 'idle in transaction')");
          return r.int64(0, 0) == 1;
        },
        kDeadline);
  }

  // `first` runs on a thread of its own until `holding` holds its transaction open at fault
  // point `point`; then `second`, on another, until it provably waits on a lock that
  // transaction holds; then the first commits, and both end.
  void race(FaultInjectingStore& holding, const std::string& point,
            const std::function<void()>& first, const std::function<void()>& second,
            const char* never_waited) {
    webhook::testing::HoldGate gate(kDeadline);
    holding.at(point, [&gate](std::string_view) { gate.hold(); });
    std::jthread one(first);
    ASSERT_TRUE(gate.wait_held());
    std::jthread two(second);
    const bool waited = waits_for_held_transaction();
    gate.release();
    one.join();
    two.join();
    ASSERT_TRUE(waited) << never_waited;
  }

  static void deliver(JobStore& store, const ClaimedJob& job, const std::string& worker,
                      int64_t at) {
    EXPECT_EQ(
        store
            .record_outcomes(std::vector{outcome_for(job, worker, OutcomeKind::kDelivered, at)}, at)
            .applied,
        1);
  }

  // Afterwards: x goes, alone, and the key goes on in order.
  void expect_key_goes_on(JobState h_state) {
    EXPECT_EQ(setup_->job(r_).value().job.state, JobState::kDelivered);
    EXPECT_EQ(setup_->job(h_).value().job.state, h_state);
    auto next = setup_->claim("w0", 10, 30s, kNow + 20);
    ASSERT_EQ(next.size(), 1u) << "the key's next job was left waiting";
    EXPECT_EQ(next[0].id, x_);
    ASSERT_EQ(setup_
                  ->record_outcomes(
                      std::vector{outcome_for(next[0], "w0", OutcomeKind::kDelivered, kNow + 21)},
                      kNow + 21)
                  .applied,
              1);
    EXPECT_TRUE(setup_->claim("w0", 10, 30s, kNow + 22).empty());
  }

  webhook::testing::TestDatabase db_{Driver::kPostgres};
  std::unique_ptr<JobStore> setup_ = db_.open();
  PgConnection observer_{db_.options().url, ""};
  std::string r_, h_, x_;
  ClaimedJob r_job_, h_job_;
};

// h's outcome row-locks h first; r's outcome, which would make h its key's head, waits for
// it and then finds h delivered.
TEST_F(PostgresOrderRaceTest, TheRunningHeadsOutcomeFirstThenTheRequeuedJobsLeavesTheKeyGoing) {
  auto b = FaultInjectingStore::open(db_.options());
  auto a = db_.open();
  ASSERT_NO_FATAL_FAILURE(start(*b, 30s, *a));
  ASSERT_NO_FATAL_FAILURE(race(
      *b, "record_outcomes:first_applied", [&] { deliver(*b, h_job_, "wB", kNow + 5); },
      [&] { deliver(*a, r_job_, "wA", kNow + 6); }, "r's outcome never waited for h's"));
  expect_key_goes_on(JobState::kDelivered);
}

// The other order: r's outcome makes h the head (row-locking it) first; h's outcome waits for
// it and then finishes h as the head.
TEST_F(PostgresOrderRaceTest, TheRequeuedJobsOutcomeFirstThenTheRunningHeadsLeavesTheKeyGoing) {
  auto a = FaultInjectingStore::open(db_.options());
  auto b = db_.open();
  ASSERT_NO_FATAL_FAILURE(start(*b, 30s, *a));
  ASSERT_NO_FATAL_FAILURE(race(
      *a, "record_outcomes:first_applied", [&] { deliver(*a, r_job_, "wA", kNow + 5); },
      [&] { deliver(*b, h_job_, "wB", kNow + 6); }, "h's outcome never waited for r's"));
  expect_key_goes_on(JobState::kDelivered);
}

// h's lease taken back (out of attempts: dead, under skip) first; r's outcome waits for it.
TEST_F(PostgresOrderRaceTest, TheRunningHeadTakenBackFirstThenTheRequeuedJobsOutcomeLeavesTheKey) {
  auto b = FaultInjectingStore::open(db_.options());
  auto a = db_.open();
  ASSERT_NO_FATAL_FAILURE(start(*b, 1ms, *a));
  ASSERT_NO_FATAL_FAILURE(race(
      *b, "reclaim_expired_leases:taken_back",
      [&] { EXPECT_EQ(b->reclaim_expired_leases(kNow + 5), 1); },
      [&] { deliver(*a, r_job_, "wA", kNow + 6); },
      "r's outcome never waited for h's lease taken back"));
  expect_key_goes_on(JobState::kDead);
}

}  // namespace
}  // namespace webhook::store
