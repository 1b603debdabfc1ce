// The stream committer on a real SQLite file: batches are written in order on its thread,
// a refused batch stops the ones built on it, and a failed commit is rethrown to the feed.
#include "poller/stream_committer.h"

#include <gtest/gtest.h>

#include "common/store/fault_injecting_store.h"
#include "common/store/open_store.h"
#include "tests/support/temp_dir.h"

namespace webhook::poller {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

store::StreamCommit batch(int jobs, const std::string& cursor,
                          std::optional<std::string> expected) {
  store::StreamCommit c;
  c.feed = "events";
  for (int i = 0; i < jobs; ++i) {
    store::NewJob job;
    job.id = store::make_job_id(kNow);
    job.method = "POST";
    job.url = "http://sink/events";
    job.body = std::to_string(i);
    c.jobs.push_back(std::move(job));
  }
  c.new_cursor = cursor;
  c.expected_cursor = std::move(expected);
  c.events = jobs;
  c.now = kNow;
  return c;
}

class StreamCommitterTest : public ::testing::Test {
 protected:
  std::unique_ptr<store::FaultInjectingStore> open() {
    store::StoreOptions o;
    o.path = dir_.file("w.db");
    return store::FaultInjectingStore::open(o);
  }
  webhook::testing::TempDir dir_;
};

TEST_F(StreamCommitterTest, WritesBatchesInOrderEachWithItsCursor) {
  auto store = open();
  {
    StreamCommitter committer(*store);
    std::optional<std::string> cursor;
    for (int i = 1; i <= 5; ++i) {
      std::string next = std::to_string(i) + "-0";
      ASSERT_TRUE(committer.submit(batch(3, next, cursor)));
      cursor = next;
    }
    ASSERT_TRUE(committer.wait());
    EXPECT_FALSE(committer.busy());
  }
  EXPECT_EQ(store->stream_cursor("events"), "5-0");
  store::JobFilter f;
  f.limit = 100;
  EXPECT_EQ(store->list_jobs(f).size(), 15u);
}

TEST_F(StreamCommitterTest, ARefusedBatchStopsTheBatchBuiltOnIt) {
  auto store = open();
  ASSERT_TRUE(store->commit_stream(batch(1, "9-0", std::nullopt)));  // an operator's
  StreamCommitter committer(*store);
  // Expects no cursor: refused once it runs; the next, built on it, is dropped.
  ASSERT_TRUE(committer.submit(batch(2, "10-0", std::nullopt)));
  EXPECT_FALSE(committer.submit(batch(2, "11-0", std::string("10-0"))));
  EXPECT_TRUE(committer.wait());  // nothing in flight any more
  EXPECT_EQ(store->stream_cursor("events"), "9-0");
  store::JobFilter f;
  f.limit = 100;
  EXPECT_EQ(store->list_jobs(f).size(), 1u);
}

TEST_F(StreamCommitterTest, AFailedCommitIsRethrownAndWritesNothing) {
  auto store = open();
  store->at("commit_stream:jobs_written", store::FaultInjectingStore::fail());
  StreamCommitter committer(*store);
  ASSERT_TRUE(committer.submit(batch(2, "1-0", std::nullopt)));
  EXPECT_THROW(committer.wait(), std::runtime_error);
  store->clear();
  EXPECT_EQ(store->stream_cursor("events"), std::nullopt);
  store::JobFilter f;
  f.limit = 100;
  EXPECT_TRUE(store->list_jobs(f).empty());
  // The committer is usable again: the feed's next connection starts from the stored cursor.
  ASSERT_TRUE(committer.submit(batch(1, "1-0", std::nullopt)));
  EXPECT_TRUE(committer.wait());
  EXPECT_EQ(store->stream_cursor("events"), "1-0");
}

}  // namespace
}  // namespace webhook::poller
