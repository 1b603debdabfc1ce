// The operator queries the delivery console added to the store: text search and paging of
// the job list, attempts per minute, heartbeats. On both drivers.
#include <gtest/gtest.h>

#include "common/store/job_store.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using testing::enqueue;
using testing::outcome_for;

constexpr int64_t kNow = 1'699'999'980'000;  // the start of a minute

class OperatorQueriesTest : public ::testing::TestWithParam<webhook::testing::Driver> {
 protected:
  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
};

TEST_P(OperatorQueriesTest, ListJobsFindsTextInIdUrlBodyOrErrorAnyCase) {
  auto works = enqueue(*store_, "works", 3, kNow);  // urls http://sink/works/0..2
  enqueue(*store_, "users", 2, kNow + 1);
  JobFilter f;
  f.text = "SINK/WORKS/1";
  auto rows = store_->list_jobs(f);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, works[1]);
  f.text = works[2];
  ASSERT_EQ(store_->list_jobs(f).size(), 1u);
  auto claimed = store_->claim("w", 1, 30s, kNow + 2);
  auto dead = outcome_for(claimed[0], "w", OutcomeKind::kDead, kNow + 3, 500);
  dead.error = "Connection REFUSED";
  store_->record_outcomes(std::span(&dead, 1), kNow + 4);
  f.text = "connection refused";
  rows = store_->list_jobs(f);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, works[0]);
  f.text = "%";  // no wildcard
  EXPECT_TRUE(store_->list_jobs(f).empty());
}

TEST_P(OperatorQueriesTest, ListJobsPagesBeforeASeq) {
  enqueue(*store_, "works", 5, kNow);
  JobFilter f;
  f.limit = 2;
  auto first = store_->list_jobs(f);
  ASSERT_EQ(first.size(), 2u);
  f.before_seq = first.back().seq;
  auto second = store_->list_jobs(f);
  ASSERT_EQ(second.size(), 2u);
  EXPECT_LT(second[0].seq, first[1].seq);
  f.before_seq = second.back().seq;
  EXPECT_EQ(store_->list_jobs(f).size(), 1u);
}

TEST_P(OperatorQueriesTest, AttemptsPerMinuteCountsAnsweredAndFailedAttempts) {
  enqueue(*store_, "works", 4, kNow);
  auto claimed = store_->claim("w", 4, 30s, kNow);
  std::vector<Outcome> outcomes = {
      outcome_for(claimed[0], "w", OutcomeKind::kDelivered, kNow + 1000, 204),
      outcome_for(claimed[1], "w", OutcomeKind::kDelivered, kNow + 59000, 200),
      outcome_for(claimed[2], "w", OutcomeKind::kDead, kNow + 61000, 500),
      outcome_for(claimed[3], "w", OutcomeKind::kRetry, kNow - 120000, std::nullopt, kNow + 999999),
  };
  store_->record_outcomes(outcomes, kNow + 62000);
  auto minutes = store_->attempts_per_minute(kNow - 60000);
  ASSERT_EQ(minutes.size(), 2u);  // the attempt two minutes back is before `since`
  EXPECT_EQ(minutes[0].feed, "works");
  EXPECT_EQ(minutes[0].minute, kNow);
  EXPECT_EQ(minutes[0].delivered, 2);
  EXPECT_EQ(minutes[0].failed, 0);
  EXPECT_EQ(minutes[1].minute, kNow + 60000);
  EXPECT_EQ(minutes[1].delivered, 0);
  EXPECT_EQ(minutes[1].failed, 1);
}

TEST_P(OperatorQueriesTest, HeartbeatsListEveryWorker) {
  EXPECT_TRUE(store_->heartbeats().empty());
  store_->heartbeat("poller", "p1", kNow);
  store_->heartbeat("dispatcher", "d2", kNow + 5);
  store_->heartbeat("dispatcher", "d1", kNow + 7);
  store_->heartbeat("dispatcher", "d1", kNow + 9);
  auto rows = store_->heartbeats();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].process, "dispatcher");
  EXPECT_EQ(rows[0].worker, "d1");
  EXPECT_EQ(rows[0].at, kNow + 9);
  EXPECT_EQ(rows[2].process, "poller");
}

TEST_P(OperatorQueriesTest, AStoppedMarkStaysUntilTheWorkersNextHeartbeat) {
  store_->heartbeat("dispatcher", "d1", kNow);
  store_->heartbeat("dispatcher", "d2", kNow);
  store_->mark_stopped("dispatcher", "d1", kNow + 40);
  store_->mark_stopped("dispatcher", "never-ran", kNow + 40);  // no row: nothing made up
  auto rows = store_->heartbeats();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].worker, "d1");
  EXPECT_EQ(rows[0].at, kNow);
  EXPECT_EQ(rows[0].stopped_at, kNow + 40);
  EXPECT_EQ(rows[1].stopped_at, std::nullopt);
  // A clock behind the last beat still marks it stopped, not before it beat.
  store_->mark_stopped("dispatcher", "d2", kNow - 1000);
  EXPECT_EQ(store_->heartbeats()[1].stopped_at, kNow);
  // A restart under the same name runs again.
  store_->heartbeat("dispatcher", "d1", kNow + 100);
  rows = store_->heartbeats();
  EXPECT_EQ(rows[0].at, kNow + 100);
  EXPECT_EQ(rows[0].stopped_at, std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Drivers, OperatorQueriesTest,
                         ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
