// A stream feed under fire, on the real binaries: the poller is SIGKILLed 20 times while
// 5,000 events flow and the fake stream cuts its connections part-way through events. Every
// event is enqueued exactly once and delivered with its data byte for byte, and after each
// kill the stored cursor is exactly the last event whose job is on disk. Once per store
// driver.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/store/job_store.h"
#include "tests/support/child_process.h"
#include "tests/support/fake_stream.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_receiver.h"

namespace webhook::e2e {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::Driver;
using testing::eventually;

class StreamKills : public ::testing::TestWithParam<Driver> {};

// The jobs of feed `default`, oldest first.
std::vector<store::JobRow> jobs_of(store::JobStore& store) {
  store::JobFilter f;
  f.feed = "default";
  f.limit = 1'000'000;
  auto rows = store.list_jobs(f);
  std::reverse(rows.begin(), rows.end());
  return rows;
}

TEST_P(StreamKills, SigkillTwentyTimesWhileEventsFlowLosesAndRepeatsNothing) {
  testing::FakeStreamOptions fo;
  fo.cut_after_max = 400;
  fo.seed = 15;
  fo.heartbeat = 100ms;
  testing::FakeStream fake(fo);
  testing::TestReceiver sink;
  testing::TestDatabase db(GetParam());
  testing::TempDir dir;
  std::map<std::string, std::string> env = {{"OPENCTI_URL", fake.url()},
                                            {"OPENCTI_TOKEN", fo.token},
                                            {"OPENCTI_JSON_LOGGING", "false"},
                                            {"CONNECTOR_LIVE_STREAM_ID", fo.stream_id},
                                            {"WEBHOOK_URL", sink.url("/cti")},
                                            {"WEBHOOK_STREAM_BATCH_SIZE", "50"},
                                            {"WEBHOOK_STREAM_BATCH_TIME", "0.02"},
                                            {"WEBHOOK_STREAM_RECONNECT_MAX", "0.2"},
                                            {"WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", "0.1"},
                                            {"WEBHOOK_CONCURRENCY", "32"},
                                            {"WEBHOOK_HOST_CONCURRENCY", "32"},
                                            // Each poller started after a kill waits for the
                                            // killed one's feed lease to run out: short, or
                                            // the 20 rounds wait 200 s for nothing.
                                            {"WEBHOOK_POLLER_LEASE", "2"}};
  if (GetParam() == Driver::kPostgres) {
    env["WEBHOOK_DATABASE_URL"] = db.options().url;
  } else {
    env["WEBHOOK_DATABASE_PATH"] = db.options().path;
    env["WEBHOOK_DATABASE_SYNCHRONOUS"] = "NORMAL";
  }
  const std::string poller_bin = WEBHOOK_BINARY_DIR "/poller/webhook-poller";
  auto dispatcher = std::make_unique<ChildProcess>(
      std::vector<std::string>{WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env,
      dir.file("dispatcher.log"));
  auto store = db.open();
  std::unique_ptr<ChildProcess> poller;
  constexpr int kKills = 20;
  constexpr int kEvents = 5000;
  const int per_round = kEvents / (kKills + 1);
  std::size_t last_committed = 0;  // jobs on disk at the last kill
  for (int round = 0; round < kKills; ++round) {
    fake.append(per_round);
    poller = std::make_unique<ChildProcess>(std::vector<std::string>{poller_bin}, env,
                                            dir.file("poller.log"));
    // Wait until this poller committed something new, then kill it wherever it is.
    ASSERT_TRUE(eventually([&] { return jobs_of(*store).size() > last_committed; }, 60s))
        << poller->output();
    poller->signal(SIGKILL);
    ASSERT_TRUE(poller->wait_for(20s).has_value());
    // The cursor is exactly the last event whose job is on disk: none past it, none missing.
    // A server may still finish the COMMIT the killed poller had sent: read the jobs between
    // two equal readings of the cursor, so both come from the same committed state.
    std::vector<store::JobRow> jobs;
    std::optional<std::string> cursor;
    ASSERT_TRUE(eventually(
        [&] {
          cursor = store->stream_cursor("default");
          jobs = jobs_of(*store);
          return store->stream_cursor("default") == cursor;
        },
        20s));
    auto events = fake.events();
    ASSERT_TRUE(cursor);
    std::size_t at = 0;
    while (at < events.size() && events[at].id != *cursor) ++at;
    ASSERT_LT(at, events.size()) << *cursor;
    ASSERT_EQ(jobs.size(), at + 1) << "round " << round;
    for (std::size_t i = 0; i < jobs.size(); ++i) ASSERT_EQ(jobs[i].body, events[i].data) << i;
    last_committed = jobs.size();
  }
  fake.append(kEvents - per_round * kKills);
  poller = std::make_unique<ChildProcess>(std::vector<std::string>{poller_bin}, env,
                                          dir.file("poller.log"));
  const std::string last = fake.events().back().id;
  ASSERT_TRUE(eventually([&] { return store->stream_cursor("default") == last; }, 120s))
      << poller->output();
  ASSERT_TRUE(sink.wait_for_count(kEvents, 120s)) << dispatcher->output();

  auto jobs = jobs_of(*store);
  auto events = fake.events();
  ASSERT_EQ(jobs.size(), static_cast<std::size_t>(kEvents));
  std::multiset<std::string> sent;
  for (const auto& e : events) sent.insert(e.data);
  std::multiset<std::string> received;
  for (const auto& r : sink.requests()) {
    received.insert(r.body);
    ASSERT_EQ(r.method, "POST");
    ASSERT_EQ(r.header("Content-Type"), "application/json");
    ASSERT_EQ(r.header("Accept"), "application/json");
  }
  EXPECT_EQ(received, sent);
  // The kills and the cuts left their trace in the connection history.
  auto connections = store->list_stream_connections("default", 100000);
  EXPECT_GT(connections.size(), static_cast<std::size_t>(kKills));
  std::size_t cut = 0;
  for (const auto& c : connections) cut += c.end_reason == "cut part-way through an event";
  EXPECT_GT(cut, 0u);
  poller->signal(SIGTERM);
  EXPECT_EQ(poller->wait_for(30s), 0) << poller->output();
  // The token never reached a log.
  EXPECT_EQ(poller->output().find(fo.token), std::string::npos);
  auto status = testing::run_command({WEBHOOK_BINARY_DIR "/ctl/webhookctl", "status"}, env);
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("last stream connections"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find(last), std::string::npos) << status.out;
}

INSTANTIATE_TEST_SUITE_P(Drivers, StreamKills, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::e2e
