// Moving a queue from a SQLite file into an empty PostgreSQL store through the store seam
// (read_snapshot / import_snapshot), on a real file and the real throwaway cluster: every
// row arrives field by field, and the poller's and dispatcher's operations carry on.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;
using testing::Driver;

constexpr int64_t kT = 1'700'000'000'000;

void expect_same_job(const JobRow& a, const JobRow& b) {
  SCOPED_TRACE("job " + a.id);
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.feed, b.feed);
  EXPECT_EQ(a.poll_id, b.poll_id);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.headers, b.headers);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.attempts, b.attempts);
  EXPECT_EQ(a.max_attempts, b.max_attempts);
  EXPECT_EQ(a.next_attempt_at, b.next_attempt_at);
  EXPECT_EQ(a.lease_owner, b.lease_owner);
  EXPECT_EQ(a.lease_expires_at, b.lease_expires_at);
  EXPECT_EQ(a.created_at, b.created_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.finished_at, b.finished_at);
  EXPECT_EQ(a.last_status, b.last_status);
  EXPECT_EQ(a.last_error, b.last_error);
}

void expect_same_attempts(const std::vector<AttemptRow>& a, const std::vector<AttemptRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].number, b[i].number);
    EXPECT_EQ(a[i].started_at, b[i].started_at);
    EXPECT_EQ(a[i].duration_ms, b[i].duration_ms);
    EXPECT_EQ(a[i].http_status, b[i].http_status);
    EXPECT_EQ(a[i].error, b[i].error);
    EXPECT_EQ(a[i].response_head, b[i].response_head);
    EXPECT_EQ(a[i].worker, b[i].worker);
  }
}

class CopyStoreTest : public ::testing::Test {
 protected:
  // A source with jobs in every state, attempts, a failed poll, two cursors, seen hashes
  // and heartbeats.
  void SetUp() override {
    source_ = testing::open_test_store(dir_.file("source.db"));
    PollCommit first = testing::make_poll("works", 6, kT);
    first.jobs[5].dead = true;  // could not be rendered
    first.jobs[5].last_error = "render error: no such field";
    first.jobs[5].body = R"({"item": 1})";
    first.jobs[0].method = "POST";
    first.jobs[0].headers = {{"Content-Type", "application/json"}, {"X-Order", "b"}};
    first.jobs[0].body = "payload é";
    hash_ = first.seen_hashes[0];
    ASSERT_TRUE(source_->commit_poll(first));
    testing::enqueue(*source_, "users", 3, kT + 1000);
    PollCommit failed;
    failed.poll = {"users",
                   kT + 2000,
                   kT + 2100,
                   kT + 1000,
                   kT + 2000,
                   0,
                   0,
                   0,
                   0,
                   false,
                   "HTTP 502 from OpenCTI"};
    failed.expected_cursor = kT + 1000;
    ASSERT_TRUE(source_->commit_poll(failed));

    auto claimed = source_->claim("d1", 4, 30s, kT + 3000);
    ASSERT_EQ(claimed.size(), 4u);
    using testing::outcome_for;
    source_->record_outcomes(
        std::vector{
            outcome_for(claimed[0], "d1", OutcomeKind::kDelivered, kT + 3000),
            outcome_for(claimed[1], "d1", OutcomeKind::kDead, kT + 3000, 500),
            outcome_for(claimed[2], "d1", OutcomeKind::kRetry, kT + 3000, std::nullopt, kT + 9000)},
        kT + 3100);
    running_ = claimed[3];  // still running under its lease
    ASSERT_EQ(source_->cancel(std::vector{testing::enqueue(*source_, "users", 1, kT + 4000)[0]},
                              kT + 4100),
              1);
    source_->heartbeat("poller", "p1", kT + 5000);
    source_->heartbeat("dispatcher", "d1", kT + 5001);
  }

  std::vector<JobRow> all_jobs(JobStore& s) {
    JobFilter f;
    f.limit = 1000;
    return s.list_jobs(f);
  }

  testing::TempDir dir_;
  std::unique_ptr<JobStore> source_;
  ClaimedJob running_;
  std::string hash_;
};

