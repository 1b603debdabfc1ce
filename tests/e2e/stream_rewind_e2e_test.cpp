// `webhookctl rewind` of a stream feed under a running poller, on the real binaries: the poller
// follows the fake live stream, the operator rewinds the feed to a stream id and then to a time
// while the stream is quiet (no heartbeat either, so only the poller's own look at the cursor
// can notice), and the poller reconnects from the new cursor without a restart: the events
// after it are enqueued again, every other event exactly once, and events appended later once.
// Once per store driver.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_stream.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"

namespace webhook::e2e {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Driver;
using testing::eventually;

class StreamRewind : public ::testing::TestWithParam<Driver> {};

// How many jobs of feed `default` carry each body.
std::map<std::string, int> bodies_of(store::JobStore& store) {
  store::JobFilter f;
  f.feed = "default";
  f.limit = 1'000'000;
  std::map<std::string, int> out;
  for (const auto& row : store.list_jobs(f)) {
    ++out[store.job(std::to_string(row.seq)).value().job.body];
  }
  return out;
}

int total(const std::map<std::string, int>& bodies) {
  int n = 0;
  for (const auto& [body, count] : bodies) n += count;
  return n;
}

TEST_P(StreamRewind, ARunningPollerReconnectsFromTheRewoundCursorAndEnqueuesWhatFollowsAgain) {
  testing::FakeStreamOptions fo;
  fo.heartbeat = 10min;  // quiet means quiet: no heartbeat batch to be refused
  testing::FakeStream fake(fo);
  testing::TestDatabase db(GetParam());
  testing::TempDir dir;
  std::map<std::string, std::string> env = {{"OPENCTI_URL", fake.url()},
                                            {"OPENCTI_TOKEN", fo.token},
                                            {"OPENCTI_JSON_LOGGING", "false"},
                                            {"CONNECTOR_LIVE_STREAM_ID", fo.stream_id},
                                            {"WEBHOOK_URL", "http://127.0.0.1:9/cti"},
                                            {"WEBHOOK_STREAM_BATCH_TIME", "0.05"},
                                            {"WEBHOOK_STREAM_RECONNECT_MAX", "0.2"}};
  std::string database;
  if (GetParam() == Driver::kPostgres) {
    env["WEBHOOK_DATABASE_URL"] = database = db.options().url;
  } else {
    env["WEBHOOK_DATABASE_PATH"] = database = db.options().path;
    env["WEBHOOK_DATABASE_SYNCHRONOUS"] = "NORMAL";
  }
  fake.append(30);
  const std::vector<testing::FakeStreamEvent> first = fake.events();
  ChildProcess poller({WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env, dir.file("p.log"));
  auto store = db.open();
  ASSERT_TRUE(eventually([&] { return store->stream_cursor("default") == first[29].id; }, 60s))
      << poller.output();
  std::map<std::string, int> want;
  for (const auto& e : first) want[e.data] = 1;
  ASSERT_TRUE(eventually([&] { return bodies_of(*store) == want; }, 30s)) << poller.output();
  const std::size_t connections = fake.connections();

  // Back to event 9's id: events 10..29 again.
  auto rewind = testing::run_command({WEBHOOK_BINARY_DIR "/ctl/webhookctl", "rewind", "--feed",
                                      "default", "--to", first[9].id, "--database", database});
  ASSERT_EQ(rewind.exit_code, 0) << rewind.err;
  for (int i = 10; i < 30; ++i) ++want[first[i].data];
  ASSERT_TRUE(eventually([&] { return total(bodies_of(*store)) >= 50; }, 60s)) << poller.output();
  ASSERT_TRUE(eventually([&] { return store->stream_cursor("default") == first[29].id; }, 30s));
  EXPECT_EQ(bodies_of(*store), want);
  auto requests = fake.requests();
  ASSERT_GT(requests.size(), connections);
  EXPECT_EQ(requests.back().headers["last-event-id"], first[9].id);

  // To a time, epoch ms: the id "<ms>-0", which is event 21's (three events a millisecond).
  const std::string ms = first[21].id.substr(0, first[21].id.find('-'));
  ASSERT_EQ(first[21].id, ms + "-0");
  rewind = testing::run_command({WEBHOOK_BINARY_DIR "/ctl/webhookctl", "rewind", "--feed",
                                 "default", "--to", ms, "--database", database});
  ASSERT_EQ(rewind.exit_code, 0) << rewind.err;
  for (int i = 22; i < 30; ++i) ++want[first[i].data];
  ASSERT_TRUE(eventually([&] { return total(bodies_of(*store)) >= 58; }, 60s)) << poller.output();
  ASSERT_TRUE(eventually([&] { return store->stream_cursor("default") == first[29].id; }, 30s));
  EXPECT_EQ(bodies_of(*store), want);
  EXPECT_EQ(fake.requests().back().headers["last-event-id"], ms + "-0");

  // The stream goes on from there: new events once each.
  fake.append(6);
  const std::vector<testing::FakeStreamEvent> all = fake.events();
  for (std::size_t i = 30; i < all.size(); ++i) want[all[i].data] = 1;
  ASSERT_TRUE(eventually([&] { return total(bodies_of(*store)) >= 64; }, 60s)) << poller.output();
  ASSERT_TRUE(eventually([&] { return store->stream_cursor("default") == all.back().id; }, 30s));
  EXPECT_EQ(bodies_of(*store), want);

  // Each rewind ended the connection as a moved cursor, the history says so.
  int moved = 0;
  for (const auto& c : store->list_stream_connections("default", 100)) {
    if (c.end_reason.find("cursor moved") != std::string::npos) ++moved;
  }
  EXPECT_EQ(moved, 2) << poller.output();
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(30s), 0) << poller.output();
}

INSTANTIATE_TEST_SUITE_P(Drivers, StreamRewind, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::e2e
