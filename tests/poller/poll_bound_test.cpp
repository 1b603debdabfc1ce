// What bounds one poll (issue 21): the answers of all its pages together
// (WEBHOOK_GRAPHQL_MAX_POLL_BYTES), and an exception inside a poll, std::bad_alloc
// included, which is recorded in `polls` as that poll's failure instead of being lost.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <new>

#include "poller/feed_poller.h"
#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::ChildProcess;
using webhook::testing::eventually;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";

// The real client, with the first `failures` requests throwing `Error` before they start.
template <typename Error>
class ThrowingEndpoint final : public GraphqlEndpoint {
 public:
  ThrowingEndpoint(GraphqlEndpoint& real, int failures) : real_(real), failures_(failures) {}
  GraphqlResponse execute(std::string_view query, const Json& variables,
                          const CancelFn& cancel) override {
    if (failures_-- > 0) throw Error();
    return real_.execute(query, variables, cancel);
  }

 private:
  GraphqlEndpoint& real_;
  int failures_;
};

TEST(PollBound, OutOfMemoryInAPollIsRecordedAsThatPollsFailureAndTheNextPollWorks) {
  PollerTestEnv env;
  env.start();
  std::string id = env.add_work(1000);
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  ThrowingEndpoint<std::bad_alloc> endpoint(client, 1);
  FeedPoller poller(env.poller().feed(), endpoint, &env.store(), env.clock());

  PollResult failed = poller.poll();
  EXPECT_EQ(failed.status, PollStatus::kFailed);
  auto polls = env.store().list_polls("default", 10);
  ASSERT_EQ(polls.size(), 1u);  // recorded, not lost
  EXPECT_FALSE(polls[0].record.ok);
  EXPECT_EQ(polls[0].record.error,
            "the poll ran out of memory (std::bad_alloc) after 0 page(s); lower "
            "WEBHOOK_GRAPHQL_MAX_POLL_BYTES or the query's page size");
  EXPECT_FALSE(env.store().cursor("default").has_value());
  EXPECT_TRUE(env.jobs().empty());

  PollResult ok = poller.poll();
  ASSERT_TRUE(ok.ok()) << ok.record.error;
  ASSERT_EQ(env.jobs().size(), 1u);
  EXPECT_EQ(env.jobs()[0].url, "http://receiver.test/hook?id=" + id + "&connector=Import");
}

TEST(PollBound, AnyOtherExceptionInAPollIsRecordedWithWhatItSaid) {
  PollerTestEnv env;
  env.start();
  GraphqlClient client(GraphqlOptions::from_config(env.config()));
  struct LengthError : std::length_error {
    LengthError() : std::length_error("vector::reserve") {}
  };
  ThrowingEndpoint<LengthError> named(client, 1);
  FeedPoller poller(env.poller().feed(), named, &env.store(), env.clock());
  EXPECT_EQ(poller.poll().status, PollStatus::kFailed);
  auto polls = env.store().list_polls("default", 10);
  ASSERT_EQ(polls.size(), 1u);
  EXPECT_EQ(polls[0].record.error, "the poll stopped on an unexpected error: vector::reserve");
}

// 57 pages of 5 MB reached 3 GB and bad_alloc: the pages of one poll are now bounded
// together. Shown with the real poller, small pages and a small bound.
TEST(PollBound, APollWhoseAnswersPassTheBoundFailsSayingSoAndThePollerGoesOn) {
  FakeOpencti fake;
  TempDir dir;
  SystemClock clock;
  int64_t now = clock.now_ms();
  for (int i = 0; i < 40; ++i) {
    fake.records().add("works", FakeRecords::work("w" + std::to_string(i), "Import", {"done"},
                                                  now - 2000, now - 1000));
  }
  auto env = poller_process_env(
      fake, dir,
      {{"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0.05"},
       {"WEBHOOK_GRAPHQL_MAX_POLL_BYTES", "4096"},
       {"WEBHOOK_GRAPHQL_QUERY",
        "query ($after: ID) {{ works(first: 5, after: $after, filters: {{mode: and, filters: "
        "[{{key: \"completed_time\", operator: gt, values: [\"LAST_POLL_TIME\"]}}], "
        "filterGroups: []}}) {{ edges {{ node {{ id connector {{ name }} messages {{ message "
        "timestamp }} }} }} pageInfo {{ endCursor hasNextPage }} }} }}"},
       {"WEBHOOK_GRAPHQL_PAGE_INFO_LOCATION", "['data']['works']['pageInfo']"}});
  std::string db = dir.file("webhook.db");
  ChildProcess poller({kPoller}, env, dir.file("poller.log"));
  auto failed = [&] {
    std::size_t n = 0;
    if (!std::filesystem::exists(db)) return n;
    for (const auto& p : open_store(db)->list_polls("default", 1000)) {
      if (!p.record.ok && p.record.error.find("bytes (WEBHOOK_GRAPHQL_MAX_POLL_BYTES) at page ") !=
                              std::string::npos) {
        ++n;
      }
    }
    return n;
  };
  ASSERT_TRUE(eventually([&] { return failed() >= 3; })) << poller.output();
  EXPECT_TRUE(poller.running());
  EXPECT_TRUE(open_store(db)->list_jobs({}).empty());
  EXPECT_FALSE(open_store(db)->cursor("default").has_value());
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(10)), 0) << poller.output();
}

}  // namespace
}  // namespace webhook::poller::testing