TEST_F(CopyStoreTest, EveryRowArrivesAndTheQueueCarriesOn) {
  testing::TestDatabase target_db(Driver::kPostgres);
  auto target = target_db.open();
  // A batch of two rows makes every table span several batches.
  target->import_snapshot(*source_->read_snapshot(2));

  auto source_jobs = all_jobs(*source_);
  auto target_jobs = all_jobs(*target);
  ASSERT_EQ(source_jobs.size(), 11u);
  ASSERT_EQ(target_jobs.size(), source_jobs.size());
  std::set<JobState> states;
  for (std::size_t i = 0; i < source_jobs.size(); ++i) {
    expect_same_job(source_jobs[i], target_jobs[i]);
    states.insert(source_jobs[i].state);
    auto a = source_->job(std::to_string(source_jobs[i].seq));
    auto b = target->job(std::to_string(source_jobs[i].seq));
    ASSERT_TRUE(a && b);
    expect_same_attempts(a->attempts, b->attempts);
  }
  EXPECT_EQ(states.size(), 5u) << "the source holds every state";

  auto source_polls = source_->list_polls(std::nullopt, 1000);
  auto target_polls = target->list_polls(std::nullopt, 1000);
  ASSERT_EQ(target_polls.size(), source_polls.size());
  for (std::size_t i = 0; i < source_polls.size(); ++i) {
    const PollRecord& a = source_polls[i].record;
    const PollRecord& b = target_polls[i].record;
    EXPECT_EQ(source_polls[i].id, target_polls[i].id);
    EXPECT_EQ(a.feed, b.feed);
    EXPECT_EQ(a.started_at, b.started_at);
    EXPECT_EQ(a.finished_at, b.finished_at);
    EXPECT_EQ(a.window_from, b.window_from);
    EXPECT_EQ(a.window_to, b.window_to);
    EXPECT_EQ(a.items_found, b.items_found);
    EXPECT_EQ(a.jobs_enqueued, b.jobs_enqueued);
    EXPECT_EQ(a.duplicates_skipped, b.duplicates_skipped);
    EXPECT_EQ(a.render_errors, b.render_errors);
    EXPECT_EQ(a.ok, b.ok);
    EXPECT_EQ(a.error, b.error);
  }
  for (const char* feed : {"works", "users"}) {
    EXPECT_EQ(target->cursor(feed), source_->cursor(feed)) << feed;
    EXPECT_EQ(target->seen_since(feed, 0), source_->seen_since(feed, 0)) << feed;
  }
  auto beats = target->heartbeats();
  ASSERT_EQ(beats.size(), 2u);
  EXPECT_EQ(target->last_heartbeat("dispatcher"), kT + 5001);

  // The dispatcher carries on: the job running at the copy finishes under its old lease,
  // and due jobs are claimed.
  RecordResult r = target->record_outcomes(
      std::vector{testing::outcome_for(running_, "d1", OutcomeKind::kDelivered, kT + 6000)},
      kT + 6000);
  EXPECT_EQ(r.applied, 1);
  auto claimed = target->claim("d2", 100, 30s, kT + 10000);
  EXPECT_EQ(claimed.size(), 5u) << "four pending jobs and the retried one";
  // The poller carries on from the copied cursor, and new rows get fresh ids.
  PollCommit next = testing::make_poll("works", 1, kT + 20000, source_->cursor("works"));
  auto poll_id = target->commit_poll(next);
  ASSERT_TRUE(poll_id);
  for (const PollRow& p : source_polls) EXPECT_GT(*poll_id, p.id);
  auto newest = all_jobs(*target).front();
  EXPECT_EQ(newest.id, next.jobs[0].id);
  for (const JobRow& j : source_jobs) EXPECT_GT(newest.seq, j.seq);
  // A hash seen before the move is still seen, so the overlap skips the item.
  EXPECT_TRUE(target->seen_since("works", kT).contains(hash_));
}

TEST_F(CopyStoreTest, ANonEmptyTargetIsRefusedAndLeftAlone) {
  testing::TestDatabase target_db(Driver::kPostgres);
  auto target = target_db.open();
  testing::enqueue(*target, "other", 1, kT);
  try {
    target->import_snapshot(*source_->read_snapshot(100));
    FAIL() << "copied into a non-empty store";
  } catch (const StoreNotEmpty& e) {
    EXPECT_NE(std::string(e.what()).find("not empty: it holds 1 job(s), 1 poll(s) and 1 cursor(s)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(all_jobs(*target).size(), 1u);
  EXPECT_FALSE(target->cursor("works"));
}

TEST_F(CopyStoreTest, ACursorAloneMakesTheTargetNonEmpty) {
  testing::TestDatabase target_db(Driver::kPostgres);
  auto target = target_db.open();
  target->rewind("works", kT);
  EXPECT_THROW(target->import_snapshot(*source_->read_snapshot(100)), StoreNotEmpty);
  EXPECT_TRUE(all_jobs(*target).empty());
}

}  // namespace
}  // namespace webhook::store
