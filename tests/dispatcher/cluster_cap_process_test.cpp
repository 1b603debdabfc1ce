// WEBHOOK_CLUSTER_HOST_CONCURRENCY with real webhook-dispatcher processes on one store, on
// every driver: three dispatchers that see each other (by their heartbeats) never have more
// requests in flight at one receiver than the cap, whatever each one's own
// WEBHOOK_HOST_CONCURRENCY, and together deliver every job once; with fewer slots than
// dispatchers, the ones without a share send nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/store_fixtures.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Driver;
using testing::Reply;
using testing::Script;
using testing::TestReceiver;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct ShareLine {
  int live = 0;
  int share = 0;
  int wanted = 0;
};

// The last "cluster share" line a dispatcher logged, if any.
std::optional<ShareLine> last_share_line(const std::string& log) {
  static const std::regex line(R"(cluster share cap=\d+ live=(\d+) share=(\d+) wanted=(\d+))");
  const std::string text = read_file(log);
  std::optional<ShareLine> last;
  for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it) {
    last = ShareLine{std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3])};
  }
  return last;
}

class ClusterCapProcessTest : public ::testing::TestWithParam<Driver> {
 protected:
  static constexpr int kDispatchers = 3;

  void SetUp() override { db_.open()->status(); }  // created and migrated before they start

