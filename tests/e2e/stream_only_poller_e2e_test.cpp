// A poller whose only feed is a stream feed needs no GraphQL: against a fake OpenCTI that
// serves the live stream and answers nothing else (404), it starts without the start-up
// version query, enqueues every event and the dispatcher delivers them (issue 15).
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/fake_stream.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_receiver.h"

namespace webhook::e2e {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;

TEST(StreamOnlyPoller, StartsAndDeliversWithoutAnyGraphqlRequest) {
  testing::FakeStreamOptions fo;
  testing::FakeStream fake(fo);
  fake.append(25);
  testing::TestReceiver sink;
  testing::TempDir dir;
  std::map<std::string, std::string> env = {{"OPENCTI_URL", fake.url()},
                                            {"OPENCTI_TOKEN", fo.token},
                                            {"OPENCTI_JSON_LOGGING", "false"},
                                            {"CONNECTOR_LIVE_STREAM_ID", fo.stream_id},
                                            {"WEBHOOK_URL", sink.url("/cti")},
                                            {"WEBHOOK_DATABASE_PATH", dir.file("w.db")},
                                            {"WEBHOOK_DATABASE_SYNCHRONOUS", "NORMAL"},
                                            {"WEBHOOK_STREAM_BATCH_TIME", "0.05"}};
  ChildProcess poller({WEBHOOK_BINARY_DIR "/poller/webhook-poller"}, env, dir.file("p.log"));
  ChildProcess dispatcher({WEBHOOK_BINARY_DIR "/dispatcher/webhook-dispatcher"}, env,
                          dir.file("d.log"));
  ASSERT_TRUE(sink.wait_for_count(25, 60s)) << poller.output() << dispatcher.output();
  auto events = fake.events();
  auto received = sink.requests();
  std::multiset<std::string> sent, bodies;
  for (const auto& e : events) sent.insert(e.data);
  for (const auto& r : received) bodies.insert(r.body);
  EXPECT_EQ(bodies, sent);
  // Every request the fake saw was the stream's: no version query, no GraphQL at all.
  auto requests = fake.requests();
  ASSERT_FALSE(requests.empty());
  for (const auto& r : requests) {
    EXPECT_EQ(r.target.rfind("/stream/" + fo.stream_id, 0), 0u) << r.target;
  }
  EXPECT_EQ(poller.output().find("OpenCTI does not answer"), std::string::npos) << poller.output();
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(30s), 0) << poller.output();
  dispatcher.signal(SIGTERM);
  EXPECT_EQ(dispatcher.wait_for(30s), 0) << dispatcher.output();
}

}  // namespace
}  // namespace webhook::e2e
