// The poller's side of the store and the operator's actions, on a real file.
#include <gtest/gtest.h>

#include "common/store/job_store.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

// A job filter without the console's fields (text, paging).
JobFilter filter_of(std::optional<JobState> state, std::optional<std::string> feed, int limit) {
  JobFilter f;
  f.state = state;
  f.feed = std::move(feed);
  f.limit = limit;
  return f;
}

using testing::enqueue;
using testing::make_poll;
using testing::outcome_for;
using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

class StoreTest : public ::testing::TestWithParam<webhook::testing::Driver> {
 protected:
  JobRow row(const std::string& id) { return store_->job(id).value().job; }

  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
};

TEST_P(StoreTest, CommitPollWritesJobsSeenHashesPollAndCursorTogether) {
  PollCommit commit = make_poll("works", 3, kNow);
  commit.poll.duplicates_skipped = 2;
  auto poll_id = store_->commit_poll(commit);
  ASSERT_TRUE(poll_id);
  EXPECT_EQ(store_->cursor("works"), kNow);
  EXPECT_EQ(store_->cursor("users"), std::nullopt);
  EXPECT_EQ(store_->seen_since("works", kNow).size(), 3u);
  EXPECT_TRUE(store_->seen_since("works", kNow + 1).empty());
  auto polls = store_->list_polls("works", 10);
  ASSERT_EQ(polls.size(), 1u);
  EXPECT_EQ(polls[0].id, *poll_id);
  EXPECT_EQ(polls[0].record.duplicates_skipped, 2);
  EXPECT_TRUE(polls[0].record.ok);
  JobRow r = row(commit.jobs[1].id);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_EQ(r.poll_id, *poll_id);
  EXPECT_EQ(r.created_at, kNow);
  EXPECT_EQ(r.next_attempt_at, kNow);
  EXPECT_EQ(r.max_attempts, 4);
  EXPECT_EQ(r.feed, "works");
}

// Large polls are written many rows per statement: every job must keep its own values
// across those statements' boundaries, and the remainder must be written too.
TEST_P(StoreTest, CommitPollKeepsEveryJobOfALargePollIntact) {
  PollCommit commit = make_poll("works", 64 * 2 + 3, kNow);
  for (std::size_t i = 0; i < commit.jobs.size(); ++i) {
    NewJob& job = commit.jobs[i];
    job.url = "http://receiver/" + std::to_string(i);
    job.body = "body " + std::to_string(i);
    job.headers = nlohmann::ordered_json::object();
    if (i % 5 == 0) job.headers["X-Item"] = std::to_string(i);
    if (i % 7 == 0) {
      job.dead = true;
      job.last_error = "WEBHOOK_URL: error " + std::to_string(i);
    }
  }
  ASSERT_TRUE(store_->commit_poll(commit));
  for (std::size_t i = 0; i < commit.jobs.size(); ++i) {
    JobRow r = row(commit.jobs[i].id);
    EXPECT_EQ(r.url, "http://receiver/" + std::to_string(i));
    EXPECT_EQ(r.body, "body " + std::to_string(i));
    EXPECT_EQ(r.headers.value("X-Item", ""), i % 5 == 0 ? std::to_string(i) : "") << i;
    EXPECT_EQ(r.state, i % 7 == 0 ? JobState::kDead : JobState::kPending) << i;
    EXPECT_EQ(r.last_error, i % 7 == 0 ? "WEBHOOK_URL: error " + std::to_string(i) : "") << i;
    EXPECT_EQ(r.finished_at, i % 7 == 0 ? std::optional<int64_t>(kNow) : std::nullopt) << i;
  }
}

TEST_P(StoreTest, CommitPollWritesNothingWhenTheCursorMovedMeanwhile) {
  enqueue(*store_, "default", 1, kNow);
  store_->rewind("default", kNow - 60000);
  PollCommit late = make_poll("default", 2, kNow + 1000, kNow);  // started from the old cursor
  EXPECT_EQ(store_->commit_poll(late), std::nullopt);
  EXPECT_EQ(store_->cursor("default"), kNow - 60000);
  EXPECT_FALSE(store_->job(late.jobs[0].id).has_value());
  EXPECT_EQ(store_->list_polls("default", 10).size(), 1u);
  // A new feed expects no cursor at all.
  EXPECT_EQ(store_->commit_poll(make_poll("other", 1, kNow, kNow)), std::nullopt);
}