  // Starts the dispatchers under `cap` and waits until each has seen all of them and its
  // share is in force (no growth still waiting), the shares summing to the cap.
  void start_fleet(int cap) {
    std::map<std::string, std::string> env = {
        {"OPENCTI_JSON_LOGGING", "false"},
        {"CONNECTOR_LOG_LEVEL", "info"},
        {"WEBHOOK_CONCURRENCY", "8"},
        {"WEBHOOK_HOST_CONCURRENCY", "8"},  // alone, each would send 8 at once
        {"WEBHOOK_CLUSTER_HOST_CONCURRENCY", std::to_string(cap)},
        {"WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL", "0.2"},
        {"WEBHOOK_DATABASE_SYNCHRONOUS", "NORMAL"}};
    if (db_.options().url.empty()) {
      env["WEBHOOK_DATABASE_PATH"] = db_.options().path;
    } else {
      env["WEBHOOK_DATABASE_URL"] = db_.options().url;
    }
    for (int i = 0; i < kDispatchers; ++i) {
      logs_.push_back(dir_.file("dispatcher-" + std::to_string(i) + ".log"));
      fleet_.push_back(std::make_unique<testing::ChildProcess>(
          std::vector<std::string>{WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env,
          logs_.back()));
    }
    ASSERT_TRUE(eventually(
        [&] {
          int sum = 0;
          for (const auto& log : logs_) {
            auto line = last_share_line(log);
            if (!line || line->live != kDispatchers || line->share != line->wanted) return false;
            sum += line->share;
          }
          return sum == cap;
        },
        60s, 20ms))
        << all_logs();
  }

  void stop_fleet() {
    for (auto& process : fleet_) process->signal(SIGTERM);
    for (auto& process : fleet_) EXPECT_EQ(process->wait_for(20s), 0) << all_logs();
  }

  bool all_delivered(std::size_t jobs) {
    int64_t delivered = 0;
    for (auto& feed : db_.open()->status()) delivered += feed.counts[JobState::kDelivered];
    return delivered == static_cast<int64_t>(jobs);
  }

  std::string all_logs() const {
    std::string out;
    for (const auto& log : logs_) out += read_file(log);
    return out;
  }

  testing::TestDatabase db_{GetParam()};
  testing::TempDir dir_;
  std::vector<std::string> logs_;
  std::vector<std::unique_ptr<testing::ChildProcess>> fleet_;
};

TEST_P(ClusterCapProcessTest, ThreeDispatchersNeverExceedTheCapAtOneReceiverAndDeliverEveryJob) {
  constexpr int kCap = 4;
  constexpr int kJobs = 90;
  TestReceiver receiver(std::nullopt, 64);
  receiver.set_default_script(Script::always(Reply::stalled(40ms)));  // requests overlap
  start_fleet(kCap);

  std::vector<JobSpec> specs;
  for (int i = 0; i < kJobs; ++i) specs.push_back({receiver.url("/capped/" + std::to_string(i))});
  auto ids = enqueue(*db_.open(), specs);
  ASSERT_TRUE(eventually([&] { return all_delivered(ids.size()); }, 90s)) << all_logs();
  stop_fleet();

  EXPECT_LE(receiver.max_in_flight(), kCap) << all_logs();
  EXPECT_GE(receiver.max_in_flight(), 1);
  auto requests = receiver.requests();
  EXPECT_EQ(requests.size(), ids.size());  // none twice
  std::set<std::string> keys;
  for (const auto& request : requests) keys.insert(request.header("Idempotency-Key"));
  EXPECT_EQ(keys, std::set<std::string>(ids.begin(), ids.end()));  // none lost
}

TEST_P(ClusterCapProcessTest, WithFewerSlotsThanDispatchersTheOneWithoutAShareSendsNothing) {
  constexpr int kCap = 2;
  constexpr int kJobs = 40;
  TestReceiver receiver(std::nullopt, 64);
  receiver.set_default_script(Script::always(Reply::stalled(20ms)));
  start_fleet(kCap);

  std::vector<JobSpec> specs;
  for (int i = 0; i < kJobs; ++i) specs.push_back({receiver.url("/few/" + std::to_string(i))});
  auto ids = enqueue(*db_.open(), specs);
  ASSERT_TRUE(eventually([&] { return all_delivered(ids.size()); }, 90s)) << all_logs();
  stop_fleet();

  EXPECT_LE(receiver.max_in_flight(), kCap) << all_logs();
  EXPECT_EQ(receiver.count(), ids.size());
  // Every attempt was made by one of the two dispatchers with a share.
  std::set<std::string> workers;
  auto store = db_.open();
  for (const auto& id : ids) {
    auto detail = store->job(id);
    ASSERT_TRUE(detail.has_value());
    ASSERT_EQ(detail->attempts.size(), 1u) << id;
    workers.insert(detail->attempts[0].worker);
  }
  EXPECT_LE(workers.size(), 2u);
}

TEST_P(ClusterCapProcessTest, ADispatcherStoppedBySigtermLeavesTheFleetBeforeItsHeartbeatRunsOut) {
  // A heartbeat every 20 s: a row counts as live for 60 s, so a dispatcher that stopped without
  // saying so (its last beat at most 20 s old) would be counted for 40 s more at least.
  std::map<std::string, std::string> env = {{"OPENCTI_JSON_LOGGING", "false"},
                                            {"CONNECTOR_LOG_LEVEL", "info"},
                                            {"WEBHOOK_CLUSTER_HOST_CONCURRENCY", "4"},
                                            {"WEBHOOK_DISPATCHER_HEARTBEAT_INTERVAL", "20"},
                                            {"WEBHOOK_DATABASE_SYNCHRONOUS", "NORMAL"}};
  if (db_.options().url.empty()) {
    env["WEBHOOK_DATABASE_PATH"] = db_.options().path;
  } else {
    env["WEBHOOK_DATABASE_URL"] = db_.options().url;
  }
  const std::string bin = WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher";
  const std::string log_a = dir_.file("a.log"), log_b = dir_.file("b.log");
  logs_ = {log_a, log_b};
  auto line_is = [](const std::string& log, int live, int share) {
    auto line = last_share_line(log);
    return line && line->live == live && line->share == share;
  };
  testing::ChildProcess a({bin}, env, log_a);
  ASSERT_TRUE(eventually([&] { return line_is(log_a, 1, 4); }, 30s)) << all_logs();
  testing::ChildProcess b({bin}, env, log_b);
  // b's first heartbeat counts a: it waits for its share (0 for now, 2 wanted).
  ASSERT_TRUE(eventually([&] { return line_is(log_b, 2, 0); }, 30s)) << all_logs();

  a.signal(SIGTERM);
  ASSERT_EQ(a.wait_for(20s), 0) << all_logs();
  std::vector<store::HeartbeatRow> stopped;
  for (const auto& row : db_.open()->heartbeats()) {
    if (row.stopped_at) stopped.push_back(row);
  }
  ASSERT_EQ(stopped.size(), 1u) << all_logs();
  EXPECT_NE(read_file(log_a).find(stopped[0].worker), std::string::npos);
  // b's next heartbeat (within 20 s) counts it gone and takes the whole cap: well before the
  // 40 s a silent one would still be counted.
  EXPECT_TRUE(eventually([&] { return line_is(log_b, 1, 4); }, 35s)) << all_logs();
  b.signal(SIGTERM);
  EXPECT_EQ(b.wait_for(20s), 0) << all_logs();
}

TEST(ClusterCapSettings, ABadCapStopsTheDispatcherWithExitTwoAndOneLineNamingTheSetting) {
  testing::TempDir dir;
  for (const char* bad : {"0", "-3", "many", "10001"}) {
    SCOPED_TRACE(bad);
    auto r = testing::run_command({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"},
                                  {{"WEBHOOK_DATABASE_PATH", dir.file("webhook.db")},
                                   {"WEBHOOK_CLUSTER_HOST_CONCURRENCY", bad}});
    EXPECT_EQ(r.exit_code, 2);
    const std::string all = r.out + r.err;
    EXPECT_NE(all.find("WEBHOOK_CLUSTER_HOST_CONCURRENCY"), std::string::npos) << all;
    EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 1) << all;
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, ClusterCapProcessTest, ::testing::ValuesIn(testing::kAllDrivers),
                         testing::driver_name);

}  // namespace
}  // namespace webhook::dispatcher_test
