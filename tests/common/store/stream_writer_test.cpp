// The stream feeds' side of the store on both drivers: the stream cursor and the jobs of a
// batch commit together, fenced by the expected cursor; the connection history.
#include <gtest/gtest.h>

#include "common/store/job_store.h"
#include "tests/support/store_fixtures.h"

namespace webhook::store {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kNow = 1'700'000'000'000;

StreamCommit batch(const std::string& feed, int64_t connection, int jobs,
                   const std::string& new_cursor, std::optional<std::string> expected) {
  StreamCommit c;
  c.feed = feed;
  c.connection_id = connection;
  for (int i = 0; i < jobs; ++i) {
    NewJob job;
    job.id = make_job_id(kNow);
    job.method = "POST";
    job.url = "http://sink/" + feed;
    job.headers = {{"Content-Type", "application/json"}};
    job.body = R"({"type":"create","n":)" + std::to_string(i) + "}";
    c.jobs.push_back(std::move(job));
  }
  c.new_cursor = new_cursor;
  c.expected_cursor = std::move(expected);
  c.events = jobs;
  c.now = kNow;
  return c;
}

class StreamStoreTest : public ::testing::TestWithParam<webhook::testing::Driver> {
 protected:
  webhook::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<JobStore> store_ = db_.open();
};

TEST_P(StreamStoreTest, ANewFeedHasNoStreamCursor) {
  EXPECT_EQ(store_->stream_cursor("events"), std::nullopt);
  EXPECT_TRUE(store_->stream_cursors().empty());
}

TEST_P(StreamStoreTest, CommitStreamWritesJobsCursorAndCountsTogether) {
  int64_t connection = store_->open_stream_connection("events", kNow - 10, "0-0");
  StreamCommit c = batch("events", connection, 3, "1700000000000-2", std::nullopt);
  c.events = 5;
  c.filtered = 2;
  c.heartbeats = 1;
  ASSERT_TRUE(store_->commit_stream(c));
  EXPECT_EQ(store_->stream_cursor("events"), "1700000000000-2");
  EXPECT_EQ(store_->stream_cursors(),
            (std::map<std::string, std::string>{{"events", "1700000000000-2"}}));
  // The polling cursor is another thing.
  EXPECT_EQ(store_->cursor("events"), std::nullopt);
  for (const auto& job : c.jobs) {
    auto detail = store_->job(job.id);
    ASSERT_TRUE(detail);
    EXPECT_EQ(detail->job.state, JobState::kPending);
    EXPECT_EQ(detail->job.body, job.body);
    EXPECT_EQ(detail->job.method, "POST");
    EXPECT_EQ(detail->job.feed, "events");
  }
  auto rows = store_->list_stream_connections("events", 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, connection);
  EXPECT_EQ(rows[0].from_id, "0-0");
  EXPECT_EQ(rows[0].last_id, "1700000000000-2");
  EXPECT_EQ(rows[0].events, 5);
  EXPECT_EQ(rows[0].filtered, 2);
  EXPECT_EQ(rows[0].heartbeats, 1);
  EXPECT_EQ(rows[0].jobs_enqueued, 3);
  EXPECT_EQ(rows[0].ended_at, std::nullopt);
  // The jobs are due: a dispatcher claims them.
  EXPECT_EQ(store_->claim("w", 10, 30s, kNow + 1).size(), 3u);
}

TEST_P(StreamStoreTest, CommitStreamWritesNothingWhenTheCursorMovedMeanwhile) {
  ASSERT_TRUE(store_->commit_stream(batch("events", 0, 1, "5-0", std::nullopt)));
  // A second poller of the same feed, or a stale batch, started from another cursor.
  StreamCommit stale = batch("events", 0, 2, "6-0", std::string("4-0"));
  EXPECT_FALSE(store_->commit_stream(stale));
  EXPECT_EQ(store_->stream_cursor("events"), "5-0");
  EXPECT_FALSE(store_->job(stale.jobs[0].id));
  // A new feed expects no cursor at all.
  EXPECT_FALSE(store_->commit_stream(batch("other", 0, 1, "1-0", std::string("0-0"))));
  EXPECT_TRUE(store_->commit_stream(batch("events", 0, 1, "7-0", std::string("5-0"))));
  EXPECT_EQ(store_->stream_cursor("events"), "7-0");
}

TEST_P(StreamStoreTest, AHeartbeatMovesTheCursorWithoutJobs) {
  int64_t connection = store_->open_stream_connection("events", kNow, "3-0");
  StreamCommit beat = batch("events", connection, 0, "9-0", std::nullopt);
  beat.events = 0;
  beat.heartbeats = 1;
  ASSERT_TRUE(store_->commit_stream(beat));
  EXPECT_EQ(store_->stream_cursor("events"), "9-0");
  EXPECT_EQ(store_->list_stream_connections(std::nullopt, 5)[0].heartbeats, 1);
}

TEST_P(StreamStoreTest, ARepeatedJobIdRejectsTheWholeBatch) {
  StreamCommit c = batch("events", 0, 2, "5-0", std::nullopt);
  c.jobs[1].id = c.jobs[0].id;
  EXPECT_THROW(store_->commit_stream(c), std::runtime_error);
  EXPECT_EQ(store_->stream_cursor("events"), std::nullopt);
}

TEST_P(StreamStoreTest, ConnectionsAreClosedWithTheirReasonAndListedNewestFirst) {
  int64_t first = store_->open_stream_connection("events", kNow, "0-0");
  store_->close_stream_connection(first, kNow + 500, 200, "cut part-way through an event");
  int64_t second = store_->open_stream_connection("events", kNow + 1000, "5-0");
  store_->close_stream_connection(second, kNow + 1200, 401, "HTTP 401");
  int64_t other = store_->open_stream_connection("other", kNow + 2000, "0-0");
  auto rows = store_->list_stream_connections("events", 10);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, second);
  EXPECT_EQ(rows[0].http_status, 401);
  EXPECT_EQ(rows[0].end_reason, "HTTP 401");
  EXPECT_EQ(rows[0].ended_at, kNow + 1200);
  EXPECT_EQ(rows[1].end_reason, "cut part-way through an event");
  EXPECT_EQ(store_->list_stream_connections(std::nullopt, 1)[0].id, other);
  // Pruning drops ended connections older than the limit, and keeps open ones.
  store_->prune(kNow + 5000, 100);
  rows = store_->list_stream_connections(std::nullopt, 10);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, other);
}

