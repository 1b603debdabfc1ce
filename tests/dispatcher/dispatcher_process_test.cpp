// The real webhook-dispatcher binary, killed and stopped with real signals, on a real
// SQLite file shared with the test and other dispatchers.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "tests/dispatcher/dispatch_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/test_receiver.h"

namespace webhook::dispatcher_test {
namespace {

using testing::Reply;
using testing::Script;
using testing::TestReceiver;

// The real binary, with `settings` as its whole environment (and PATH).
class DispatcherProcess : public testing::ChildProcess {
 public:
  DispatcherProcess(const std::map<std::string, std::string>& settings, const std::string& log)
      : ChildProcess({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"},
                     with_text_logs(settings), log) {}

 private:
  static std::map<std::string, std::string> with_text_logs(std::map<std::string, std::string> env) {
    env.emplace("OPENCTI_JSON_LOGGING", "false");
    return env;
  }
};

std::map<std::string, std::string> process_settings(const DispatchHarness& harness) {
  return {{"WEBHOOK_DATABASE_PATH", harness.path()},
          {"WEBHOOK_DATABASE_SYNCHRONOUS", "NORMAL"},
          {"WEBHOOK_UNSUCCESSFUL_RETRY_INTERVAL", "0.1"},
          {"CONNECTOR_LOG_LEVEL", "info"}};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DispatcherProcess, KilledMidRequestThenRestartedDeliversExactlyOnceMore) {
  TestReceiver receiver;
  receiver.set_script("/slow", Script::fail_first(1, Reply::stalled(60s)));
  DispatchHarness harness;
  const std::string id = enqueue_one(harness.store(), {receiver.url("/slow")});
  auto settings = process_settings(harness);
  settings["WEBHOOK_TIMEOUT"] = "1";  // the lease: 1 s + 5 s margin
  const std::string log = harness.dir().file("dispatcher.log");
  {
    DispatcherProcess first(settings, log);
    ASSERT_TRUE(receiver.wait_for_count(1, 10s)) << read_file(log);
    first.signal(SIGKILL);
    ASSERT_EQ(first.wait_for(5s), 128 + SIGKILL);
  }
  EXPECT_EQ(harness.state(id), JobState::kRunning);  // leased by the dead process
  // Restart once the lease ran out, so the new dispatcher takes it back as it starts.
  const int64_t lease_end = harness.job(id)->job.lease_expires_at;
  ASSERT_TRUE(eventually([&] { return wall_ms() > lease_end; }, 30s));

  DispatcherProcess second(settings, log);
  ASSERT_TRUE(harness.wait_for_state(id, JobState::kDelivered, 30s)) << read_file(log);
  second.signal(SIGTERM);
  EXPECT_EQ(second.wait_for(10s), 0);

  EXPECT_EQ(receiver.requests_to("/slow").size(), 2u);  // the killed try and one more
  auto detail = harness.job(id);
  ASSERT_EQ(detail->attempts.size(), 2u);
  EXPECT_FALSE(detail->attempts[0].http_status.has_value());  // interrupted, charged
  EXPECT_EQ(detail->attempts[1].http_status, 200);
  receiver.release_stalls();
}

TEST(DispatcherProcess, SigtermLetsRequestsFinishThenReleasesTheRestUncharged) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply::stalled(300ms)));
  DispatchHarness harness;
  std::vector<JobSpec> specs;
  for (int i = 0; i < 4; ++i) specs.push_back({receiver.url("/fast/" + std::to_string(i))});
  for (int i = 0; i < 4; ++i) {
    receiver.set_script("/stuck/" + std::to_string(i), Script::always(Reply::stalled(60s)));
    specs.push_back({receiver.url("/stuck/" + std::to_string(i))});
  }
  auto ids = enqueue(harness.store(), specs);
  auto settings = process_settings(harness);
  settings["WEBHOOK_SHUTDOWN_GRACE"] = "3";
  settings["WEBHOOK_CONCURRENCY"] = "8";
  const std::string log = harness.dir().file("dispatcher.log");
  DispatcherProcess dispatcher(settings, log);
  ASSERT_TRUE(receiver.wait_for_count(8, 10s)) << read_file(log);