TEST_P(StoreTest, FailedPollIsLoggedAndKeepsTheCursor) {
  enqueue(*store_, "default", 1, kNow);
  PollCommit failed;
  failed.poll = {"default",
                 kNow + 10,
                 kNow + 20,
                 kNow - 5000,
                 kNow + 10,
                 0,
                 0,
                 0,
                 0,
                 false,
                 "HTTP 502 from OpenCTI"};
  failed.expected_cursor = kNow;
  ASSERT_TRUE(store_->commit_poll(failed));
  EXPECT_EQ(store_->cursor("default"), kNow);
  auto status = store_->status();
  ASSERT_EQ(status.size(), 1u);
  ASSERT_TRUE(status[0].last_poll);
  EXPECT_FALSE(status[0].last_poll->record.ok);
  EXPECT_EQ(status[0].last_poll->record.error, "HTTP 502 from OpenCTI");
}

TEST_P(StoreTest, UnrenderableItemIsStoredDeadWithItsError) {
  PollCommit commit = make_poll("default", 1, kNow);
  commit.jobs[0].dead = true;
  commit.jobs[0].last_error = "KeyError: 'name'";
  commit.jobs[0].body = R"({"node":{}})";
  ASSERT_TRUE(store_->commit_poll(commit));
  JobRow r = row(commit.jobs[0].id);
  EXPECT_EQ(r.state, JobState::kDead);
  EXPECT_EQ(r.last_error, "KeyError: 'name'");
  EXPECT_EQ(r.finished_at, kNow);
  EXPECT_TRUE(store_->claim("w", 10, 30s, kNow + 1).empty());
}

TEST_P(StoreTest, DuplicateJobIdInAPollRejectsTheWholePoll) {
  PollCommit commit = make_poll("default", 2, kNow);
  commit.jobs[1].id = commit.jobs[0].id;
  EXPECT_THROW(store_->commit_poll(commit), std::runtime_error);
  EXPECT_EQ(store_->cursor("default"), std::nullopt);
  EXPECT_TRUE(store_->list_polls(std::nullopt, 10).empty());
}

TEST_P(StoreTest, ForgetSeenBeforeDropsOldHashesOfThatFeedOnly) {
  enqueue(*store_, "a", 2, kNow);
  enqueue(*store_, "b", 2, kNow);
  PollCommit next = make_poll("a", 1, kNow + 10000, kNow);
  next.forget_seen_before = kNow + 1;
  ASSERT_TRUE(store_->commit_poll(next));
  EXPECT_EQ(store_->seen_since("a", 0).size(), 1u);
  EXPECT_EQ(store_->seen_since("b", 0).size(), 2u);
}

TEST_P(StoreTest, RewindMovesTheCursorAndForgetsHashesFromThenOn) {
  enqueue(*store_, "default", 2, kNow);
  enqueue(*store_, "default", 3, kNow + 60000);
  store_->rewind("default", kNow + 1);
  EXPECT_EQ(store_->cursor("default"), kNow + 1);
  EXPECT_EQ(store_->seen_since("default", 0).size(), 2u);
  store_->rewind("fresh", kNow);  // a feed that never polled gets a cursor
  EXPECT_EQ(store_->cursor("fresh"), kNow);
}

TEST_P(StoreTest, RequeueBringsDeadAndCancelledJobsBackWithAttemptsReset) {
  auto ids = enqueue(*store_, "default", 4, kNow);
  auto jobs = store_->claim("w", 2, 30s, kNow);
  store_->record_outcomes(std::vector{outcome_for(jobs[0], "w", OutcomeKind::kDead, kNow, 500),
                                      outcome_for(jobs[1], "w", OutcomeKind::kDelivered, kNow)},
                          kNow);
  ASSERT_EQ(store_->cancel(std::vector{ids[2]}, kNow), 1);
  EXPECT_EQ(
      store_->requeue(std::vector{ids[0], ids[1], ids[2], ids[3], std::string("nope")}, kNow + 100),
      2);  // the delivered and the pending one are left alone
  EXPECT_EQ(row(ids[1]).state, JobState::kDelivered);
  JobRow r = row(ids[0]);
  EXPECT_EQ(r.state, JobState::kPending);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.next_attempt_at, kNow + 100);
  EXPECT_FALSE(r.finished_at);
  // Its next attempt is numbered after the earlier ones.
  auto again = store_->claim("w", 10, 30s, kNow + 100);
  ASSERT_EQ(again.size(), 3u);
  for (const auto& j : again) {
    store_->record_outcomes(std::vector{outcome_for(j, "w", OutcomeKind::kDelivered, kNow + 200)},
                            kNow + 200);
  }
  auto detail = store_->job(ids[0]).value();
  ASSERT_EQ(detail.attempts.size(), 2u);
  EXPECT_EQ(detail.attempts[1].number, 2);
}