TEST_P(StreamStoreTest, AFailedCommitLeavesNoJobAndNoCursor) {
  // A cursor the schema refuses (longer than 64 bytes) is refused before anything is written.
  StreamCommit c = batch("events", 0, 1, std::string(65, '1'), std::nullopt);
  EXPECT_THROW(store_->commit_stream(c), std::invalid_argument);
  EXPECT_EQ(store_->stream_cursor("events"), std::nullopt);
  EXPECT_FALSE(store_->job(c.jobs[0].id));
}

TEST_P(StreamStoreTest, PollsCountFilteredItems) {
  PollCommit commit = webhook::testing::make_poll("works", 1, kNow);
  commit.poll.filtered = 4;
  ASSERT_TRUE(store_->commit_poll(commit));
  EXPECT_EQ(store_->list_polls("works", 1)[0].record.filtered, 4);
}

TEST_P(StreamStoreTest, RewindStreamMovesTheCursorAndABatchReadBeforeItIsRefused) {
  ASSERT_TRUE(store_->commit_stream(batch("events", 0, 2, "1700000000000-5", std::nullopt)));
  ASSERT_TRUE(store_->rewind_stream("events", "1700000000000-1", kNow + 5));
  EXPECT_EQ(store_->stream_cursor("events"), "1700000000000-1");
  // A batch the poller read from the cursor before the rewind writes nothing.
  StreamCommit stale = batch("events", 0, 3, "1700000000000-9", "1700000000000-5");
  EXPECT_FALSE(store_->commit_stream(stale));
  for (const auto& job : stale.jobs) EXPECT_FALSE(store_->job(job.id)) << job.id;
  EXPECT_EQ(store_->stream_cursor("events"), "1700000000000-1");
  // The poller's next connection, from the rewound cursor, commits.
  EXPECT_TRUE(store_->commit_stream(batch("events", 0, 4, "1700000000000-5", "1700000000000-1")));
  EXPECT_EQ(store_->stream_cursor("events"), "1700000000000-5");
  // A time's id, far ahead: a forward rewind skips.
  ASSERT_TRUE(store_->rewind_stream("events", "1800000000000-0", kNow + 6));
  EXPECT_EQ(store_->stream_cursor("events"), "1800000000000-0");
}

TEST_P(StreamStoreTest, RewindStreamMakesUpNoFeedAndLeavesPollingCursorsAlone) {
  EXPECT_FALSE(store_->rewind_stream("never", "0-0", kNow));
  EXPECT_EQ(store_->stream_cursor("never"), std::nullopt);
  EXPECT_TRUE(store_->stream_cursors().empty());
  webhook::testing::enqueue(*store_, "works", 1, kNow);
  EXPECT_FALSE(store_->rewind_stream("works", "0-0", kNow));
  EXPECT_EQ(store_->cursor("works"), kNow);
  EXPECT_EQ(store_->stream_cursor("works"), std::nullopt);
  EXPECT_THROW(store_->rewind_stream("works", std::string(65, '1'), kNow), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Drivers, StreamStoreTest,
                         ::testing::ValuesIn(webhook::testing::kAllDrivers),
                         webhook::testing::driver_name);

}  // namespace
}  // namespace webhook::store