  dispatcher.signal(SIGTERM);
  // The grace is 3 s; the deadline leaves room for a loaded machine.
  ASSERT_EQ(dispatcher.wait_for(10s), 0) << read_file(log);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(harness.state(ids[i]), JobState::kDelivered);
  for (int i = 4; i < 8; ++i) {
    auto detail = harness.job(ids[i]);
    EXPECT_EQ(detail->job.state, JobState::kPending);
    EXPECT_EQ(detail->job.attempts, 0);
    EXPECT_TRUE(detail->attempts.empty());
  }
  EXPECT_EQ(receiver.count(), 8u);
  receiver.release_stalls();
}

TEST(DispatcherProcess, ASecondSignalExitsAtOnce) {
  TestReceiver receiver;
  receiver.set_default_script(Script::always(Reply::stalled(60s)));
  DispatchHarness harness;
  const std::string id = enqueue_one(harness.store(), {receiver.url("/stuck")});
  auto settings = process_settings(harness);
  settings["WEBHOOK_SHUTDOWN_GRACE"] = "600";
  const std::string log = harness.dir().file("dispatcher.log");
  DispatcherProcess dispatcher(settings, log);
  ASSERT_TRUE(receiver.wait_for_count(1, 10s)) << read_file(log);
  dispatcher.signal(SIGTERM);
  dispatcher.signal(SIGINT);
  ASSERT_EQ(dispatcher.wait_for(10s), 130) << read_file(log);
  EXPECT_EQ(harness.state(id), JobState::kRunning);  // its lease will bring it back
  receiver.release_stalls();
}

TEST(DispatcherProcess, TwoDispatchersOnOneFileDeliverTenThousandJobsOnceEach) {
  constexpr int kJobs = 10000;
  TestReceiver receiver(std::nullopt, 80);
  DispatchHarness harness;
  auto settings = process_settings(harness);
  settings["WEBHOOK_CONCURRENCY"] = "32";
  settings["WEBHOOK_HOST_CONCURRENCY"] = "32";
  const std::string log = harness.dir().file("dispatchers.log");
  DispatcherProcess a(settings, log);
  DispatcherProcess b(settings, log);

  std::vector<std::string> ids;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<JobSpec> specs;
    for (int i = 0; i < kJobs / 10; ++i) {
      specs.push_back({receiver.url("/many/" + std::to_string(batch * (kJobs / 10) + i))});
    }
    auto more = enqueue(harness.store(), specs);
    ids.insert(ids.end(), more.begin(), more.end());
  }
  ASSERT_TRUE(receiver.wait_for_count(kJobs, 120s)) << read_file(log);
  ASSERT_TRUE(eventually(
      [&] {
        auto status = harness.store().status();
        int64_t delivered = 0;
        for (auto& feed : status) delivered += feed.counts[JobState::kDelivered];
        return delivered == kJobs;
      },
      60s));
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  EXPECT_EQ(a.wait_for(10s), 0);
  EXPECT_EQ(b.wait_for(10s), 0);

  auto requests = receiver.requests();
  EXPECT_EQ(requests.size(), static_cast<std::size_t>(kJobs));  // none twice
  std::set<std::string> keys;
  for (const auto& request : requests) keys.insert(request.header("Idempotency-Key"));
  EXPECT_EQ(keys, std::set<std::string>(ids.begin(), ids.end()));  // none lost
  // Each delivery was recorded once, by one of the two (their stop lines count them).
  std::regex delivered_count(R"(dispatcher stopped .*delivered=(\d+))");
  const std::string output = read_file(log);
  int64_t total = 0;
  int stop_lines = 0;
  for (std::sregex_iterator it(output.begin(), output.end(), delivered_count), end; it != end;
       ++it) {
    total += std::stoll((*it)[1].str());
    ++stop_lines;
  }
  EXPECT_EQ(stop_lines, 2) << output;
  EXPECT_EQ(total, kJobs);
  for (int i = 0; i < kJobs; i += 997) {
    EXPECT_EQ(harness.job(ids[static_cast<std::size_t>(i)])->attempts.size(), 1u);
  }
}

}  // namespace
}  // namespace webhook::dispatcher_test
