// The real webhook-poller against a fake OpenCTI answering what a hostile feed can put in a
// record (issue 21): nesting deep enough to exhaust a stack, lone surrogate escapes, numbers
// beyond double range, NaN, integers beyond 64 bits. The poller must not crash, must record
// what failed in `polls`, and must go on polling.
#include <gtest/gtest.h>

#include <signal.h>

#include <filesystem>
#include <set>
#include <string>

#include "common/json_reader.h"
#include "common/store/job_store.h"
#include "tests/poller/poller_test_env.h"
#include "tests/support/child_process.h"

namespace webhook::poller::testing {
namespace {

using webhook::testing::ChildProcess;
using webhook::testing::eventually;
using webhook::testing::TempDir;

const std::string kPoller = WEBHOOK_BINARY_DIR "/poller/webhook-poller";

// kWorksQuery that also asks for the node's `x`.
const char* kWorksWithXQuery =
    "{{works(filters:{{mode:and,filters:[{{key:\"completed_time\",operator:gt,values:["
    "\"LAST_POLL_TIME\"]}}],filterGroups:[]}}){{edges{{node{{id x connector{{name}}}}}}}}}}";

std::map<std::string, std::string> fast_poller_env(const FakeOpencti& fake, const TempDir& dir) {
  return poller_process_env(fake, dir,
                            {{"WEBHOOK_GRAPHQL_POLLING_INTERVAL", "0.05"},
                             {"WEBHOOK_GRAPHQL_TIMEOUT", "5"},
                             {"WEBHOOK_GRAPHQL_QUERY", kWorksWithXQuery}});
}

Json work_now(const std::string& id) {
  SystemClock clock;
  int64_t now = clock.now_ms();
  return FakeRecords::work(id, "Import", {"done"}, now - 1000, now);
}

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::vector<store::PollRow> polls_of(const std::string& db) {
  if (!std::filesystem::exists(db)) return {};
  return open_store(db)->list_polls("default", 100000);
}

std::size_t failed_polls_saying(const std::string& db, const std::string& text) {
  std::size_t n = 0;
  for (const auto& p : polls_of(db)) {
    if (!p.record.ok && p.record.error.find(text) != std::string::npos) ++n;
  }
  return n;
}

// Issue 21.1: an item with 50,000+ nested arrays overflowed the stack in the item hash.
TEST(HostileAnswerProcess, ADeeplyNestedItemFailsEachPollWithoutCrashingThePoller) {
  FakeOpencti fake;
  TempDir dir;
  Json deep = work_now("deep");
  deep["x"] = fake.raw_json(nested_arrays(60'000));
  fake.records().add("works", deep);
  std::string db = dir.file("webhook.db");
  ChildProcess poller({kPoller}, fast_poller_env(fake, dir), dir.file("poller.log"));
  // Several polls, each recorded as failed: the poller is alive and keeps polling.
  ASSERT_TRUE(eventually([&] { return failed_polls_saying(db, "nested deeper than 1000") >= 3; }))
      << poller.output();
  EXPECT_TRUE(poller.running()) << poller.output();
  EXPECT_TRUE(open_store(db)->list_jobs({}).empty());
  auto polls = polls_of(db);
  EXPECT_NE(polls.front().record.error.find("cannot be read: arrays and objects nested deeper "
                                            "than 1000 levels (Python's json.loads failed on "
                                            "it too: RecursionError): line 1 column"),
            std::string::npos)
      << polls.front().record.error;
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(10)), 0) << poller.output();
}

// Issue 21.1: a deep value beside `data` crashed while the answer was parsed and copied.
// Once the platform answers normally again, the next poll enqueues the record.
TEST(HostileAnswerProcess, ADeepValueBesideDataFailsThatPollAndTheNextOneWorks) {
  FakeOpencti fake;
  TempDir dir;
  fake.records().add("works", work_now("w1"));
  FakeFailure deep = FakeFailure::raw_body(
      R"({"data":{"works":{"edges":[]}},"extensions":{"trace":)" + nested_arrays(100'000) + "}}");
  deep.field = "works";  // not the start's `about` request
  fake.fail_next(deep, 2);
  std::string db = dir.file("webhook.db");
  ChildProcess poller({kPoller}, fast_poller_env(fake, dir), dir.file("poller.log"));
  ASSERT_TRUE(eventually([&] { return !open_store(db)->list_jobs({}).empty(); }))
      << poller.output();
  EXPECT_EQ(failed_polls_saying(db, "nested deeper than 1000 levels"), 2u);
  auto jobs = open_store(db)->list_jobs({});
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].url, "http://receiver.test/hook?id=w1&connector=Import");
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(10)), 0) << poller.output();
}