TEST_P(StoreTest, RequeueDeadTakesEveryDeadJobOfAFeed) {
  for (const char* feed : {"a", "b"}) {
    enqueue(*store_, feed, 2, kNow);
  }
  for (const auto& j : store_->claim("w", 10, 30s, kNow)) {
    store_->record_outcomes(std::vector{outcome_for(j, "w", OutcomeKind::kDead, kNow, 404)}, kNow);
  }
  EXPECT_EQ(store_->requeue_dead(std::string("a"), kNow + 1), 2);
  EXPECT_EQ(store_->requeue_dead(std::string("a"), kNow + 1), 0);
  EXPECT_EQ(store_->requeue_dead(std::nullopt, kNow + 1), 2);
  EXPECT_EQ(store_->claim("w", 10, 30s, kNow + 1).size(), 4u);
}

TEST_P(StoreTest, CancelTouchesPendingJobsOnly) {
  auto ids = enqueue(*store_, "default", 2, kNow);
  store_->claim("w", 1, 30s, kNow);
  EXPECT_EQ(store_->cancel(ids, kNow + 1), 1);
  EXPECT_EQ(row(ids[0]).state, JobState::kRunning);
  EXPECT_EQ(row(ids[1]).state, JobState::kCancelled);
  EXPECT_EQ(row(ids[1]).finished_at, kNow + 1);
  EXPECT_TRUE(store_->claim("w", 10, 30s, kNow + 2).empty());
}

TEST_P(StoreTest, PruneDeletesFinishedJobsWithTheirAttemptsAndOldPollsInBatches) {
  auto old_ids = enqueue(*store_, "default", 7, kNow);
  auto jobs = store_->claim("w", 7, 30s, kNow);
  for (const auto& j : jobs) {
    store_->record_outcomes(std::vector{outcome_for(j, "w", OutcomeKind::kDelivered, kNow)}, kNow);
  }
  auto pending = enqueue(*store_, "default", 2, kNow + 1);  // old but not finished
  auto recent = enqueue(*store_, "default", 1, kNow + 100000);
  auto r = store_->claim("w", 10, 30s, kNow + 100000);
  for (const auto& j : r) {
    if (j.id == recent[0]) {
      store_->record_outcomes(
          std::vector{outcome_for(j, "w", OutcomeKind::kDelivered, kNow + 100000)}, kNow + 100000);
    }
  }
  PruneResult pruned = store_->prune(kNow + 50000, 3);
  EXPECT_EQ(pruned.jobs, 7);
  EXPECT_EQ(pruned.attempts, 7);
  EXPECT_EQ(pruned.polls, 2);
  EXPECT_FALSE(store_->job(old_ids[0]));
  EXPECT_TRUE(store_->job(pending[0]));
  EXPECT_TRUE(store_->job(recent[0]));
  EXPECT_EQ(store_->list_polls(std::nullopt, 10).size(), 1u);
  EXPECT_EQ(store_->prune(kNow + 50000, 3).jobs, 0);
}

TEST_P(StoreTest, StatusCountsEveryStatePerFeed) {
  enqueue(*store_, "a", 3, kNow);
  enqueue(*store_, "b", 1, kNow + 5);
  auto jobs = store_->claim("w", 1, 30s, kNow + 10);
  auto status = store_->status();
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0].feed, "a");
  EXPECT_EQ(status[0].cursor, kNow);
  EXPECT_EQ(status[0].counts.at(JobState::kPending), 2);
  EXPECT_EQ(status[0].counts.at(JobState::kRunning), 1);
  EXPECT_EQ(status[0].counts.at(JobState::kDead), 0);
  EXPECT_EQ(status[0].oldest_pending_created_at, kNow);
  EXPECT_EQ(status[1].counts.at(JobState::kPending), 1);
  EXPECT_EQ(status[1].last_poll->record.window_to, kNow + 5);
}

TEST_P(StoreTest, ListJobsFiltersByStateAndFeedNewestFirst) {
  auto a = enqueue(*store_, "a", 3, kNow);
  enqueue(*store_, "b", 2, kNow);
  store_->claim("w", 1, 30s, kNow);
  auto rows = store_->list_jobs(filter_of(JobState::kPending, std::string("a"), 50));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, a[2]);
  EXPECT_EQ(store_->list_jobs(filter_of(std::nullopt, std::nullopt, 3)).size(), 3u);
  EXPECT_EQ(store_->list_jobs(filter_of(JobState::kRunning, std::nullopt, 50)).size(), 1u);
  // A job can also be found by its seq number.
  EXPECT_EQ(store_->job(std::to_string(rows[0].seq))->job.id, a[2]);
}

INSTANTIATE_TEST_SUITE_P(Drivers, StoreTest, ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