// Issue 21.2: a lone surrogate or 1e999 made every poll fail as "not JSON", so nothing after
// the record was ever enqueued. json.loads accepted both: the poll succeeds, each record
// becomes a job, and the records after them too.
TEST(HostileAnswerProcess, RecordsPythonAcceptedNoLongerStallTheFeed) {
  FakeOpencti fake;
  TempDir dir;
  fake.records().add("works", work_now("before"));
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {R"("lone-\ud800-x")", "lone-%ED%A0%80-x"},  // requests percent-encodes it so too
      {"1e999", "inf"},
      {"-1e999", "-inf"},
      {"NaN", "nan"},
      {"-Infinity", "-inf"},
      {"1e-999", "0.0"},
  };
  for (const auto& [raw, in_url] : hostile) {
    Json record = work_now("unused");
    record["id"] = fake.raw_json(raw);
    fake.records().add("works", record);
  }
  fake.records().add("works", work_now("after"));
  std::string db = dir.file("webhook.db");
  auto env = fast_poller_env(fake, dir);
  env["WEBHOOK_GRAPHQL_POLLING_INTERVAL"] = "3600";
  ChildProcess poller({kPoller}, env, dir.file("poller.log"));
  ASSERT_TRUE(eventually([&] { return !polls_of(db).empty(); })) << poller.output();
  auto poll = polls_of(db).front().record;
  EXPECT_TRUE(poll.ok) << poll.error;
  EXPECT_EQ(poll.items_found, static_cast<int64_t>(hostile.size() + 2));
  std::set<std::string> urls;
  for (const auto& job : open_store(db)->list_jobs({})) {
    EXPECT_EQ(job.state, store::JobState::kPending) << job.url << ": " << job.last_error;
    urls.insert(job.url);
  }
  EXPECT_TRUE(urls.count("http://receiver.test/hook?id=before&connector=Import"));
  EXPECT_TRUE(urls.count("http://receiver.test/hook?id=after&connector=Import"));
  for (const auto& [raw, in_url] : hostile) {
    EXPECT_TRUE(urls.count("http://receiver.test/hook?id=" + in_url + "&connector=Import"))
        << raw << " should give id=" << in_url;
  }
  poller.signal(SIGTERM);
  EXPECT_EQ(poller.wait_for(std::chrono::seconds(10)), 0) << poller.output();
}

// A lone surrogate that reaches a body cannot be sent: the Python connector's UTF-8
// encoding raised, so that item (only that one) is a dead job saying so.
TEST(HostileAnswerProcess, ALoneSurrogateInTheBodyMakesThatItemADeadJobWithPythonsError) {
  FakeOpencti fake;
  TempDir dir;
  Json record = work_now("unused");
  record["id"] = fake.raw_json(R"("lone-\ud800-x")");
  fake.records().add("works", record);
  fake.records().add("works", work_now("fine"));
  std::string db = dir.file("webhook.db");
  auto env = fast_poller_env(fake, dir);
  env["WEBHOOK_METHOD"] = "POST";
  env["WEBHOOK_BODY"] = "id={item['node']['id']}";
  ChildProcess poller({kPoller, "--once"}, env, dir.file("poller.log"));
  ASSERT_EQ(poller.wait_for(std::chrono::seconds(20)), 0) << poller.output();
  auto jobs = open_store(db)->list_jobs({});
  ASSERT_EQ(jobs.size(), 2u);
  for (const auto& job : jobs) {
    if (job.url.find("lone") != std::string::npos) {
      EXPECT_EQ(job.state, store::JobState::kDead);
      EXPECT_EQ(job.last_error,
                "WEBHOOK_BODY: UnicodeEncodeError: 'utf-8' codec can't encode character "
                "'\\ud800' in position 8: surrogates not allowed");
      // The dead job keeps the item, as valid JSON with the escape.
      EXPECT_NE(job.body.find(R"("id":"lone-\ud800-x")"), std::string::npos) << job.body;
    } else {
      EXPECT_EQ(job.state, store::JobState::kPending);
      EXPECT_EQ(job.body, "id=fine");
    }
  }
}

// Issue 21.3: an integer beyond 64 bits reached the item as a double
// (1.2345678901234568e+29), or as an OverflowError from 2^63 on. Its exact digits now reach
// the item. (Until templates compute with such integers, rendering one may fail the job:
// the digits are then in the dead job's copy of the item.)
TEST(HostileAnswerProcess, BigIntegersKeepTheirExactDigits) {
  FakeOpencti fake;
  TempDir dir;
  const std::vector<std::string> numbers = {"123456789012345678901234567890",
                                            "18446744073709551615", "-9223372036854775809"};
  for (const auto& digits : numbers) {
    Json record = work_now("big");
    record["x"] = fake.raw_json(digits);
    fake.records().add("works", record);
  }
  auto env = fast_poller_env(fake, dir);
  env["WEBHOOK_URL"] = "http://receiver.test/hook?x={item['node']['x']}";
  ChildProcess poller({kPoller, "--once"}, env, dir.file("poller.log"));
  ASSERT_TRUE(poller.wait_for(std::chrono::seconds(20)).has_value()) << poller.output();
  auto poll = polls_of(dir.file("webhook.db")).front().record;
  EXPECT_TRUE(poll.ok) << poll.error;
  auto jobs = open_store(dir.file("webhook.db"))->list_jobs({});
  ASSERT_EQ(jobs.size(), numbers.size());
  for (const auto& digits : numbers) {
    bool found = false;
    for (const auto& job : jobs) {
      found = found || job.url.find("x=" + digits) != std::string::npos ||
              job.body.find("\"x\":" + digits) != std::string::npos;
    }
    EXPECT_TRUE(found) << digits;
  }
}

}  // namespace
}  // namespace webhook::poller::testing
